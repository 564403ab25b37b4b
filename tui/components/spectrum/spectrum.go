package spectrum

import (
	"fmt"
	"math"

	"github.com/NimbleMarkets/ntcharts/canvas"
	"github.com/NimbleMarkets/ntcharts/linechart"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/tui/common"
)

// Marks drawn over the spectrum.
const (
	cutMark    = '┃' // the rank the knob cuts at
	savingMark = '┊' // the highest rank that still saves parameters
)

// Model is the singular-value spectrum pane.
type Model struct {
	common  *common.Common
	width   int
	height  int
	focused bool

	spec *experiments.Spectrum // nil before the first one
	err  error

	cache string // rendered pane; "" when stale
}

// New returns an empty spectrum pane.
func New(c *common.Common) *Model { return &Model{common: c} }

// Reset forgets the spectrum (a new experiment starts).
func (m *Model) Reset() { m.spec, m.err, m.cache = nil, nil, "" }

// SetData shows s (its values are copied), or err when computing it failed.
func (m *Model) SetData(s experiments.Spectrum, err error) {
	m.err, m.cache = err, ""
	if err != nil {
		return
	}
	s.Values = append([]float64(nil), s.Values...)
	m.spec = &s
}

// HasData reports whether there is a spectrum (or its error) to draw.
func (m *Model) HasData() bool { return m.spec != nil || m.err != nil }

// Spectrum is the spectrum shown, nil before one.
func (m *Model) Spectrum() *experiments.Spectrum { return m.spec }

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

// Update does nothing: the rank knob moves the cut.
func (m *Model) Update(tea.Msg) (tea.Model, tea.Cmd) { return m, nil }

// ShortHelp lists the pane's keys: none.
func (m *Model) ShortHelp() []key.Binding { return nil }

// FullHelp lists the pane's keys: none.
func (m *Model) FullHelp() [][]key.Binding { return nil }

// View draws the pane.
func (m *Model) View() string {
	if m.cache == "" {
		m.cache = m.render()
	}
	return m.cache
}

// Summary says in one line what the pane shows, for tests and screen
// readers: "fc1 784→300: rank 20 keeps 61.3% of the energy; ranks ≤ 216 save
// parameters".
func (m *Model) Summary() string {
	s := m.spec
	if s == nil {
		return ""
	}
	cut := "not factorized"
	if s.Rank > 0 {
		cut = fmt.Sprintf("rank %d keeps %.1f%% of the energy", s.Rank, 100*s.EnergyKept)
	}
	return fmt.Sprintf("%s %d→%d: %s; ranks ≤ %d save parameters", s.Layer, s.In, s.Out, cut, s.MaxSavingRank)
}

func (m *Model) render() string {
	st := m.common.Styles
	title := "Spectrum"
	innerW, innerH := m.width-2, m.height-2
	s := m.spec
	note := "the rank knob's view"
	if s != nil {
		note = fmt.Sprintf("σ of %s (%d→%d)", s.Layer, s.In, s.Out)
	}
	if innerW < 10 || innerH < 3 {
		return st.Pane(title, note, "", m.width, m.height, m.focused)
	}
	empty := func(msg string, style lipgloss.Style) string {
		body := lipgloss.Place(innerW, innerH, lipgloss.Center, lipgloss.Center, style.Render(common.Truncate(msg, innerW)))
		return st.Pane(title, note, body, m.width, m.height, m.focused)
	}
	switch {
	case m.err != nil:
		return empty("spectrum: "+m.err.Error(), st.Bad)
	case s == nil || len(s.Values) == 0:
		return empty("The singular values appear once the rank knob is picked.", st.ChartEmptyMsg)
	}
	legend := m.legend(s, innerW)
	if innerH-1 < 5 {
		return st.Pane(title, note, legend, m.width, m.height, m.focused)
	}
	return st.Pane(title, note, legend+"\n"+m.chart(s, innerW, innerH-1), m.width, m.height, m.focused)
}

// legend says what the line, the cut and the marks are.
func (m *Model) legend(s *experiments.Spectrum, w int) string {
	st := m.common.Styles
	var b string
	if s.Rank > 0 {
		b = st.TestLine.Render("─") + st.Muted.Render(" kept ") + st.BaselineLine.Render("─") + st.Muted.Render(" cut ") +
			st.Warn.Render(string(cutMark)) + st.Value.Render(fmt.Sprintf(" rank %d: %.1f%% of Σσ²", s.Rank, 100*s.EnergyKept))
	} else {
		b = st.TestLine.Render("─") + st.Muted.Render(" σ₁ ≥ σ₂ ≥ …, not factorized")
	}
	switch {
	case s.MaxSavingRank > 0 && s.Rank > s.MaxSavingRank:
		b += " " + st.Bad.Render("saves no bytes") + st.Muted.Render(fmt.Sprintf(" (%c ranks ≤ %d do)", savingMark, s.MaxSavingRank))
	case s.MaxSavingRank > 0:
		b += "  " + st.Muted.Render(fmt.Sprintf("%c ranks ≤ %d save bytes", savingMark, s.MaxSavingRank))
	}
	return common.FitWidth(b, w)
}

// chart draws σ_i against i = 1…n, the kept values in the line colour, the
// cut ones dim, a vertical line at the cut and a dotted one at the highest
// rank that saves parameters.
func (m *Model) chart(s *experiments.Spectrum, w, h int) string {
	st := m.common.Styles
	n := len(s.Values)
	top := s.Values[0]
	if !(top > 0) || math.IsInf(top, 0) {
		top = 1
	}
	lc := linechart.New(w, h, 1, float64(max(n, 2)), 0, top,
		linechart.WithStyles(st.Axis, st.AxisLabel, st.TestLine),
		linechart.WithYLabelFormatter(func(_ int, v float64) string { return fmt.Sprintf("%.3g", v) }),
		linechart.WithXLabelFormatter(func(_ int, v float64) string { return fmt.Sprintf("%.0f", v) }),
		linechart.WithXYSteps(max(w/8, 1), 2))
	lc.DrawXYAxisAndLabel()
	point := func(i int) canvas.Float64Point { return canvas.Float64Point{X: float64(i + 1), Y: s.Values[i]} }
	vertical := func(rank int, r rune, style lipgloss.Style) {
		if rank < 1 || rank > n {
			return
		}
		lc.DrawRuneLineWithStyle(canvas.Float64Point{X: float64(rank), Y: 0}, canvas.Float64Point{X: float64(rank), Y: top}, r, style)
	}
	if s.MaxSavingRank > 0 && s.MaxSavingRank < n {
		vertical(s.MaxSavingRank, savingMark, st.Muted)
	}
	for i := 1; i < n; i++ {
		style := st.TestLine
		if s.Rank > 0 && i >= s.Rank {
			style = st.BaselineLine
		}
		lc.DrawBrailleLineWithStyle(point(i-1), point(i), style)
	}
	if n == 1 {
		lc.DrawBrailleLineWithStyle(point(0), point(0), st.TestLine)
	}
	if s.Rank > 0 {
		vertical(s.Rank, cutMark, st.Warn)
	}
	return lc.View()
}
