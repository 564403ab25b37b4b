package table

import (
	"fmt"
	"strconv"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/table"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/tui/common"
)

// column is one column of the pane. Columns with a higher drop value are
// left out first when the pane is narrow; flex columns take the room left.
type column struct {
	title string
	right bool
	drop  int
	flex  bool
	cell  func(r results.Row) string
}

func pct(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

var columns = []column{
	{title: "technique", cell: func(r results.Row) string { return r.Technique }},
	{title: "setting", flex: true, cell: func(r results.Row) string { return r.Setting }},
	{title: "non-zero", right: true, drop: 2, cell: func(r results.Row) string { return common.Count(r.ParamsNonzero) }},
	{title: "size", right: true, cell: func(r results.Row) string { return common.Bytes(r.SizeBytes) }},
	{title: "ratio", right: true, cell: func(r results.Row) string { return common.Ratio(r.CompressionRatio) }},
	{title: "train%", right: true, drop: 2, cell: func(r results.Row) string { return pct(r.TrainAcc) }},
	{title: "test%", right: true, cell: func(r results.Row) string { return pct(r.TestAcc) }},
	{title: "Δ pp", right: true, cell: func(r results.Row) string { return common.Signed(r.DeltaAccPP, 2) }},
	{title: "gap pp", right: true, drop: 1, cell: func(r results.Row) string { return pct(r.GapPP) }},
	{title: "µs b1", right: true, drop: 3, cell: func(r results.Row) string { return latency(r.LatencyUsB1) }},
	{title: "µs b256", right: true, drop: 3, cell: func(r results.Row) string { return latency(r.LatencyUsB256) }},
}

// latency writes a measured latency, or "—" for one not measured.
func latency(m results.Measured) string {
	us, ok := m.Value()
	if !ok {
		return "—"
	}
	if us >= 1000 {
		return strconv.FormatFloat(us, 'f', 0, 64)
	}
	return strconv.FormatFloat(us, 'f', 1, 64)
}

// minSetting is the narrowest the setting column gets before other columns
// are dropped.
const minSetting = 14

// Model is the results pane.
type Model struct {
	common  *common.Common
	width   int
	height  int
	focused bool

	rows  []results.Row
	table table.Model
}

// New returns an empty results pane.
func New(c *common.Common) *Model {
	keys := table.KeyMap{
		LineUp:       c.Keys.Up,
		LineDown:     c.Keys.Down,
		PageUp:       c.Keys.PageUp,
		PageDown:     c.Keys.PageDown,
		GotoTop:      c.Keys.Top,
		GotoBottom:   c.Keys.Bottom,
		HalfPageUp:   key.NewBinding(key.WithDisabled()),
		HalfPageDown: key.NewBinding(key.WithDisabled()),
	}
	m := &Model{common: c, table: table.New(table.WithKeyMap(keys))}
	m.applyStyles()
	return m
}

func (m *Model) applyStyles() {
	st := m.common.Styles
	s := table.Styles{
		Header:   st.TableHeader.Padding(0, 1),
		Cell:     st.TableCell.Padding(0, 1),
		Selected: st.TableCell,
	}
	if m.focused {
		s.Selected = st.TableSelected
	}
	m.table.SetStyles(s)
}

// Reset forgets every row (a new experiment starts).
func (m *Model) Reset() {
	m.rows = nil
	m.relayout()
}

// Add appends a row and scrolls to it.
func (m *Model) Add(r results.Row) {
	m.rows = append(m.rows, r)
	m.relayout()
	m.table.GotoBottom()
}

// Len is the number of rows.
func (m *Model) Len() int { return len(m.rows) }

// Table returns a copy of the rows, ready to export.
func (m *Model) Table() results.Table {
	return append(results.Table(nil), m.rows...)
}

// SetSize sets the pane's outer size, frame included.
func (m *Model) SetSize(width, height int) {
	if width != m.width || height != m.height {
		m.width, m.height = width, height
		m.relayout()
	}
}

// Focus and Blur mark the pane as the one keys go to.
func (m *Model) Focus() {
	m.focused = true
	m.table.Focus()
	m.applyStyles()
}

func (m *Model) Blur() {
	m.focused = false
	m.table.Blur()
	m.applyStyles()
}

func (m *Model) Focused() bool { return m.focused }

// relayout picks the columns that fit the width and refills the table.
func (m *Model) relayout() {
	innerW := max(m.width-2, 0)
	cells, widths := m.measure()
	show := fit(widths, innerW)
	cols, rows := build(cells, widths, show)
	// Rows first when shrinking the column set, columns first when growing,
	// so the table never renders a row with more cells than columns.
	cursor := m.table.Cursor()
	if len(cols) < len(m.table.Columns()) {
		m.table.SetRows(nil)
	}
	m.table.SetColumns(cols)
	m.table.SetRows(rows)
	m.table.SetWidth(innerW)
	m.table.SetHeight(max(m.height-2, 3))
	// Put the cursor back through GotoTop and MoveDown: the table's
	// viewport offset is only kept consistent by its move methods.
	if len(rows) > 0 {
		m.table.GotoTop()
		m.table.MoveDown(min(max(cursor, 0), len(rows)-1))
	}
}

// measure renders every cell of every column, and the width of each
// column: its widest cell or title.
func (m *Model) measure() (cells [][]string, widths []int) {
	cells = make([][]string, len(m.rows))
	widths = make([]int, len(columns))
	for i, c := range columns {
		widths[i] = lipgloss.Width(c.title)
	}
	for r, row := range m.rows {
		cells[r] = make([]string, len(columns))
		for i, c := range columns {
			cells[r][i] = c.cell(row)
			widths[i] = max(widths[i], lipgloss.Width(cells[r][i]))
		}
	}
	return cells, widths
}

// fit says which columns fit in width cells, dropping the highest drop
// levels first, and widens the setting column to take the room left
// (widths is updated in place).
func fit(widths []int, width int) (show []bool) {
	// Every column costs its width plus one cell of padding each side.
	show = make([]bool, len(columns))
	used := 0
	for i, c := range columns {
		show[i] = true
		if c.flex {
			used += minSetting + 2
		} else {
			used += widths[i] + 2
		}
	}
	for level := 3; level >= 1 && used > width; level-- {
		for i := len(columns) - 1; i >= 0 && used > width; i-- {
			if show[i] && columns[i].drop == level {
				show[i] = false
				used -= widths[i] + 2
			}
		}
	}
	for i, c := range columns {
		if c.flex {
			widths[i] = max(width-used+minSetting, minSetting)
		}
	}
	return show
}

// build lays the shown columns out for the table, numbers right-aligned.
func build(cells [][]string, widths []int, show []bool) ([]table.Column, []table.Row) {
	var cols []table.Column
	var idx []int
	for i, c := range columns {
		if !show[i] {
			continue
		}
		title := c.title
		if c.right {
			title = common.PadLeft(title, widths[i])
		}
		cols = append(cols, table.Column{Title: title, Width: widths[i]})
		idx = append(idx, i)
	}
	rows := make([]table.Row, len(cells))
	for r := range cells {
		row := make(table.Row, len(idx))
		for j, i := range idx {
			row[j] = cells[r][i]
			if columns[i].right {
				row[j] = common.PadLeft(row[j], widths[i])
			}
		}
		rows[r] = row
	}
	return cols, rows
}

// Init does nothing.
func (m *Model) Init() tea.Cmd { return nil }

// Update scrolls the table when focused.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if !m.focused {
		return m, nil
	}
	var cmd tea.Cmd
	m.table, cmd = m.table.Update(msg)
	return m, cmd
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
		note = fmt.Sprintf("%d rows", n)
		if n == 1 {
			note = "1 row"
		}
		if m.table.Height() < n {
			note += fmt.Sprintf(" · row %d", m.table.Cursor()+1)
		}
	}
	if len(m.rows) == 0 {
		body := st.Muted.Render(" Rows appear as each technique finishes; " +
			"press a to add the knob preview.")
		return st.Pane("Results", note, body, m.width, m.height, m.focused)
	}
	return st.Pane("Results", note, m.table.View(), m.width, m.height, m.focused)
}
