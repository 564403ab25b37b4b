package chart

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/NimbleMarkets/ntcharts/canvas"
	"github.com/charmbracelet/lipgloss"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/tui/common"
)

// The sensitivity view: one line per layer, x the fraction of that layer's
// weights pruned (in percent) or its bit width (falling to the right: more
// compression), y the test accuracy with only that layer changed, no
// fine-tuning. It shows which layers tolerate compression: the curves that
// stay flat longest.

// view is what the pane draws: the training curves, or the sensitivity
// analysis of one kind. The v key cycles through them in this order.
type view int

const (
	viewCurves  view = iota
	viewPruning      // the pruning sensitivity
	viewBits         // the bit-width sensitivity
	viewCount
)

// sensitivityView is the view of the analyses of kind k.
func sensitivityView(k results.Kind) view {
	if k == results.Bits {
		return viewBits
	}
	return viewPruning
}

// kind is the kind of analysis a sensitivity view draws.
func (v view) kind() results.Kind {
	if v == viewBits {
		return results.Bits
	}
	return results.Pruning
}

// String names the view for the help and the notes.
func (v view) String() string {
	if v == viewCurves {
		return "curves"
	}
	return v.kind().String() + " sensitivity"
}

// SetSensitivity takes the latest state of a sensitivity analysis (each
// event carries every point so far); the pane keeps the latest analysis of
// each kind. It switches to an analysis's view when the analysis starts,
// and back to the curves when training starts after it, unless the user
// chose a view with NextView.
func (m *Model) SetSensitivity(e experiments.SensitivityEvent) {
	k := e.Table.Kind
	prev := m.sens[k]
	started := prev == nil || prev.Phase != e.Phase || len(e.Table.Points) < len(prev.Table.Points)
	ev := e
	ev.Table.Points = slices.Clone(e.Table.Points)
	if m.sens == nil {
		m.sens = map[results.Kind]*experiments.SensitivityEvent{}
	}
	m.sens[k] = &ev
	if started && !m.chosen {
		m.view = sensitivityView(k)
	}
	m.cache = ""
}

// HasSensitivity reports whether there is a sensitivity analysis to show.
func (m *Model) HasSensitivity() bool { return len(m.sens) > 0 }

// ShowsSensitivity reports whether the pane draws a sensitivity view.
func (m *Model) ShowsSensitivity() bool { return m.analysis() != nil }

// ShownKind is the kind of sensitivity analysis drawn, if one is.
func (m *Model) ShownKind() (results.Kind, bool) {
	if m.analysis() == nil {
		return 0, false
	}
	return m.view.kind(), true
}

// analysis is the analysis drawn, nil when the pane draws the curves.
func (m *Model) analysis() *experiments.SensitivityEvent {
	if m.view == viewCurves {
		return nil
	}
	return m.sens[m.view.kind()]
}

// next is the view after the one shown that has something to draw: the
// curves, then each kind of analysis the run has.
func (m *Model) next() view {
	for v := (m.view + 1) % viewCount; v != m.view; v = (v + 1) % viewCount {
		if v == viewCurves || m.sens[v.kind()] != nil {
			return v
		}
	}
	return m.view
}

// NextView shows the next view (curves → pruning sensitivity → bit-width
// sensitivity, skipping kinds the run does not have); it does nothing
// before a sensitivity analysis has run. From then on the pane stays on
// the views the user chooses.
func (m *Model) NextView() {
	if !m.HasSensitivity() {
		return
	}
	m.view = m.next()
	m.chosen = true
	m.cache = ""
}

// ShowCurves goes back to the training curves (esc from an analysis);
// from then on the pane stays on the views the user chooses.
func (m *Model) ShowCurves() {
	m.view, m.chosen, m.cache = viewCurves, true, ""
}

// ViewName names what the pane draws: "curves", "pruning sensitivity" or
// "bit-width sensitivity".
func (m *Model) ViewName() string {
	if m.analysis() == nil {
		return viewCurves.String()
	}
	return m.view.String()
}

// NextViewName names what NextView would show, "" when there is nothing
// to switch to.
func (m *Model) NextViewName() string {
	if !m.HasSensitivity() {
		return ""
	}
	return m.next().String()
}

// renderSensitivity draws the sensitivity view in the pane.
func (m *Model) renderSensitivity() string {
	st := m.common.Styles
	s := m.analysis()
	title := "Sensitivity"
	note := fmt.Sprintf("%d of %d points", len(s.Table.Points), len(s.Layers)*len(s.Values))
	if s.Done {
		note = "each layer " + changedWord(s.Table.Kind) + " alone, no fine-tuning"
	}
	// The curves are worth offering once there are some.
	if next := m.next(); next != viewCurves || len(m.phases) > 0 {
		note += " · v: " + next.String()
	}
	innerW, innerH := m.width-2, m.height-2
	if innerW < 10 || innerH < 3 {
		return st.Pane(title, note, "", m.width, m.height, m.focused)
	}
	legend := m.sensitivityLegend(s, innerW)
	if len(s.Table.Points) == 0 || innerH-1 < minCanvasHeight {
		msg := "the first point comes after one evaluation"
		if len(s.Table.Points) > 0 {
			msg = "too short to draw"
		}
		body := legend + "\n" + lipgloss.Place(innerW, innerH-1, lipgloss.Center, lipgloss.Center, st.ChartEmptyMsg.Render(common.Truncate(msg, innerW)))
		return st.Pane(title, note, body, m.width, m.height, m.focused)
	}

	axis := newSensitivityAxis(s)
	lo, hi := 100.0, 0.0
	for _, r := range s.Table.Points {
		lo, hi = math.Min(lo, r.TestAcc), math.Max(hi, r.TestAcc)
	}
	if s.BaseTestAcc > 0 {
		lo, hi = math.Min(lo, s.BaseTestAcc), math.Max(hi, s.BaseTestAcc)
	}
	lo, hi = accuracyRange(lo, hi)
	lc := newChartX(st, innerW, innerH-1, axis.max, lo, hi, accFormatter(hi-lo), axis.label)
	if s.BaseTestAcc > 0 {
		drawRuneLineOnEmpty(&lc, canvas.Float64Point{X: 0, Y: s.BaseTestAcc}, canvas.Float64Point{X: axis.max, Y: s.BaseTestAcc}, '┈', st.BaselineLine)
	}
	for i, layer := range s.Layers {
		style := seriesStyle(st, i)
		pts := axis.points(s.Table, layer)
		for j := 1; j < len(pts); j++ {
			lc.DrawBrailleLineWithStyle(pts[j-1], pts[j], style)
		}
		if len(pts) == 1 {
			lc.DrawBrailleLineWithStyle(pts[0], pts[0], style)
		}
	}
	body := legend + "\n" + chartView(lc, innerH-1)
	return st.Pane(title, note, body, m.width, m.height, m.focused)
}

// sensitivityLegend names each layer in its line's colour, then the axes.
func (m *Model) sensitivityLegend(s *experiments.SensitivityEvent, w int) string {
	st := m.common.Styles
	parts := []string{st.ChartTitle.Render("test acc %")}
	for i, layer := range s.Layers {
		parts = append(parts, seriesStyle(st, i).Render("─"+layer))
	}
	if s.BaseTestAcc > 0 {
		parts = append(parts, st.BaselineLine.Render("┈dense"))
	}
	by := "by % of the layer pruned"
	if s.Table.Kind == results.Bits {
		by = "by the layer's bit width"
	}
	parts = append(parts, st.Muted.Render(by))
	return common.FitWidth(strings.Join(parts, " "), w)
}

// changedWord says what a sensitivity analysis of kind k did to a layer.
func changedWord(k results.Kind) string {
	if k == results.Bits {
		return "quantized"
	}
	return "pruned"
}

// sensitivityAxis maps the swept values onto x, from no compression at 0
// to the most at max: prune ratios in percent, bit widths as the bits
// taken off the widest width tried (labelled with the width itself).
type sensitivityAxis struct {
	kind  results.Kind
	top   float64 // bits: the widest width tried
	max   float64
	label func(float64) string // nil: x as a whole number
}

func newSensitivityAxis(s *experiments.SensitivityEvent) sensitivityAxis {
	a := sensitivityAxis{kind: s.Table.Kind, max: 1}
	if len(s.Values) == 0 {
		return a
	}
	if a.kind == results.Bits {
		a.top = slices.Max(s.Values)
		a.max = max(a.top-slices.Min(s.Values), 1)
		a.label = func(x float64) string { return fmt.Sprintf("%.0f", a.top-x) }
		return a
	}
	if top := 100 * slices.Max(s.Values); top > 0 {
		a.max = top
	}
	return a
}

// x is where value v sits on the axis.
func (a sensitivityAxis) x(v float64) float64 {
	if a.kind == results.Bits {
		return a.top - v
	}
	return 100 * v
}

// points is one layer's curve, left to right.
func (a sensitivityAxis) points(t results.Sensitivity, layer string) []canvas.Float64Point {
	var pts []canvas.Float64Point
	for _, r := range t.Of(layer) {
		if finite(r.TestAcc) {
			pts = append(pts, canvas.Float64Point{X: a.x(r.Value), Y: r.TestAcc})
		}
	}
	slices.SortStableFunc(pts, func(a, b canvas.Float64Point) int {
		switch {
		case a.X < b.X:
			return -1
		case a.X > b.X:
			return 1
		}
		return 0
	})
	return pts
}

func seriesStyle(st *common.Styles, i int) lipgloss.Style {
	if len(st.Series) == 0 {
		return st.TestLine
	}
	return st.Series[i%len(st.Series)]
}

// SensitivitySummary is a one-line text description of the sensitivity
// analysis of kind k, for tests and screen readers: "fc1 95%→91.20%, fc2
// 95%→97.10%" or "fc1 2 bits→61.30%" (each layer's harshest point).
func (m *Model) SensitivitySummary(k results.Kind) string {
	s := m.sens[k]
	if s == nil {
		return ""
	}
	axis := newSensitivityAxis(s)
	var parts []string
	for _, layer := range s.Layers {
		pts := axis.points(s.Table, layer)
		if len(pts) == 0 {
			continue
		}
		last := pts[len(pts)-1]
		at := fmt.Sprintf("%.0f%%", last.X)
		if axis.kind == results.Bits {
			at = common.Bits(int(math.Round(axis.top - last.X)))
		}
		parts = append(parts, fmt.Sprintf("%s %s→%.2f%%", layer, at, last.Y))
	}
	return strings.Join(parts, ", ")
}
