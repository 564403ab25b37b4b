package histogram

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/NimbleMarkets/ntcharts/barchart"
	"github.com/NimbleMarkets/ntcharts/canvas"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/tui/common"
)

// levelMark marks, under the axis, a column holding a quantization level.
const levelMark = '▲'

// Model is the weight-histogram pane.
type Model struct {
	common  *common.Common
	width   int
	height  int
	focused bool

	hists []experiments.WeightHistogram // all layers first, then each layer
	shown int                           // index into hists
	label string                        // the setting the histograms are of

	cache string // rendered pane; "" when stale
}

// New returns an empty histogram pane.
func New(c *common.Common) *Model { return &Model{common: c} }

// Reset forgets the histograms (a new experiment starts).
func (m *Model) Reset() { m.hists, m.shown, m.label, m.cache = nil, 0, "", "" }

// SetData shows the histograms of a knob preview (label names its setting).
// The layer shown stays the same when the new data has it; at first it is
// the first single layer. The slice is copied.
func (m *Model) SetData(label string, hs []experiments.WeightHistogram) {
	name := ""
	if len(m.hists) > 0 {
		name = m.hists[m.shown].Layer
	}
	m.hists = append(m.hists[:0:0], hs...)
	m.label = label
	m.shown = 0
	if len(m.hists) > 1 {
		m.shown = 1
	}
	for i, h := range m.hists {
		if h.Layer == name {
			m.shown = i
		}
	}
	m.cache = ""
}

// HasData reports whether there is a histogram to draw.
func (m *Model) HasData() bool { return len(m.hists) > 0 }

// Shown is the histogram drawn, if any.
func (m *Model) Shown() (experiments.WeightHistogram, bool) {
	if len(m.hists) == 0 {
		return experiments.WeightHistogram{}, false
	}
	return m.hists[m.shown], true
}

// SetSize sets the pane's outer size, frame included.
func (m *Model) SetSize(width, height int) {
	if width != m.width || height != m.height {
		m.width, m.height, m.cache = width, height, ""
	}
}

// Focus and Blur mark the pane as the one keys go to.
func (m *Model) Focus()        { m.focused, m.cache = true, "" }
func (m *Model) Blur()         { m.focused, m.cache = false, "" }
func (m *Model) Focused() bool { return m.focused }

// Init does nothing.
func (m *Model) Init() tea.Cmd { return nil }

// Update steps through the layers with up/down when focused.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok || !m.focused || len(m.hists) == 0 {
		return m, nil
	}
	keys := m.common.Keys
	switch {
	case key.Matches(k, keys.PrevLayer):
		m.shown = (m.shown + len(m.hists) - 1) % len(m.hists)
	case key.Matches(k, keys.NextLayer):
		m.shown = (m.shown + 1) % len(m.hists)
	default:
		return m, nil
	}
	m.cache = ""
	return m, nil
}

// ShortHelp lists the pane's keys.
func (m *Model) ShortHelp() []key.Binding {
	if len(m.hists) < 2 {
		return nil
	}
	return []key.Binding{m.common.Keys.Layers}
}

// FullHelp lists the pane's keys.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{m.common.Keys.PrevLayer, m.common.Keys.NextLayer}}
}

// View draws the pane.
func (m *Model) View() string {
	if m.cache == "" {
		m.cache = m.render()
	}
	return m.cache
}

// Summary says in one line what the pane shows, for tests and screen
// readers: "fc1: 4 bits, 15 levels; 235,200 weights, 0 zero".
func (m *Model) Summary() string {
	h, ok := m.Shown()
	if !ok {
		return ""
	}
	return fmt.Sprintf("%s: %s; %s weights, %s zero", h.Layer, levelsText(h),
		common.Count(int64(h.Total)), common.Count(int64(h.Zeros)))
}

func levelsText(h experiments.WeightHistogram) string {
	switch {
	case h.Bits == 0:
		return "float32"
	case h.Levels == nil:
		return common.Bits(h.Bits) + ", levels by layer"
	}
	return fmt.Sprintf("%s, %d levels", common.Bits(h.Bits), len(h.Levels))
}

func (m *Model) render() string {
	st := m.common.Styles
	title := "Weights"
	innerW, innerH := m.width-2, m.height-2
	h, ok := m.Shown()
	if !ok {
		note := "the bit-width knob's view"
		if innerW < 10 || innerH < 3 {
			return st.Pane(title, note, "", m.width, m.height, m.focused)
		}
		msg := st.ChartEmptyMsg.Render(common.Truncate("The weight histogram appears with the knob preview.", innerW))
		return st.Pane(title, note, lipgloss.Place(innerW, innerH, lipgloss.Center, lipgloss.Center, msg), m.width, m.height, m.focused)
	}
	note := fmt.Sprintf("%s · %s", h.Layer, levelsText(h))
	if len(m.hists) > 1 && m.focused {
		note = fmt.Sprintf("%d of %d · ", m.shown+1, len(m.hists)) + note
	}
	if innerW < 10 || innerH < 3 {
		return st.Pane(title, note, "", m.width, m.height, m.focused)
	}
	legend := m.legend(h, innerW)
	chartH := innerH - 2 // the legend above, the x labels below
	if chartH < 4 {
		body := legend + "\n" + lipgloss.Place(innerW, innerH-1, lipgloss.Center, lipgloss.Center, st.ChartEmptyMsg.Render("too short to draw"))
		return st.Pane(title, note, body, m.width, m.height, m.focused)
	}
	body := legend + "\n" + m.bars(h, innerW, chartH) + "\n" + xLabels(h, innerW, st.AxisLabel)
	return st.Pane(title, note, body, m.width, m.height, m.focused)
}

// legend says what the bars and marks are.
func (m *Model) legend(h experiments.WeightHistogram, w int) string {
	st := m.common.Styles
	s := st.TestLine.Render("█") + st.Muted.Render(" weights")
	switch {
	case h.Bits == 0:
		s += st.Muted.Render(" · float32: no levels")
	case h.Levels == nil:
		s += st.Muted.Render(" · levels differ by layer: ↑/↓ picks one")
	default:
		s += "  " + st.LossLine.Render(string(levelMark)) + st.Muted.Render(fmt.Sprintf(" %d levels of channel %d, the widest", len(h.Levels), h.LevelsChannel))
	}
	if h.Zeros > 0 {
		s += st.Muted.Render(fmt.Sprintf(" · %s zeros not shown", common.Count(int64(h.Zeros))))
	}
	return common.FitWidth(s, w)
}

// columns merges the histogram's bins into w columns.
func columns(h experiments.WeightHistogram, w int) []int {
	cols := make([]int, w)
	n := len(h.Counts)
	for i, c := range h.Counts {
		cols[min(i*w/n, w-1)] += c
	}
	return cols
}

// column is the column of value x in a chart w columns wide over [Lo, Hi].
func column(h experiments.WeightHistogram, x float64, w int) int {
	if h.Hi <= h.Lo {
		return 0
	}
	return min(max(int(math.Floor((x-h.Lo)/(h.Hi-h.Lo)*float64(w))), 0), w-1)
}

// bars draws the histogram as a bar chart w×hgt: bars, the axis, and under
// it a mark at each column that holds a level; bars holding a level take
// the level colour.
func (m *Model) bars(h experiments.WeightHistogram, w, hgt int) string {
	st := m.common.Styles
	cols := columns(h, w)
	marked := make([]bool, w)
	for _, l := range h.Levels {
		marked[column(h, l, w)] = true
	}
	data := make([]barchart.BarData, w)
	top := 1.0
	for i, c := range cols {
		style := st.TestLine
		if marked[i] {
			style = st.LossLine
		}
		data[i] = barchart.BarData{Values: []barchart.BarValue{{Name: "weights", Value: float64(c), Style: style}}}
		top = math.Max(top, float64(c))
	}
	bc := barchart.New(w, hgt,
		barchart.WithNoAutoBarWidth(), barchart.WithBarWidth(1), barchart.WithBarGap(0),
		barchart.WithStyles(st.Axis, st.AxisLabel), barchart.WithMaxValue(top), barchart.WithDataSet(data))
	bc.Draw()
	row := hgt - 1 // the label row under the axis: the level marks
	for i, on := range marked {
		if on {
			bc.Canvas.SetCell(canvas.Point{X: i, Y: row}, canvas.NewCellWithStyle(levelMark, st.LossLine))
		}
	}
	return bc.View()
}

// xLabels writes the range's ends and zero under the chart.
func xLabels(h experiments.WeightHistogram, w int, s lipgloss.Style) string {
	line := []rune(strings.Repeat(" ", w))
	put := func(x int, text string) {
		x = min(max(x, 0), w-len([]rune(text)))
		for i, r := range []rune(text) {
			if x+i >= 0 && x+i < w {
				line[x+i] = r
			}
		}
	}
	lo, hi := formatWeight(h.Lo), formatWeight(h.Hi)
	put(0, lo)
	put(w/2, "0")
	put(w-len([]rune(hi)), hi)
	return s.Render(string(line))
}

func formatWeight(v float64) string {
	s := strconv.FormatFloat(v, 'g', 3, 64)
	if v > 0 {
		s = "+" + s
	}
	return s
}
