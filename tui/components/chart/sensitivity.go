package chart

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/NimbleMarkets/ntcharts/canvas"
	"github.com/charmbracelet/lipgloss"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/tui/common"
)

// The sensitivity view: one line per layer, x the fraction of that layer's
// weights pruned (in percent), y the test accuracy with only that layer
// pruned, no fine-tuning. It shows which layers tolerate pruning: the
// curves that stay flat longest.

// view is what the pane draws.
type view int

const (
	viewCurves view = iota
	viewSensitivity
)

// SetSensitivity takes the latest state of a sensitivity analysis (each
// event carries every point so far). The pane switches to the sensitivity
// view when an analysis starts, and back to the curves when training
// starts after it, unless the user chose a view with ToggleView.
func (m *Model) SetSensitivity(e experiments.SensitivityEvent) {
	started := m.sens == nil || m.sens.Phase != e.Phase || len(e.Rows) < len(m.sens.Rows)
	ev := e
	ev.Rows = slices.Clone(e.Rows)
	m.sens = &ev
	if started && !m.chosen {
		m.view = viewSensitivity
	}
	m.cache = ""
}

// HasSensitivity reports whether there is a sensitivity analysis to show.
func (m *Model) HasSensitivity() bool { return m.sens != nil }

// ShowsSensitivity reports whether the pane draws the sensitivity view.
func (m *Model) ShowsSensitivity() bool { return m.view == viewSensitivity && m.sens != nil }

// ToggleView flips between the training curves and the sensitivity
// curves; it does nothing before a sensitivity analysis has run. From then
// on the pane stays on the view the user chose.
func (m *Model) ToggleView() {
	if m.sens == nil {
		return
	}
	if m.view == viewSensitivity {
		m.view = viewCurves
	} else {
		m.view = viewSensitivity
	}
	m.chosen = true
	m.cache = ""
}

// renderSensitivity draws the sensitivity view in the pane.
func (m *Model) renderSensitivity() string {
	st := m.common.Styles
	s := m.sens
	title := "Sensitivity"
	note := fmt.Sprintf("%d of %d points", len(s.Rows), len(s.Layers)*len(s.Ratios))
	if s.Done {
		note = "each layer pruned alone, no fine-tuning"
	}
	if len(m.phases) > 0 {
		note += " · v: curves"
	}
	innerW, innerH := m.width-2, m.height-2
	if innerW < 10 || innerH < 3 {
		return st.Pane(title, note, "", m.width, m.height, m.focused)
	}
	legend := m.sensitivityLegend(innerW)
	if len(s.Rows) == 0 || innerH-1 < minCanvasHeight {
		msg := "the first point comes after one evaluation"
		if len(s.Rows) > 0 {
			msg = "too short to draw"
		}
		body := legend + "\n" + lipgloss.Place(innerW, innerH-1, lipgloss.Center, lipgloss.Center, st.ChartEmptyMsg.Render(common.Truncate(msg, innerW)))
		return st.Pane(title, note, body, m.width, m.height, m.focused)
	}

	maxX := 100 * slices.Max(s.Ratios)
	if maxX <= 0 {
		maxX = 1
	}
	lo, hi := 100.0, 0.0
	for _, r := range s.Rows {
		lo, hi = math.Min(lo, r.TestAcc), math.Max(hi, r.TestAcc)
	}
	if s.BaseTestAcc > 0 {
		lo, hi = math.Min(lo, s.BaseTestAcc), math.Max(hi, s.BaseTestAcc)
	}
	lo, hi = accuracyRange(lo, hi)
	lc := newChart(st, innerW, innerH-1, maxX, lo, hi, accFormatter(hi-lo))
	if s.BaseTestAcc > 0 {
		drawRuneLineOnEmpty(&lc, canvas.Float64Point{X: 0, Y: s.BaseTestAcc}, canvas.Float64Point{X: maxX, Y: s.BaseTestAcc}, '┈', st.BaselineLine)
	}
	for i, layer := range s.Layers {
		style := seriesStyle(st, i)
		pts := sensitivityPoints(s.Rows, layer)
		for j := 1; j < len(pts); j++ {
			lc.DrawBrailleLineWithStyle(pts[j-1], pts[j], style)
		}
		if len(pts) == 1 {
			lc.DrawBrailleLineWithStyle(pts[0], pts[0], style)
		}
	}
	body := legend + "\n" + chartView(lc, innerH-1)
	return st.Pane(title, note, body, m.width, m.height, m.focused)
}

// sensitivityLegend names each layer in its line's colour, then the axes.
func (m *Model) sensitivityLegend(w int) string {
	st := m.common.Styles
	parts := []string{st.ChartTitle.Render("test acc %")}
	for i, layer := range m.sens.Layers {
		parts = append(parts, seriesStyle(st, i).Render("─"+layer))
	}
	if m.sens.BaseTestAcc > 0 {
		parts = append(parts, st.BaselineLine.Render("┈dense"))
	}
	parts = append(parts, st.Muted.Render("by % of the layer pruned"))
	return common.FitWidth(strings.Join(parts, " "), w)
}

// sensitivityPoints is one layer's curve in ratio order, x in percent.
func sensitivityPoints(rows experiments.SensitivityTable, layer string) []canvas.Float64Point {
	var pts []canvas.Float64Point
	for _, r := range rows {
		if r.Layer == layer && finite(r.TestAcc) {
			pts = append(pts, canvas.Float64Point{X: 100 * r.Ratio, Y: r.TestAcc})
		}
	}
	slices.SortStableFunc(pts, func(a, b canvas.Float64Point) int {
		switch {
		case a.X < b.X:
			return -1
		case a.X > b.X:
			return 1
		}
		return 0
	})
	return pts
}

func seriesStyle(st *common.Styles, i int) lipgloss.Style {
	if len(st.Series) == 0 {
		return st.TestLine
	}
	return st.Series[i%len(st.Series)]
}

// SensitivitySummary is a one-line text description of the sensitivity
// analysis, for tests and screen readers: "fc1 95%→91.20%, fc2 95%→97.10%"
// (each layer's last point).
func (m *Model) SensitivitySummary() string {
	if m.sens == nil {
		return ""
	}
	var parts []string
	for _, layer := range m.sens.Layers {
		pts := sensitivityPoints(m.sens.Rows, layer)
		if len(pts) == 0 {
			continue
		}
		last := pts[len(pts)-1]
		parts = append(parts, fmt.Sprintf("%s %.0f%%→%.2f%%", layer, last.X, last.Y))
	}
	return strings.Join(parts, ", ")
}
