package chart

import (
	"fmt"
	"math"
	"strings"

	"github.com/NimbleMarkets/ntcharts/canvas"
	"github.com/NimbleMarkets/ntcharts/canvas/graph"
	"github.com/NimbleMarkets/ntcharts/linechart"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/tui/common"
)

// BaselinePhase is the phase name the runner gives the dense baseline's
// training.
const BaselinePhase = "baseline"

// minCanvasHeight is the fewest rows a chart is drawn in: two for the X
// axis and its labels, three for the graph.
const minCanvasHeight = 5

// curves is everything known about one phase's training.
type curves struct {
	phase        string
	epochs       int
	epoch        int // last epoch seen
	step, steps  int // last step seen
	loss         []canvas.Float64Point
	train, test  []canvas.Float64Point // y in percent
	sparsity     []canvas.Float64Point // weight sparsity at each step point, y in percent
	lastTestAcc  float64
	lastTrainAcc float64
}

// sparsityMoves reports whether the phase's sparsity changed while it
// trained (gradual pruning), which is when the loss chart draws it.
func (c *curves) sparsityMoves() bool {
	if len(c.sparsity) < 2 {
		return false
	}
	lo, hi := c.sparsity[0].Y, c.sparsity[0].Y
	for _, p := range c.sparsity {
		lo, hi = math.Min(lo, p.Y), math.Max(hi, p.Y)
	}
	return hi-lo >= 0.05 // percentage points
}

// Model is the curves pane.
type Model struct {
	common  *common.Common
	width   int
	height  int
	focused bool

	phases []*curves
	shown  int  // index into phases
	follow bool // show the newest phase as it appears

	sens   map[results.Kind]*experiments.SensitivityEvent // the latest sensitivity analysis of each kind
	view   view                                           // what the pane draws
	chosen bool                                           // the user picked the view: stop switching it

	cache string // rendered pane; "" when stale
}

// New returns an empty curves pane.
func New(c *common.Common) *Model {
	return &Model{common: c, follow: true}
}

// Reset forgets every phase (a new experiment starts).
func (m *Model) Reset() {
	m.phases, m.shown, m.follow, m.cache = nil, 0, true, ""
	m.sens, m.view, m.chosen = nil, viewCurves, false
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

// Phase is the name of the phase shown, "" before any.
func (m *Model) Phase() string {
	if len(m.phases) == 0 {
		return ""
	}
	return m.phases[m.shown].phase
}

func (m *Model) phase(name string, epochs int) *curves {
	for _, c := range m.phases {
		if c.phase == name {
			if epochs > 0 {
				c.epochs = epochs
			}
			return c
		}
	}
	c := &curves{phase: name, epochs: epochs}
	m.phases = append(m.phases, c)
	if m.follow {
		m.shown = len(m.phases) - 1
	}
	// Training after a finished sensitivity analysis: back to the curves.
	if s := m.analysis(); s != nil && s.Done && !m.chosen {
		m.view = viewCurves
	}
	return c
}

// AddStep records a smoothed batch loss at its place in the epoch.
func (m *Model) AddStep(e experiments.StepEvent) {
	c := m.phase(e.Phase, e.Epochs)
	x := float64(e.Epoch - 1)
	if e.Steps > 0 {
		x += float64(e.Step) / float64(e.Steps)
	}
	if !finite(e.Loss) {
		return
	}
	c.loss = append(c.loss, canvas.Float64Point{X: x, Y: e.Loss})
	if e.Sparsity > 0 || len(c.sparsity) > 0 {
		c.sparsity = append(c.sparsity, canvas.Float64Point{X: x, Y: 100 * e.Sparsity})
	}
	c.epoch, c.step, c.steps = e.Epoch, e.Step, e.Steps
	m.cache = ""
}

// AddEpoch records the accuracies at the end of an epoch.
func (m *Model) AddEpoch(e experiments.EpochEvent) {
	c := m.phase(e.Phase, e.Epochs)
	x := float64(e.Epoch)
	c.train = append(c.train, canvas.Float64Point{X: x, Y: 100 * e.TrainAcc})
	c.test = append(c.test, canvas.Float64Point{X: x, Y: 100 * e.TestAcc})
	c.lastTrainAcc, c.lastTestAcc = 100*e.TrainAcc, 100*e.TestAcc
	c.epoch = max(c.epoch, e.Epoch)
	m.cache = ""
}

// Init does nothing; the pane is fed by the root.
func (m *Model) Init() tea.Cmd { return nil }

// Update flips between phases with up/down when focused.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok || !m.focused || len(m.phases) == 0 {
		return m, nil
	}
	keys := m.common.Keys
	switch {
	case key.Matches(k, keys.PrevCurve):
		m.shown = max(m.shown-1, 0)
	case key.Matches(k, keys.NextCurve):
		m.shown = min(m.shown+1, len(m.phases)-1)
	default:
		return m, nil
	}
	m.follow = m.shown == len(m.phases)-1
	m.cache = ""
	return m, nil
}

// ShortHelp lists the pane's keys.
func (m *Model) ShortHelp() []key.Binding {
	if len(m.phases) < 2 {
		return nil
	}
	return []key.Binding{m.common.Keys.Curves}
}

// FullHelp lists the pane's keys.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{m.common.Keys.PrevCurve, m.common.Keys.NextCurve}}
}

// View draws the pane.
func (m *Model) View() string {
	if m.cache == "" {
		m.cache = m.render()
	}
	return m.cache
}

func (m *Model) render() string {
	if m.ShowsSensitivity() {
		return m.renderSensitivity()
	}
	st := m.common.Styles
	title, note := "Curves", "waiting for the first batch…"
	var c *curves
	if len(m.phases) > 0 {
		c = m.phases[m.shown]
		note = progress(c) + " · " + phaseTitle(c.phase)
		if len(m.phases) > 1 && m.focused {
			note = fmt.Sprintf("%d of %d · ", m.shown+1, len(m.phases)) + note
		}
	}
	if next := m.NextViewName(); next != "" {
		note = "v: " + next + " · " + note
	}
	innerW, innerH := m.width-2, m.height-2
	if innerW < 10 || innerH < 3 {
		return st.Pane(title, note, "", m.width, m.height, m.focused)
	}
	if c == nil {
		msg := st.ChartEmptyMsg.Render("Curves appear here once training starts.")
		body := lipgloss.Place(innerW, innerH, lipgloss.Center, lipgloss.Center, msg)
		return st.Pane(title, note, body, m.width, m.height, m.focused)
	}
	leftW := (innerW - 1) / 2
	rightW := innerW - 1 - leftW
	left := m.lossChart(c, leftW, innerH)
	right := m.accuracyChart(c, rightW, innerH)
	body := lipgloss.JoinHorizontal(lipgloss.Top, left, " ", right)
	return st.Pane(title, note, body, m.width, m.height, m.focused)
}

// phaseTitle names a phase for a learner.
func phaseTitle(phase string) string {
	switch {
	case phase == BaselinePhase:
		return "dense baseline"
	case strings.HasPrefix(phase, "prune-gradual "), strings.HasPrefix(phase, "lottery"):
		return phase // pruning while training, or a ticket trained afresh
	}
	return "fine-tuning " + phase
}

// progress says where the phase is: "epoch 3/10".
func progress(c *curves) string {
	switch {
	case c.epochs > 0 && c.epoch >= c.epochs && len(c.test) >= c.epochs:
		return fmt.Sprintf("%d/%d epochs", c.epochs, c.epochs)
	case c.epochs > 0:
		return fmt.Sprintf("epoch %d/%d", max(c.epoch, 1), c.epochs)
	default:
		return fmt.Sprintf("epoch %d", max(c.epoch, 1))
	}
}

// baselineTest is the final test accuracy of the baseline, the reference a
// fine-tuning run tries to win back; NaN when unknown.
func (m *Model) baselineTest() float64 {
	for _, c := range m.phases {
		if c.phase == BaselinePhase && len(c.test) > 0 {
			return c.lastTestAcc
		}
	}
	return math.NaN()
}

func (m *Model) lossChart(c *curves, w, h int) string {
	st := m.common.Styles
	title := st.ChartTitle.Render("train loss")
	sparsity := c.sparsityMoves()
	switch {
	case sparsity:
		// The sparsity schedule shares the loss chart: its top is 100%.
		last := c.sparsity[len(c.sparsity)-1].Y
		title = st.LossLine.Render("─loss") + " " + st.SparsityLine.Render(fmt.Sprintf("·sparsity %.1f%%", last))
		if w >= 36 {
			title += st.Muted.Render(" (top = 100%)")
		}
	case w >= 32:
		title += st.Muted.Render(" (smoothed) by epoch")
	case w >= 24:
		title += st.Muted.Render(" by epoch")
	}
	title = common.FitWidth(title, w)
	if len(c.loss) == 0 || h-1 < minCanvasHeight {
		msg := "no batches yet"
		if len(c.loss) > 0 {
			msg = "too short to draw"
		}
		return title + "\n" + lipgloss.Place(w, h-1, lipgloss.Center, lipgloss.Center, st.ChartEmptyMsg.Render(common.Truncate(msg, w)))
	}
	maxY := niceCeil(lossTop(c.loss) * 1.05)
	lc := newChart(st, w, h-1, float64(epochsOf(c)), 0, maxY, lossFormatter(maxY))
	// Points above the axis (the first batches) are drawn at its top.
	clip := func(p canvas.Float64Point) canvas.Float64Point { p.Y = math.Min(p.Y, maxY); return p }
	for i := 1; i < len(c.loss); i++ {
		lc.DrawBrailleLineWithStyle(clip(c.loss[i-1]), clip(c.loss[i]), st.LossLine)
	}
	if len(c.loss) == 1 {
		lc.DrawBrailleLineWithStyle(clip(c.loss[0]), clip(c.loss[0]), st.LossLine)
	}
	if sparsity {
		scale := func(p canvas.Float64Point) canvas.Float64Point { p.Y = p.Y / 100 * maxY; return p }
		for i := 1; i < len(c.sparsity); i++ {
			drawRuneLineOnEmpty(&lc, scale(c.sparsity[i-1]), scale(c.sparsity[i]), '·', st.SparsityLine)
		}
	}
	return title + "\n" + chartView(lc, h-1)
}

func (m *Model) accuracyChart(c *curves, w, h int) string {
	st := m.common.Styles
	base := math.NaN()
	if c.phase != BaselinePhase {
		base = m.baselineTest()
	}
	name := "accuracy %"
	if w < 34 {
		name = "acc %"
	}
	legend := st.ChartTitle.Render(name) + " " +
		st.TestLine.Render("•test") + " " + st.TrainLine.Render("·train")
	if !math.IsNaN(base) {
		legend += " " + st.BaselineLine.Render("┈base")
	}
	legend = common.FitWidth(legend, w)
	if len(c.test) == 0 || h-1 < minCanvasHeight {
		msg := "after the first epoch"
		if len(c.test) > 0 {
			msg = fmt.Sprintf("test %.2f%%", c.lastTestAcc)
		}
		return legend + "\n" + lipgloss.Place(w, h-1, lipgloss.Center, lipgloss.Center, st.ChartEmptyMsg.Render(common.Truncate(msg, w)))
	}
	lo, hi := 100.0, 0.0
	for _, s := range [][]canvas.Float64Point{c.test, c.train} {
		for _, p := range s {
			lo, hi = math.Min(lo, p.Y), math.Max(hi, p.Y)
		}
	}
	if !math.IsNaN(base) {
		lo, hi = math.Min(lo, base), math.Max(hi, base)
	}
	lo, hi = accuracyRange(lo, hi)
	lc := newChart(st, w, h-1, float64(epochsOf(c)), lo, hi, accFormatter(hi-lo))

	// Test accuracy: a braille line with a dot on each epoch; train accuracy
	// and the baseline reference only fill cells the test line left empty.
	for i := 1; i < len(c.test); i++ {
		lc.DrawBrailleLineWithStyle(c.test[i-1], c.test[i], st.TestLine)
	}
	for _, p := range c.test {
		lc.DrawRuneWithStyle(p, '•', st.TestLine)
	}
	for i := 1; i < len(c.train); i++ {
		drawRuneLineOnEmpty(&lc, c.train[i-1], c.train[i], '·', st.TrainLine)
	}
	for _, p := range c.train {
		drawRuneLineOnEmpty(&lc, p, p, '·', st.TrainLine)
	}
	if !math.IsNaN(base) {
		drawRuneLineOnEmpty(&lc, canvas.Float64Point{X: 0, Y: base},
			canvas.Float64Point{X: float64(epochsOf(c)), Y: base}, '┈', st.BaselineLine)
	}
	return legend + "\n" + chartView(lc, h-1)
}

// lossTop is the top of the loss axis: the largest loss once the first
// twentieth of the points is left out, so the few very high losses of the
// first batches do not flatten the rest of the curve.
func lossTop(loss []canvas.Float64Point) float64 {
	skip := len(loss) / 20
	top := 0.0
	for _, p := range loss[skip:] {
		top = math.Max(top, p.Y)
	}
	return top
}

func epochsOf(c *curves) int {
	return max(c.epochs, c.epoch, 1)
}

// newChart returns a line chart of w×h cells over epochs [0, maxX] and
// [minY, maxY], with its axes drawn and epoch labels on whole epochs.
//
// When no Y label spacing fits the graph's height evenly it is drawn one row
// shorter; View then pads it with an empty row on top (see chartView).
func newChart(st *common.Styles, w, h int, maxX, minY, maxY float64, yFmt linechart.LabelFormatter) linechart.Model {
	return newChartX(st, w, h, maxX, minY, maxY, yFmt, nil)
}

// newChartX is newChart with X labels written by xLabel (nil: the value as
// a whole number).
func newChartX(st *common.Styles, w, h int, maxX, minY, maxY float64, yFmt linechart.LabelFormatter, xLabel func(float64) string) linechart.Model {
	if gh := h - 2; gh > 4 && yLabelStep(gh) == gh {
		h--
	}
	lc := linechart.New(w, h, 0, maxX, minY, maxY,
		linechart.WithStyles(st.Axis, st.AxisLabel, st.LossLine),
		linechart.WithYLabelFormatter(yFmt),
		linechart.WithXYSteps(1, 2))
	lc.SetYStep(yLabelStep(lc.GraphHeight()))
	lc.XLabelFormatter = func(int, float64) string { return "" }
	lc.DrawXYAxisAndLabel()
	drawEpochLabels(&lc, maxX, st.AxisLabel, xLabel)
	return lc
}

// chartView is the chart's drawing, padded on top to h rows.
func chartView(lc linechart.Model, h int) string {
	return strings.Repeat("\n", max(h-lc.Canvas.Height(), 0)) + lc.View()
}

// yLabelStep spaces the Y labels so one sits on the bottom and one on the
// top row of a graph gh rows high, with one to three between when they fit
// on whole rows at least two rows apart.
func yLabelStep(gh int) int {
	for _, k := range []int{2, 3, 4} {
		if gh%k == 0 && gh/k >= 2 {
			return gh / k
		}
	}
	return max(gh, 1)
}

// drawEpochLabels writes whole-epoch labels under the X axis, each exactly
// under the column where a point at that epoch is drawn (one right of the Y
// axis, scaled to graphWidth-1 like linechart.ScaleFloat64Point). Labels are
// multiples of a step chosen so they stay about six cells apart, written by
// text (nil: as whole numbers).
func drawEpochLabels(lc *linechart.Model, maxX float64, s lipgloss.Style, text func(float64) string) {
	if text == nil {
		text = func(e float64) string { return fmt.Sprintf("%.0f", e) }
	}
	span := float64(max(lc.GraphWidth()-1, 1))
	step := niceStep(6 * maxX / span)
	row := lc.Origin().Y + 1
	next := 0 // first free column
	for e := 0.0; e <= maxX+1e-9; e += step {
		label := text(e)
		x := lc.Origin().X + 1 + int(math.Round(e*span/maxX))
		x = min(x, lc.Canvas.Width()-len(label))
		if x < next {
			continue
		}
		lc.Canvas.SetStringWithStyle(canvas.Point{X: x, Y: row}, label, s)
		next = x + len(label) + 1
	}
}

// niceStep rounds x up to 1, 2 or 5 times a power of ten (at least 1).
func niceStep(x float64) float64 {
	if x <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, f := range []float64{1, 2, 5, 10} {
		if f*p >= x {
			return f * p
		}
	}
	return 10 * p
}

// niceCeil rounds x up to two significant digits so the loss axis ends on
// a readable number.
func niceCeil(x float64) float64 {
	if x <= 0 || !finite(x) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x))-1)
	return math.Ceil(x/p) * p
}

// accuracyRange pads [lo, hi] to whole percent, at least 2 points tall,
// inside [0, 100].
func accuracyRange(lo, hi float64) (float64, float64) {
	lo, hi = math.Floor(lo-0.5), math.Ceil(hi+0.5)
	if hi-lo < 2 {
		hi = lo + 2
	}
	if lo < 0 {
		lo, hi = 0, math.Max(hi-lo, 2)
	}
	if hi > 100 {
		lo, hi = math.Max(lo-(hi-100), 0), 100
	}
	return lo, hi
}

func lossFormatter(maxY float64) linechart.LabelFormatter {
	prec := 2
	if maxY >= 10 {
		prec = 0
	} else if maxY >= 2 {
		prec = 1
	}
	return func(_ int, v float64) string { return fmt.Sprintf("%.*f", prec, v) }
}

func accFormatter(span float64) linechart.LabelFormatter {
	prec := 0
	if span < 6 {
		prec = 1
	}
	return func(_ int, v float64) string { return fmt.Sprintf("%.*f", prec, v) }
}

// drawRuneLineOnEmpty draws r along the segment f1–f2 in the chart's graph
// area, skipping cells already drawn (so it never hides the test line).
func drawRuneLineOnEmpty(lc *linechart.Model, f1, f2 canvas.Float64Point, r rune, s lipgloss.Style) {
	p1 := canvas.CanvasPointFromFloat64Point(lc.Origin(), lc.ScaleFloat64Point(f1))
	p2 := canvas.CanvasPointFromFloat64Point(lc.Origin(), lc.ScaleFloat64Point(f2))
	for _, p := range graph.GetLinePoints(p1, p2) {
		p.X++ // the graph area starts right of the Y axis
		p.Y-- // and above the X axis
		if lc.Canvas.Cell(p).Rune == 0 {
			lc.Canvas.SetCell(p, canvas.NewCellWithStyle(r, s))
		}
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Summary is a one-line text description of the shown phase, for tests and
// screen readers: "baseline: epoch 3/10, loss 0.412, test 91.20%".
func (m *Model) Summary() string {
	if len(m.phases) == 0 {
		return ""
	}
	c := m.phases[m.shown]
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", c.phase, progress(c))
	if n := len(c.loss); n > 0 {
		fmt.Fprintf(&b, ", loss %.3f", c.loss[n-1].Y)
	}
	if len(c.test) > 0 {
		fmt.Fprintf(&b, ", test %.2f%%", c.lastTestAcc)
	}
	if n := len(c.sparsity); n > 0 {
		fmt.Fprintf(&b, ", sparsity %.1f%%", c.sparsity[n-1].Y)
	}
	return b.String()
}
