package table

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/tui/common"
)

// column is one column of the pane. Columns with a higher drop value are
// left out first when the pane is narrow (0: always shown); the setting
// column takes the room the others leave.
type column struct {
	title   string
	right   bool
	drop    int
	setting bool
	cell    func(r results.Row) string
}

func pct(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// columns in screen order. What goes first when room is short: the wall
// time and multiply-adds (shown only on wide screens), the train accuracy
// (the gap says it with the test accuracy), the non-zero count (the size
// says what it saves), the latencies, the gap.
var columns = []column{
	{title: "technique", cell: func(r results.Row) string { return r.Technique }},
	{title: "setting", setting: true, cell: func(r results.Row) string { return r.Setting }},
	{title: "non-zero", right: true, drop: 4, cell: func(r results.Row) string { return common.Count(r.ParamsNonzero) }},
	{title: "size", right: true, cell: func(r results.Row) string { return common.Bytes(r.SizeBytes) }},
	{title: "ratio", right: true, cell: func(r results.Row) string { return common.Ratio(r.CompressionRatio) }},
	{title: "train%", right: true, drop: 5, cell: func(r results.Row) string { return pct(r.TrainAcc) }},
	{title: "test%", right: true, cell: func(r results.Row) string { return pct(r.TestAcc) }},
	{title: "Δ pp", right: true, cell: func(r results.Row) string { return common.Signed(r.DeltaAccPP, 2) }},
	{title: "gap pp", right: true, drop: 1, cell: func(r results.Row) string { return pct(r.GapPP) }},
	{title: "µs b1", right: true, drop: 2, cell: func(r results.Row) string { return latency(r.LatencyUsB1) }},
	{title: "µs b256", right: true, drop: 3, cell: func(r results.Row) string { return latency(r.LatencyUsB256) }},
	{title: "MACs", right: true, drop: 6, cell: func(r results.Row) string { return common.Count(r.FLOPs) }},
	{title: "wall s", right: true, drop: 7, cell: func(r results.Row) string { return strconv.FormatFloat(r.WallS, 'f', 2, 64) }},
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

// Widths of the setting column: never narrower than minSetting, and
// columns are dropped to give it up to wantSetting cells, or three tenths
// of the pane on a narrow one (a longer setting is cut, and shown whole
// on the detail line).
const (
	minSetting  = 14
	wantSetting = 36
	gutter      = 2 // "▸ " before each row
	gap         = 2 // between columns
)

// layout is the columns shown and their widths.
type layout struct {
	cols   []column
	widths []int
}

// layout fits the columns to the pane's width: each as wide as its title
// or widest cell, the setting as wide as its widest cell when there is
// room; columns go, highest drop first, until the setting has
// min(widest, wantSetting, 3/10 of the pane) cells. Room left over stays at the right end,
// never inside the table.
func (m *Model) layout() layout {
	inner := max(m.width-2, 0)
	widths := make([]int, len(columns))
	for i, c := range columns {
		widths[i] = lipgloss.Width(c.title)
		for _, r := range m.rows {
			widths[i] = max(widths[i], lipgloss.Width(c.cell(r)))
		}
	}
	show := make([]bool, len(columns))
	setting := 0
	for i, c := range columns {
		show[i] = true
		if c.setting {
			setting = i
		}
	}
	room := func() int {
		used := gutter
		n := 0
		for i := range columns {
			if show[i] && i != setting {
				used += widths[i]
				n++
			}
		}
		return inner - used - gap*n
	}
	target := max(min(widths[setting], wantSetting, inner*3/10), minSetting)
	for level := 7; level >= 1 && room() < target; level-- {
		for i := len(columns) - 1; i >= 0 && room() < target; i-- {
			if columns[i].drop == level {
				show[i] = false
			}
		}
	}
	widths[setting] = max(min(widths[setting], room()), minSetting)
	var l layout
	for i, c := range columns {
		if show[i] {
			l.cols, l.widths = append(l.cols, c), append(l.widths, widths[i])
		}
	}
	return l
}

// settingWidth is the setting column's width.
func (l layout) settingWidth() int {
	for i, c := range l.cols {
		if c.setting {
			return l.widths[i]
		}
	}
	return 0
}

// header is the column titles, numbers' titles right-aligned.
func (l layout) header() string {
	parts := make([]string, len(l.cols))
	for i, c := range l.cols {
		parts[i] = fit(c.title, l.widths[i], c.right)
	}
	return strings.Repeat(" ", gutter) + strings.Join(parts, strings.Repeat(" ", gap))
}

// cells are row r's cells, fitted to their columns; a latency being
// measured shows as "…".
func (l layout) cells(r results.Row, measuring bool) []string {
	out := make([]string, len(l.cols))
	for i, c := range l.cols {
		text := c.cell(r)
		if measuring && strings.HasPrefix(c.title, "µs") {
			text = "…"
		}
		out[i] = fit(text, l.widths[i], c.right)
	}
	return out
}

// fit cuts s to width cells or pads it, on the left when right-aligned.
func fit(s string, width int, right bool) string {
	if lipgloss.Width(s) > width {
		return common.Truncate(s, width)
	}
	if right {
		return common.PadLeft(s, width)
	}
	return common.FitWidth(s, width)
}
