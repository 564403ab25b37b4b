package layers

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// classView is what the pane shows in place of the layers when it shows
// the per-class accuracy of a result row.
type classView struct {
	names []string
	base  []float64 // the dense baseline's accuracy per class
	acc   []float64 // the row's; nil when the row has none
	label string    // the row, "prune ratio=0.90"
}

// SetClasses shows, instead of the layers, the test accuracy of each
// class (names) of the row label — acc, nil when it was not measured —
// against the dense baseline's (base).
func (m *Model) SetClasses(label string, names []string, base, acc []float64) {
	m.classes = &classView{names: names, base: base, acc: acc, label: label}
}

// ShowLayers goes back to the layers.
func (m *Model) ShowLayers() { m.classes = nil }

// ShowsClasses reports whether the pane shows per-class accuracies.
func (m *Model) ShowsClasses() bool { return m.classes != nil }

// classesView draws a line per class: its name, the row's test accuracy
// on it, the change from the dense baseline, and a bar of the accuracy.
func (m *Model) classesView() string {
	st := m.common.Styles
	c := m.classes
	innerW, innerH := m.width-2, m.height-2
	note := c.label + " · c: layers"
	if c.acc == nil {
		body := st.Muted.Render(" This row has no per-class figures (knob previews are scored on the whole test set only); " +
			"fine-tune it (f) to measure them.")
		return st.Pane("Classes", note, lipgloss.NewStyle().Width(max(innerW, 1)).Render(body), m.width, m.height, m.focused)
	}
	nameW := 5
	for _, n := range c.names {
		nameW = max(nameW, len([]rune(n)))
	}
	barW := max(innerW-nameW-24, 0)
	lines := []string{st.ColumnHeader.Render(fmt.Sprintf(" %-*s  %7s  %7s", nameW, "class", "test%", "Δ pp"))}
	for i, name := range c.names {
		if len(lines) >= innerH {
			break
		}
		if i >= len(c.acc) {
			break
		}
		line := fmt.Sprintf(" %-*s  %7.2f  ", nameW, name, c.acc[i])
		d, delta := 0.0, "       "
		if i < len(c.base) {
			d = c.acc[i] - c.base[i]
			delta = fmt.Sprintf("%+7.2f", d)
		}
		style := st.Text
		switch {
		case d > 0.005:
			style = st.Good
		case d < -0.005:
			style = st.Bad
		}
		bar := strings.Repeat("█", int(float64(barW)*c.acc[i]/100+0.5))
		lines = append(lines, st.Text.Render(line)+style.Render(delta)+"  "+st.TestLine.Render(bar))
	}
	return st.Pane("Classes", note, strings.Join(lines, "\n"), m.width, m.height, m.focused)
}
