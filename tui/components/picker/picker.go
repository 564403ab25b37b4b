package picker

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/list"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/prunerlab/pruner-tui/experiments/spec"
	"github.com/prunerlab/pruner-tui/internal/printable"
	"github.com/prunerlab/pruner-tui/tui/common"
)

// Item is one experiment to choose. Spec is set for specs already loaded
// (files from the command line); presets are loaded by Name when chosen.
type Item struct {
	Name, Desc, Source string
	Spec               *spec.Spec
}

// Title and Description are escaped: a spec from a file may hold anything.
func (i Item) Title() string       { return printable.Escape(i.Name) }
func (i Item) Description() string { return printable.Escape(i.Desc) }
func (i Item) FilterValue() string { return i.Name + " " + i.Desc }

// ChosenMsg says the user picked an item.
type ChosenMsg struct{ Item Item }

// ClosedMsg says the user left the picker without choosing.
type ClosedMsg struct{}

// Model is the picker.
type Model struct {
	common *common.Common
	width  int
	height int
	list   list.Model
}

// New returns a picker over presets and extra specs.
func New(c *common.Common, presets []spec.PresetInfo, extra []spec.Spec) *Model {
	var items []list.Item
	for _, p := range presets {
		desc := p.Description
		if p.Source != "" && desc == "" {
			desc = p.Source
		}
		items = append(items, Item{Name: p.Name, Desc: desc, Source: p.Source})
	}
	for i := range extra {
		s := extra[i]
		items = append(items, Item{Name: s.Name, Desc: s.Description, Source: s.Source, Spec: &s})
	}
	d := list.NewDefaultDelegate()
	l := list.New(items, d, 0, 0)
	l.Title = "Choose an experiment"
	l.Styles.Title = c.Styles.PickerTitle
	l.SetShowHelp(false)
	l.SetStatusBarItemName("experiment", "experiments")
	// Quitting is the root's job; esc closes the picker.
	l.KeyMap.Quit = key.NewBinding(key.WithDisabled())
	l.KeyMap.ForceQuit = key.NewBinding(key.WithDisabled())
	return &Model{common: c, list: l}
}

// Len is the number of items.
func (m *Model) Len() int { return len(m.list.Items()) }

// Filtering reports whether the user is typing a filter, when keys are text.
func (m *Model) Filtering() bool { return m.list.FilterState() == list.Filtering }

// Select moves the cursor to the item named name, if any.
func (m *Model) Select(name string) {
	for i, it := range m.list.Items() {
		if it.(Item).Name == name {
			m.list.Select(i)
			return
		}
	}
}

// SetSize sets the outer size, frame included.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.list.SetSize(max(width-4, 1), max(height-2, 1))
}

// Init does nothing.
func (m *Model) Init() tea.Cmd { return nil }

// Update moves through the list; enter chooses, esc closes.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok && !m.Filtering() {
		switch {
		case key.Matches(k, m.common.Keys.Run):
			if it, ok := m.list.SelectedItem().(Item); ok {
				return m, func() tea.Msg { return ChosenMsg{Item: it} }
			}
			return m, nil
		case key.Matches(k, m.common.Keys.Back) && m.list.FilterState() == list.Unfiltered:
			return m, func() tea.Msg { return ClosedMsg{} }
		}
	}
	var cmd tea.Cmd
	m.list, cmd = m.list.Update(msg)
	return m, cmd
}

// ShortHelp lists the picker's keys.
func (m *Model) ShortHelp() []key.Binding {
	k := m.common.Keys
	return []key.Binding{m.list.KeyMap.CursorUp, m.list.KeyMap.CursorDown, m.list.KeyMap.Filter, k.Run, k.Back}
}

// FullHelp lists the picker's keys.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{m.ShortHelp(), {m.list.KeyMap.NextPage, m.list.KeyMap.PrevPage, m.list.KeyMap.ClearFilter}}
}

// View draws the picker in a frame.
func (m *Model) View() string {
	return m.common.Styles.Pane("Presets", "enter runs · esc goes back", "\n"+indent(m.list.View()), m.width, m.height, true)
}

func indent(s string) string {
	out := " "
	for _, r := range s {
		out += string(r)
		if r == '\n' {
			out += " "
		}
	}
	return out
}
