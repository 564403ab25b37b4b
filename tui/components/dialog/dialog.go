package dialog

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/prunerlab/pruner-tui/tui/common"
)

// Option is one answer: chosen by its key (e.g. "y") or by moving to it.
type Option struct {
	Keys  []string // the keys that choose it at once; the first is shown
	Label string   // "Quit", "CSV"
	Value string   // what the dialog answers
	Note  string   // said under the options while the option is selected (e.g. the path written)
}

// ChosenMsg is the answer to dialog ID: the chosen option's value, or ""
// when cancelled.
type ChosenMsg struct {
	ID    string
	Value string
}

// Model is a question awaiting an answer.
type Model struct {
	common   *common.Common
	id       string
	title    string
	body     []string
	options  []Option
	selected int
}

// New returns dialog id asking title, with body lines (wrapped to fit) and
// options; the first is selected.
func New(c *common.Common, id, title string, body []string, options ...Option) *Model {
	return &Model{common: c, id: id, title: title, body: body, options: options}
}

// ID names the question.
func (m *Model) ID() string { return m.id }

// Select makes option i the one enter chooses.
func (m *Model) Select(i int) {
	if i >= 0 && i < len(m.options) {
		m.selected = i
	}
}

// Selected is the option enter would choose.
func (m *Model) Selected() Option { return m.options[m.selected] }

// Update takes a key: an option's key chooses it, ←/→ (and tab) move,
// enter chooses the selected one, esc cancels. Its answer comes as a
// ChosenMsg.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	for _, o := range m.options {
		for _, ok := range o.Keys {
			if k.String() == ok {
				return m.answer(o.Value)
			}
		}
	}
	switch k.String() {
	case "left", "h", "shift+tab":
		m.selected = (m.selected + len(m.options) - 1) % len(m.options)
	case "right", "l", "tab":
		m.selected = (m.selected + 1) % len(m.options)
	case "enter":
		return m.answer(m.options[m.selected].Value)
	case "esc":
		return m.answer("")
	}
	return nil
}

func (m *Model) answer(v string) tea.Cmd {
	id := m.id
	return func() tea.Msg { return ChosenMsg{ID: id, Value: v} }
}

// ShortHelp lists the dialog's keys.
func (m *Model) ShortHelp() []key.Binding {
	var keys []key.Binding
	for _, o := range m.options {
		if len(o.Keys) > 0 {
			keys = append(keys, key.NewBinding(key.WithKeys(o.Keys...), key.WithHelp(o.Keys[0], strings.ToLower(o.Label))))
		}
	}
	return append(keys,
		key.NewBinding(key.WithKeys("left", "right"), key.WithHelp("←/→", "choose")),
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "confirm")),
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")))
}

// FullHelp lists the dialog's keys.
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }

// View draws the dialog as a box at most width cells wide.
func (m *Model) View(width int) string {
	st := m.common.Styles
	w := min(max(width-4, 20), 64)
	inner := w - 4
	lines := []string{st.Title.Render(m.title), ""}
	for _, b := range m.body {
		for _, l := range wrap(b, inner) {
			lines = append(lines, st.Text.Render(l))
		}
	}
	var buttons []string
	for i, o := range m.options {
		label := o.Label
		if len(o.Keys) > 0 {
			label = o.Keys[0] + " " + label
		}
		// The marker shows the choice without colour too.
		if i == m.selected {
			buttons = append(buttons, st.DialogActive.Render("▸ "+label+" "))
		} else {
			buttons = append(buttons, st.DialogButton.Render("  "+label+" "))
		}
	}
	lines = append(lines, "", strings.Join(buttons, "  "))
	if n := m.options[m.selected].Note; n != "" {
		for _, l := range wrap(n, inner) {
			lines = append(lines, st.Muted.Render(l))
		}
	}
	return st.Dialog.Width(w - 2).Render(strings.Join(lines, "\n"))
}

// Overlay draws box over bg, centred: the lines of bg around it stay.
func Overlay(bg, box string, width, height int) string {
	bgLines := strings.Split(bg, "\n")
	for len(bgLines) < height {
		bgLines = append(bgLines, "")
	}
	boxLines := strings.Split(box, "\n")
	bw := lipgloss.Width(box)
	x, y := max((width-bw)/2, 0), max((height-len(boxLines))/2, 0)
	for i, l := range boxLines {
		if y+i >= len(bgLines) {
			break
		}
		row := common.FitWidth(bgLines[y+i], width)
		bgLines[y+i] = ansi.Truncate(row, x, "") + l + ansi.TruncateLeft(row, x+bw, "")
	}
	return strings.Join(bgLines, "\n")
}

// wrap breaks text into lines of at most width cells at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		switch {
		case line == "":
			line = w
		case lipgloss.Width(line)+1+lipgloss.Width(w) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	if line != "" || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}
