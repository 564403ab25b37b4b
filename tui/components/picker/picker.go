package picker

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/prunerlab/pruner-tui/experiments/spec"
	"github.com/prunerlab/pruner-tui/tui/common"
)

// Item is one experiment to choose. Spec is set for specs already loaded
// (files from the command line); presets are loaded by Name when chosen.
type Item struct {
	Name, Desc, Source string
	Spec               *spec.Spec
}

// Path is where a spec from a file came from, the home folder written ~;
// "" for a preset.
func (i Item) Path() string {
	if i.Source == "" || strings.HasPrefix(i.Source, "preset:") {
		return ""
	}
	p := i.Source
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		if rel, err := filepath.Rel(home, p); err == nil && !strings.HasPrefix(rel, "..") && filepath.IsAbs(p) {
			p = filepath.Join("~", rel)
		}
	}
	return p
}

// ChosenMsg says the user picked an item.
type ChosenMsg struct{ Item Item }

// ClosedMsg says the user left the picker without choosing.
type ClosedMsg struct{}

// itemHeight is the lines an item takes: name, description, a blank.
const itemHeight = 3

// Model is the picker: the experiments in pages, a filter that ranks name
// matches first, and page dots.
type Model struct {
	common *common.Common
	width  int
	height int

	items     []Item
	filter    textinput.Model
	filtering bool  // typing a filter: keys are text
	matches   []int // the items shown, best first: indexes into items
	cursor    int   // index into matches
}

// New returns a picker over presets and extra specs.
func New(c *common.Common, presets []spec.PresetInfo, extra []spec.Spec) *Model {
	var items []Item
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
	f := textinput.New()
	f.Prompt = "/ "
	f.Placeholder = "name or words of the description"
	f.PromptStyle = c.Styles.PickerTitle
	m := &Model{common: c, items: items, filter: f}
	m.refilter()
	return m
}

// Len is the number of items.
func (m *Model) Len() int { return len(m.items) }

// Filtering reports whether the user is typing a filter, when keys are text.
func (m *Model) Filtering() bool { return m.filtering }

// Query is the filter as typed.
func (m *Model) Query() string { return strings.TrimSpace(m.filter.Value()) }

// Matches are the names shown, in order.
func (m *Model) Matches() []string {
	names := make([]string, len(m.matches))
	for i, j := range m.matches {
		names[i] = m.items[j].Name
	}
	return names
}

// Selected is the item under the cursor, if any.
func (m *Model) Selected() (Item, bool) {
	if m.cursor < 0 || m.cursor >= len(m.matches) {
		return Item{}, false
	}
	return m.items[m.matches[m.cursor]], true
}

// Select clears the filter and moves the cursor to the item named name,
// if any.
func (m *Model) Select(name string) {
	m.clearFilter()
	for i, j := range m.matches {
		if m.items[j].Name == name {
			m.cursor = i
		}
	}
}

// SetSize sets the outer size, frame included.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.filter.Width = max(width-12, 10)
}

// perPage is how many items a page holds.
func (m *Model) perPage() int { return max((m.height-2-listTop-2)/itemHeight, 1) }

// listTop is the line of the first item inside the frame: a blank, the
// title (or the filter), the counter, a blank.
const listTop = 4

// pages is the number of pages, and the one the cursor is on.
func (m *Model) pages() (n, page int) {
	per := m.perPage()
	return max((len(m.matches)+per-1)/per, 1), m.cursor / per
}

// Init does nothing.
func (m *Model) Init() tea.Cmd { return nil }

// Update moves through the list or edits the filter; enter chooses, esc
// clears the filter or closes the picker.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		if m.filtering {
			var cmd tea.Cmd
			m.filter, cmd = m.filter.Update(msg)
			return m, cmd
		}
		return m, nil
	}
	if m.filtering {
		return m, m.filterKey(k)
	}
	return m, m.browseKey(k)
}

// browseKey handles a key while browsing.
func (m *Model) browseKey(k tea.KeyMsg) tea.Cmd {
	keys := m.common.Keys
	per := m.perPage()
	switch {
	case key.Matches(k, keys.Run):
		return m.choose()
	case key.Matches(k, keys.Back):
		if m.Query() != "" {
			m.clearFilter()
			return nil
		}
		return func() tea.Msg { return ClosedMsg{} }
	case key.Matches(k, keys.Filter):
		m.filtering = true
		return m.filter.Focus()
	case key.Matches(k, keys.Up):
		m.Move(-1)
	case key.Matches(k, keys.Down):
		m.Move(+1)
	case key.Matches(k, keys.NextPage):
		m.cursor = min((m.cursor/per+1)*per, max(len(m.matches)-1, 0))
	case key.Matches(k, keys.PrevPage):
		m.cursor = max((m.cursor/per-1)*per, 0)
	case key.Matches(k, keys.Top):
		m.cursor = 0
	case key.Matches(k, keys.Bottom):
		m.cursor = max(len(m.matches)-1, 0)
	}
	return nil
}

// filterKey handles a key while typing a filter: enter runs the best
// match (as gum filter does), esc drops the filter, up/down move through
// the matches, anything else is text.
func (m *Model) filterKey(k tea.KeyMsg) tea.Cmd {
	switch k.String() {
	case "enter":
		m.filtering = false
		m.filter.Blur()
		return m.choose()
	case "esc":
		m.clearFilter()
		return nil
	case "up", "ctrl+p":
		m.Move(-1)
		return nil
	case "down", "ctrl+n":
		m.Move(+1)
		return nil
	}
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(k)
	m.refilter()
	return cmd
}

// Move moves the cursor n items down (up when negative), across pages.
func (m *Model) Move(n int) {
	m.cursor = min(max(m.cursor+n, 0), max(len(m.matches)-1, 0))
}

// choose sends the selected item, if any.
func (m *Model) choose() tea.Cmd {
	it, ok := m.Selected()
	if !ok {
		return nil
	}
	return func() tea.Msg { return ChosenMsg{Item: it} }
}

func (m *Model) clearFilter() {
	m.filtering = false
	m.filter.Blur()
	m.filter.SetValue("")
	m.refilter()
}

// refilter ranks the items against the filter and puts the cursor on the
// best match.
func (m *Model) refilter() {
	m.matches = rank(m.items, m.Query())
	m.cursor = 0
}

// ItemAt is the index among the matches of the item drawn on line y of
// the pane (0 is its top border), if any: a click selects it.
func (m *Model) ItemAt(y int) (int, bool) {
	line := y - 1 - listTop
	if line < 0 || line%itemHeight == itemHeight-1 {
		return 0, false
	}
	_, page := m.pages()
	i := page*m.perPage() + line/itemHeight
	if line/itemHeight >= m.perPage() || i >= len(m.matches) {
		return 0, false
	}
	return i, true
}

// SelectIndex moves the cursor to match i.
func (m *Model) SelectIndex(i int) { m.cursor = min(max(i, 0), max(len(m.matches)-1, 0)) }

// ShortHelp lists the picker's keys.
func (m *Model) ShortHelp() []key.Binding {
	k := m.common.Keys
	if m.filtering {
		return []key.Binding{k.PickMatch, k.RunMatch, k.ClearFilter}
	}
	return []key.Binding{k.Scroll, k.Pages, k.Filter, k.Run, k.Back}
}

// FullHelp lists the picker's keys.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.common.Keys
	if m.filtering {
		return [][]key.Binding{m.ShortHelp()}
	}
	return [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom}, {k.NextPage, k.PrevPage}, {k.Filter, k.Run, k.Back}}
}

// counter says how many experiments show: "14 experiments", "2 of 14
// match “agp”".
func (m *Model) counter() string {
	total := len(m.items)
	noun := "experiments"
	if total == 1 {
		noun = "experiment"
	}
	q := m.Query()
	switch {
	case q == "":
		return fmt.Sprintf("%d %s", total, noun)
	case len(m.matches) == 0:
		return fmt.Sprintf("none of %d match “%s”", total, q)
	case len(m.matches) == 1:
		return fmt.Sprintf("1 of %d matches “%s”", total, q)
	}
	return fmt.Sprintf("%d of %d match “%s”", len(m.matches), total, q)
}
