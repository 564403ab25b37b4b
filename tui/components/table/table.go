package table

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/tui/common"
)

// Model is the results pane: a table whose first row, the dense baseline
// every other row is compared with, stays pinned under the header while
// the others scroll. The selected row is marked with ▸ and the accent
// colour; a setting too long for its column is shown whole on the
// pane's last line while its row is selected.
type Model struct {
	common  *common.Common
	width   int
	height  int
	focused bool

	rows      []results.Row
	measuring map[int]bool      // rows whose latency is being measured
	classes   map[int][]float64 // rows' test accuracy per class, where measured
	cursor    int               // the selected row
	offset    int               // the first scrolled row shown, counted after the pinned ones
	epoch     int               // bumped by Reset, so late answers for old rows are dropped
}

// New returns an empty results pane.
func New(c *common.Common) *Model {
	return &Model{common: c, measuring: map[int]bool{}, classes: map[int][]float64{}}
}

// Reset forgets every row (a new experiment starts).
func (m *Model) Reset() {
	m.rows, m.measuring, m.classes, m.cursor, m.offset = nil, map[int]bool{}, map[int][]float64{}, 0, 0
	m.epoch++
}

// Epoch numbers the table: Reset starts a new one. A row index is only
// meaningful within its epoch.
func (m *Model) Epoch() int { return m.epoch }

// Add appends a row and returns its index. The selection follows new rows
// while it is on the last one (or there is none yet), so a user reading
// an older row is not scrolled away from it.
func (m *Model) Add(r results.Row) int {
	follow := len(m.rows) == 0 || m.cursor == len(m.rows)-1
	m.rows = append(m.rows, r)
	if follow {
		m.cursor = len(m.rows) - 1
	}
	m.scrollToCursor()
	return len(m.rows) - 1
}

// Replace puts r in place of row i (a measurement came in).
func (m *Model) Replace(i int, r results.Row) {
	if i >= 0 && i < len(m.rows) {
		m.rows[i] = r
	}
}

// SetClasses records row i's test accuracy on each class (percent, in
// label order).
func (m *Model) SetClasses(i int, acc []float64) {
	if i >= 0 && i < len(m.rows) && acc != nil {
		m.classes[i] = acc
	}
}

// Classes is row i's test accuracy on each class, nil when not measured.
func (m *Model) Classes(i int) []float64 { return m.classes[i] }

// Row is row i.
func (m *Model) Row(i int) (results.Row, bool) {
	if i < 0 || i >= len(m.rows) {
		return results.Row{}, false
	}
	return m.rows[i], true
}

// SetMeasuring marks row i as having its latency measured (on) or not.
func (m *Model) SetMeasuring(i int, on bool) {
	if on {
		m.measuring[i] = true
	} else {
		delete(m.measuring, i)
	}
}

// Len is the number of rows.
func (m *Model) Len() int { return len(m.rows) }

// Cursor is the selected row.
func (m *Model) Cursor() int { return m.cursor }

// Table returns a copy of the rows, ready to export.
func (m *Model) Table() results.Table {
	return append(results.Table(nil), m.rows...)
}

// SetSize sets the pane's outer size, frame included.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.scrollToCursor()
}

// Focus and Blur mark the pane as the one keys go to.
func (m *Model) Focus()        { m.focused = true }
func (m *Model) Blur()         { m.focused = false }
func (m *Model) Focused() bool { return m.focused }

// pinned is how many rows stay above the scrolling ones: the dense
// baseline, when it is the first row.
func (m *Model) pinned() int {
	if len(m.rows) > 1 && m.rows[0].Technique == "dense" {
		return 1
	}
	return 0
}

// visible is how many scrolled rows fit: the pane's inner height less the
// header, its rule, the pinned rows and the detail line when it shows.
func (m *Model) visible() int {
	n := m.height - 2 - 2 - m.pinned()
	if m.detail() != "" {
		n--
	}
	return max(n, 1)
}

// scrollToCursor moves the scrolled rows so the selected one shows.
func (m *Model) scrollToCursor() {
	m.cursor = min(max(m.cursor, 0), max(len(m.rows)-1, 0))
	p, vis := m.pinned(), m.visible()
	scrolled := len(m.rows) - p
	if c := m.cursor - p; c >= 0 {
		if c < m.offset {
			m.offset = c
		} else if c >= m.offset+vis {
			m.offset = c - vis + 1
		}
	}
	m.offset = min(max(m.offset, 0), max(scrolled-vis, 0))
}

// Move moves the selection n rows down (up when negative).
func (m *Model) Move(n int) {
	m.cursor += n
	m.scrollToCursor()
}

// Init does nothing.
func (m *Model) Init() tea.Cmd { return nil }

// Update moves the selection when focused.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok || !m.focused {
		return m, nil
	}
	keys := m.common.Keys
	switch {
	case key.Matches(k, keys.Up):
		m.Move(-1)
	case key.Matches(k, keys.Down):
		m.Move(+1)
	case key.Matches(k, keys.PageUp):
		m.Move(-m.visible())
	case key.Matches(k, keys.PageDown):
		m.Move(+m.visible())
	case key.Matches(k, keys.Top):
		m.Move(-len(m.rows))
	case key.Matches(k, keys.Bottom):
		m.Move(len(m.rows))
	}
	return m, nil
}

// RowAt is the row drawn on line y of the pane (0 is its top border), if
// any: a click selects it.
func (m *Model) RowAt(y int) (int, bool) {
	line := y - 1 - 2 // the border, the header and its rule
	p := m.pinned()
	switch {
	case line < 0 || len(m.rows) == 0:
		return 0, false
	case line < p:
		return line, true
	}
	i := p + m.offset + line - p
	if line-p >= m.visible() || i >= len(m.rows) {
		return 0, false
	}
	return i, true
}

// Select makes row i the selected one.
func (m *Model) Select(i int) {
	m.cursor = i
	m.scrollToCursor()
}

// ShortHelp lists the pane's keys.
func (m *Model) ShortHelp() []key.Binding {
	return []key.Binding{m.common.Keys.Scroll}
}

// FullHelp lists the pane's keys.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.common.Keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}}
}

// View draws the pane.
func (m *Model) View() string {
	st := m.common.Styles
	note := "one row per technique and setting"
	if n := len(m.rows); n > 0 {
		note = rowCount(n)
		if m.height-4-m.pinned() < n-m.pinned() {
			note += fmt.Sprintf(" · row %d of %d", m.cursor+1, n)
		}
	}
	if len(m.measuring) > 0 {
		note += " · measuring latency…"
	}
	if len(m.rows) == 0 {
		body := st.Muted.Render(" Rows appear as each technique finishes; " +
			"press a to add the knob preview.")
		return st.Pane("Results", note, body, m.width, m.height, m.focused)
	}
	return st.Pane("Results", note, strings.Join(m.lines(), "\n"), m.width, m.height, m.focused)
}

// rowCount says "1 row" or "n rows".
func rowCount(n int) string {
	if n == 1 {
		return "1 row"
	}
	return strconv.Itoa(n) + " rows"
}

// lines are the table's lines: header, rule, the pinned rows, the
// scrolled ones in view, and the selected row's setting in full when its
// column cuts it.
func (m *Model) lines() []string {
	st := m.common.Styles
	l := m.layout()
	out := []string{st.ColumnHeader.Render(l.header()), st.Axis.Render(strings.Repeat("─", max(m.width-2, 0)))}
	p := m.pinned()
	show := func(i int) {
		out = append(out, m.rowLine(l, i))
	}
	for i := range p {
		show(i)
	}
	for i := p + m.offset; i < len(m.rows) && i < p+m.offset+m.visible(); i++ {
		show(i)
	}
	if d := m.detail(); d != "" {
		out = append(out, st.Muted.Render(common.Truncate("  "+d, max(m.width-2, 0))))
	}
	return out
}

// detail is the selected row's setting in full when the setting column
// cuts it, "" otherwise.
func (m *Model) detail() string {
	if m.cursor < 0 || m.cursor >= len(m.rows) {
		return ""
	}
	r := m.rows[m.cursor]
	if lipgloss.Width(r.Setting) <= m.layout().settingWidth() {
		return ""
	}
	return r.Technique + ": " + r.Setting
}

// rowLine draws row i: the marker of the selected row, the cells, the Δ
// coloured by its sign.
func (m *Model) rowLine(l layout, i int) string {
	st := m.common.Styles
	r := m.rows[i]
	selected := i == m.cursor
	marker, text := "  ", st.TableCell
	switch {
	case selected && m.focused:
		marker, text = st.TableSelected.Render("▸ "), st.TableSelected
	case selected:
		marker = st.Muted.Render("▸ ")
	}
	cells := l.cells(r, m.measuring[i])
	var parts []string
	for j, c := range l.cols {
		style := text
		if c.title == "Δ pp" {
			style = deltaStyle(st, r.DeltaAccPP, text)
		}
		parts = append(parts, style.Render(cells[j]))
	}
	return marker + strings.Join(parts, "  ")
}

// deltaStyle colours a change in test accuracy by its sign as shown (two
// decimals): better green, worse red, none plain.
func deltaStyle(st *common.Styles, delta float64, plain lipgloss.Style) lipgloss.Style {
	switch s := common.Signed(delta, 2); {
	case s == "+0.00":
		return plain
	case strings.HasPrefix(s, "-"):
		return st.Bad
	default:
		return st.Good
	}
}
