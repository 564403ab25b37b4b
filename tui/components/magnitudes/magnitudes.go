package magnitudes

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

// cutMark is the threshold line drawn across the bars.
const cutMark = '┃'

// Model is the weight-magnitude pane.
type Model struct {
	common  *common.Common
	width   int
	height  int
	focused bool

	hists   []experiments.MagnitudeHistogram // all layers first, then each layer
	shown   int                              // index into hists
	label   string                           // the setting the histograms are of
	filters *experiments.Filters             // the first convolution's, drawn under the bars

	cache string // rendered pane; "" when stale
}

// New returns an empty pane.
func New(c *common.Common) *Model { return &Model{common: c} }

// Reset forgets the histograms (a new experiment starts).
func (m *Model) Reset() { m.hists, m.shown, m.label, m.filters, m.cache = nil, 0, "", nil, "" }

// SetData shows the magnitudes of a knob setting (label names it) and,
// for a model that starts with a convolution, its filters (nil for
// none). The layer shown stays the same when the new data has it; at
// first it is the first single layer. The slice is copied.
func (m *Model) SetData(label string, hs []experiments.MagnitudeHistogram, filters *experiments.Filters) {
	m.filters = filters
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

// Label is the setting the histograms are of.
func (m *Model) Label() string { return m.label }

// Shown is the histogram drawn, if any.
func (m *Model) Shown() (experiments.MagnitudeHistogram, bool) {
	if len(m.hists) == 0 {
		return experiments.MagnitudeHistogram{}, false
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
// readers: "fc1: 117,600 of 235,200 weights at or below |w| 0.0213".
func (m *Model) Summary() string {
	h, ok := m.Shown()
	if !ok {
		return ""
	}
	switch {
	case h.HasThreshold:
		return fmt.Sprintf("%s: %s of %s weights at or below |w| %s", h.Layer, common.Count(int64(h.Pruned)),
			common.Count(int64(h.Total)), formatMagnitude(h.Threshold))
	case h.Pruned > 0:
		return fmt.Sprintf("%s: %s of %s weights pruned, a cut per layer", h.Layer, common.Count(int64(h.Pruned)), common.Count(int64(h.Total)))
	}
	return fmt.Sprintf("%s: %s weights, none pruned", h.Layer, common.Count(int64(h.Total)))
}

func (m *Model) render() string {
	st := m.common.Styles
	title := "Magnitudes"
	innerW, innerH := m.width-2, m.height-2
	h, ok := m.Shown()
	if !ok {
		note := "the prune knob's view"
		if innerW < 10 || innerH < 3 {
			return st.Pane(title, note, "", m.width, m.height, m.focused)
		}
		msg := st.ChartEmptyMsg.Render(common.Truncate("The weights' magnitudes appear with the knob preview.", innerW))
		return st.Pane(title, note, lipgloss.Place(innerW, innerH, lipgloss.Center, lipgloss.Center, msg), m.width, m.height, m.focused)
	}
	note := "|w| of " + h.Layer
	if m.label != "" {
		note += " · " + m.label
	}
	if len(m.hists) > 1 && m.focused {
		note = fmt.Sprintf("%d of %d · ", m.shown+1, len(m.hists)) + note
	}
	if innerW < 10 || innerH < 3 {
		return st.Pane(title, note, "", m.width, m.height, m.focused)
	}
	legend := m.legend(h, innerW)
	// The filter images take the bottom, one band of filters or more,
	// when the bars keep 6 rows.
	var images []string
	if m.filters != nil {
		for bands := 3; bands > 0; bands-- {
			if rows := filterRows(m.filters, innerW, bands); innerH-2-rows-1 >= 6 {
				images = m.filterView(m.filters, innerW, rows)
				break
			}
		}
	}
	chartH := innerH - 2 // the legend above, the x labels below
	if len(images) > 0 {
		chartH -= len(images) + 1
	}
	if chartH < 4 {
		body := legend + "\n" + lipgloss.Place(innerW, innerH-1, lipgloss.Center, lipgloss.Center, st.ChartEmptyMsg.Render("too short to draw"))
		return st.Pane(title, note, body, m.width, m.height, m.focused)
	}
	body := legend + "\n" + m.bars(h, innerW, chartH) + "\n" + xLabels(h, innerW, st.AxisLabel)
	if len(images) > 0 {
		body += "\n\n" + strings.Join(images, "\n")
	}
	return st.Pane(title, note, body, m.width, m.height, m.focused)
}

// legend says what the bars and the line are.
func (m *Model) legend(h experiments.MagnitudeHistogram, w int) string {
	st := m.common.Styles
	s := st.TestLine.Render("█") + st.Muted.Render(" kept ") + st.BaselineLine.Render("█") + st.Muted.Render(" pruned")
	share := func() string {
		return fmt.Sprintf(": %.1f%% of %s", 100*float64(h.Pruned)/float64(max(h.Total, 1)), common.Count(int64(h.Total)))
	}
	switch {
	case h.HasThreshold:
		s += "  " + st.Warn.Render(string(cutMark)) + st.Value.Render(" |w| ≤ "+formatMagnitude(h.Threshold)) + st.Muted.Render(share())
	case h.Whole != "":
		s += st.Muted.Render(" · whole " + h.Whole + " removed, not small weights")
	case h.Pruned > 0:
		s += st.Muted.Render(" · a cut per layer: ↑/↓ picks one" + share())
	default:
		s += st.Muted.Render(" · nothing pruned: turn the prune ratio")
	}
	return common.FitWidth(s, w)
}

// columns merges the histogram's bins into w columns.
func columns(h experiments.MagnitudeHistogram, w int) []int {
	cols := make([]int, w)
	n := len(h.Counts)
	for i, c := range h.Counts {
		cols[min(i*w/n, w-1)] += c
	}
	return cols
}

// column is the column of magnitude x in a chart w columns wide over [0, Hi].
func column(h experiments.MagnitudeHistogram, x float64, w int) int {
	if h.Hi <= 0 {
		return 0
	}
	return min(max(int(math.Floor(x/h.Hi*float64(w))), 0), w-1)
}

// bars draws the histogram as a bar chart w×hgt: the bars at or left of
// the threshold's column dim (pruned), the rest in colour, and the
// threshold as a line through the chart.
func (m *Model) bars(h experiments.MagnitudeHistogram, w, hgt int) string {
	st := m.common.Styles
	cols := columns(h, w)
	cut := -1
	if h.HasThreshold {
		cut = column(h, h.Threshold, w)
	}
	data := make([]barchart.BarData, w)
	top := 1.0
	for i, c := range cols {
		style := st.TestLine
		if i < cut {
			style = st.BaselineLine
		}
		data[i] = barchart.BarData{Values: []barchart.BarValue{{Name: "weights", Value: float64(c), Style: style}}}
		top = math.Max(top, float64(c))
	}
	bc := barchart.New(w, hgt,
		barchart.WithNoAutoBarWidth(), barchart.WithBarWidth(1), barchart.WithBarGap(0),
		barchart.WithStyles(st.Axis, st.AxisLabel), barchart.WithMaxValue(top), barchart.WithDataSet(data))
	bc.Draw()
	if cut >= 0 {
		for y := 0; y < hgt-2; y++ { // the axis and its label row below
			bc.Canvas.SetCell(canvas.Point{X: cut, Y: y}, canvas.NewCellWithStyle(cutMark, st.Warn))
		}
	}
	return bc.View()
}

// xLabels writes 0, the threshold under its line, and the largest
// magnitude under the chart.
func xLabels(h experiments.MagnitudeHistogram, w int, s lipgloss.Style) string {
	line := []rune(strings.Repeat(" ", w))
	put := func(x int, text string) {
		x = min(max(x, 0), w-len([]rune(text)))
		for i, r := range []rune(text) {
			if x+i >= 0 && x+i < w {
				line[x+i] = r
			}
		}
	}
	hi := formatMagnitude(h.Hi)
	put(0, "0")
	put(w-len([]rune(hi)), hi)
	if h.HasThreshold {
		label := formatMagnitude(h.Threshold)
		x := column(h, h.Threshold, w) - len([]rune(label))/2
		if x > 1 && x+len([]rune(label)) < w-len([]rune(hi))-1 {
			put(x, label)
		}
	}
	return s.Render(string(line))
}

func formatMagnitude(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }
