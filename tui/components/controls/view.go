package controls

import (
	"fmt"
	"math"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/tui/common"
)

// View draws the pane.
func (m *Model) View() string {
	st := m.common.Styles
	if m.trained == nil {
		body := []string{
			"",
			" " + st.Warn.Render("waiting for the baseline…"),
			"",
			st.Muted.Render(" The knobs unlock once the dense"),
			st.Muted.Render(" model is trained. Then turn them"),
			st.Muted.Render(" and watch accuracy and size move."),
		}
		return st.Pane("Knobs", "", strings.Join(body, "\n"), m.width, m.height, m.focused)
	}
	return st.Pane("Knobs", "←/→ turn · ↑/↓ pick", strings.Join(m.bodyLines(), "\n"), m.width, m.height, m.focused)
}

// bodyLines are the pane's lines in screen order; optional parts (level
// > 0) go, highest level first, when the pane is too short.
func (m *Model) bodyLines() []string {
	st := m.common.Styles
	innerW, innerH := m.width-2, m.height-2
	type part struct {
		level int
		lines []string
	}
	action := " " + st.KeyHint.Render("f") + st.Muted.Render(fmt.Sprintf(" fine-tune %d epochs · ", FineTuneEpochs)) +
		st.KeyHint.Render("a") + st.Muted.Render(" add row")
	if m.busy != "" {
		action = " " + st.Warn.Render(m.busy)
	}
	var guide []string
	for _, l := range wrap("Δ pp: change in test accuracy from the dense baseline. "+
		"gap: train minus test accuracy, how much the model overfits.", max(innerW-2, 10)) {
		guide = append(guide, " "+st.Muted.Render(l))
	}
	parts := []part{
		{0, m.knobLines(innerW)},
		{2, m.explainLines(innerW)},
		{3, []string{""}},
		{0, m.previewLines(innerW)},
		{4, m.sizeBar(innerW)},
		{3, []string{""}},
		{1, []string{action}},
		{5, append([]string{""}, guide...)},
	}
	count := func() int {
		n := 0
		for _, p := range parts {
			n += len(p.lines)
		}
		return n
	}
	for level := 5; level > 0 && count() > innerH; level-- {
		for i := range parts {
			if parts[i].level == level {
				parts[i].lines = nil
			}
		}
	}
	var lines []string
	for _, p := range parts {
		lines = append(lines, p.lines...)
	}
	return lines
}

// sizeBar draws the preview's size as a share of the baseline's.
func (m *Model) sizeBar(width int) []string {
	st := m.common.Styles
	base := m.trained.Baseline.SizeBytes
	if base <= 0 || m.eval.err != nil {
		return nil
	}
	share := math.Min(float64(m.eval.row.SizeBytes)/float64(base), 1)
	barW := max(width-27, 4)
	on := int(math.Round(share * float64(barW)))
	return []string{"   " + st.Label.Render(fmt.Sprintf("%-11s", "bytes kept")) +
		st.GaugeOn.Render(strings.Repeat("━", on)) + st.GaugeOff.Render(strings.Repeat("─", barW-on)) +
		m.figure().Render(fmt.Sprintf(" %5.1f%%", 100*share))}
}

// knobLines draws one line per knob: marker, name, value and a gauge of
// how hard it compresses (for the scope and the layer, what they mean).
func (m *Model) knobLines(width int) []string {
	st := m.common.Styles
	gaugeW := max(min(width-24, 14), 0)
	var lines []string
	for k := Knob(0); k < knobCount; k++ {
		name, value, level := m.knobText(k)
		marker := "  "
		nameStyle, valueStyle := st.Text, st.Value
		if k.Sub() {
			name, nameStyle = "  "+name, st.Muted
			if !m.subActive(k) {
				valueStyle = st.Muted
			}
		}
		if k == m.knobs.Selected {
			marker = st.Selected.Render("▸ ")
			nameStyle = st.Selected
		}
		line := " " + marker + nameStyle.Render(fmt.Sprintf("%-12s", name)) + valueStyle.Render(fmt.Sprintf("%6s", value))
		switch {
		case k.Sub():
			line += "  " + st.Muted.Render(common.Truncate(m.subHint(k), max(width-23, 0)))
		case gaugeW > 0:
			on := int(math.Round(level * float64(gaugeW)))
			line += "  " + st.GaugeOn.Render(strings.Repeat("━", on)) + st.GaugeOff.Render(strings.Repeat("─", gaugeW-on))
		}
		lines = append(lines, line)
	}
	return lines
}

// subActive reports whether a sub-knob's compression knob is on, so that
// what it sets is in force.
func (m *Model) subActive(k Knob) bool {
	if k == KnobPruneScope {
		return m.knobs.PruneRatio > 0
	}
	return m.knobs.Rank > 0
}

// subHint says what a sub-knob's value means, beside it.
func (m *Model) subHint(k Knob) string {
	if k == KnobPruneScope {
		return scopeHints[m.knobs.Scope]
	}
	t := m.knobs.RankTarget()
	if t.Layer == "" {
		return ""
	}
	return common.Shape(t.In, t.Out)
}

// knobText is a knob's name, shown value and compression level in [0, 1].
func (m *Model) knobText(k Knob) (name, value string, level float64) {
	switch k {
	case KnobPruneRatio:
		return "prune ratio", fmt.Sprintf("%.2f", m.knobs.PruneRatio), m.knobs.PruneRatio
	case KnobPruneScope:
		return "scope", m.knobs.Scope, 0
	case KnobBitWidth:
		if m.knobs.Bits == FloatBits {
			return "bit width", "32", 0
		}
		return "bit width", fmt.Sprint(m.knobs.Bits), 1 - float64(m.knobs.Bits)/FloatBits
	case KnobRankLayer:
		if t := m.knobs.RankTarget(); t.Layer != "" {
			return "layer", t.Layer, 0
		}
		return "layer", "n/a", 0
	}
	most := m.knobs.RankTarget().MaxRank()
	switch {
	case most == 0:
		return "rank", "n/a", 0
	case m.knobs.Rank == 0:
		return "rank", "off", 0
	}
	return "rank", fmt.Sprint(m.knobs.Rank), 1 - float64(m.knobs.Rank-1)/float64(most)
}

// explainLines say in words what the selected knob does right now.
func (m *Model) explainLines(width int) []string {
	st := m.common.Styles
	wrapped := wrap(m.explanation(), max(width-3, 10))
	if len(wrapped) > 4 {
		wrapped = wrapped[:4]
		wrapped[3] += "…"
	}
	var lines []string
	for _, l := range wrapped {
		lines = append(lines, "   "+st.Muted.Render(l))
	}
	return lines
}

// explanation is what the selected knob does, in a sentence or two.
func (m *Model) explanation() string {
	k := m.knobs
	switch k.Selected {
	case KnobPruneRatio:
		switch {
		case k.PruneRatio == 0:
			return "Pruning off: every weight is kept."
		case k.Scope == "global":
			return fmt.Sprintf("Zero the %.0f%% smallest-magnitude weights of the whole model, under one threshold.", 100*k.PruneRatio) + m.sparseNote()
		case k.Scope == "filters":
			return fmt.Sprintf("Remove the %.0f%% of each convolution's filters with the smallest L1 norm, and the next layer's inputs they fed: a smaller, faster network.", 100*k.PruneRatio)
		case k.Scope == "neurons":
			return fmt.Sprintf("Remove the %.0f%% of each hidden layer's neurons with the smallest L1 norm, and the next layer's inputs they fed: a smaller, faster network.", 100*k.PruneRatio)
		}
		return fmt.Sprintf("Zero the %.0f%% smallest-magnitude weights of each layer.", 100*k.PruneRatio) + m.sparseNote()
	case KnobPruneScope:
		return scopeExplanations[k.Scope]
	case KnobBitWidth:
		if k.Bits == FloatBits {
			return "Quantization off: weights stay 32-bit floats."
		}
		// Symmetric k-bit codes use ±(2^(k−1) − 1): 2^k − 1 levels; one
		// bit is binary, ±α.
		levels := 1<<k.Bits - 1
		if k.Bits == 1 {
			levels = 2
		}
		return fmt.Sprintf("Round each weight to one of %d levels per output channel (%s instead of 32).", levels, common.Bits(k.Bits))
	}
	return m.rankExplanation()
}

// scopeHints say beside the scope knob what each scope cuts.
var scopeHints = map[string]string{
	"layer":   "a cut per layer",
	"global":  "one cut for all",
	"filters": "whole filters",
	"neurons": "whole neurons",
}

// scopeExplanations say what each prune scope does.
var scopeExplanations = map[string]string{
	"layer":   "Layer: each layer loses the same share of its weights, under a threshold of its own.",
	"global":  "Global: one magnitude threshold for every layer, so layers of small weights lose more of them.",
	"filters": "Filters: whole filters of each convolution are removed, the weakest by L1 norm; the model shrinks rather than fills with zeros.",
	"neurons": "Neurons: whole neurons of each hidden dense layer are removed, the weakest by L1 norm; the model shrinks rather than fills with zeros.",
}

// sparseNote warns that zeros saved no bytes yet, once the file is sized.
func (m *Model) sparseNote() string {
	if !m.eval.pending && !m.eval.sizing && m.eval.err == nil && m.eval.row.SizeBytes >= m.trained.Baseline.SizeBytes {
		return " Zeros save bytes only once a layer is sparse enough to store as sparse rows."
	}
	return ""
}

// rankExplanation says what the rank knob and its layer do.
func (m *Model) rankExplanation() string {
	k := m.knobs
	t := k.RankTarget()
	most := t.MaxRank()
	switch {
	case t.Layer == "":
		return "No dense layer or convolution to factorize."
	case most == 0:
		return fmt.Sprintf("%s (%s) is too small: no rank saves bytes.", t.Layer, common.Shape(t.In, t.Out))
	case k.Selected == KnobRankLayer:
		return fmt.Sprintf("The rank knob factorizes %s (%s); ←/→ picks another layer. Ranks up to %d save bytes.",
			t.Layer, common.Shape(t.In, t.Out), most)
	case k.Rank == 0:
		return fmt.Sprintf("Factorization off: %s (%s) keeps full rank %d. Ranks up to %d save bytes.", t.Layer, common.Shape(t.In, t.Out), t.FullRank(), most)
	}
	return fmt.Sprintf("Replace %s (%s) by two factors of rank %d: %s weights instead of %s.", t.Layer, common.Shape(t.In, t.Out),
		k.Rank, common.Count(int64(k.Rank*(t.In+t.Out))), common.Count(int64(t.In*t.Out)))
}

// figure is the style of the preview's numbers: dim while they are still
// the last setting's (an evaluation is running).
func (m *Model) figure() lipgloss.Style {
	if m.eval.pending {
		return m.common.Styles.Muted
	}
	return m.common.Styles.Value
}

// previewLines show what the current knobs do to the baseline: the
// figures, dimmed while the evaluation of a new setting runs, or the
// evaluation's error, whole, in their place.
func (m *Model) previewLines(width int) []string {
	st := m.common.Styles
	head := " " + st.Title.Render("Preview") + " "
	switch {
	case m.eval.pending:
		head += st.Warn.Render("evaluating…") + st.Muted.Render(" (figures: last setting)")
	case m.eval.err != nil:
		head += st.Bad.Render("error")
	default:
		head += st.Muted.Render(m.eval.label)
	}
	head = common.Truncate(head, width)
	if m.eval.err != nil {
		lines := []string{head}
		for _, l := range wrap(m.eval.err.Error(), max(width-4, 10)) {
			lines = append(lines, "   "+st.Bad.Render(l))
		}
		return lines
	}
	r := m.eval.row
	base := m.trained.Baseline
	delta := st.Good
	switch {
	case m.eval.pending:
		delta = st.Muted
	case r.DeltaAccPP < -1:
		delta = st.Bad
	case r.DeltaAccPP < -0.1:
		delta = st.Warn
	}
	fig := m.figure()
	row := func(label, value, extra string) string {
		return "   " + st.Label.Render(fmt.Sprintf("%-10s", label)) + fig.Render(fmt.Sprintf("%-10s", value)) + " " + extra
	}
	return []string{
		head,
		m.testRow(row, r, delta),
		m.trainRow(row, r),
		m.sizeRow(row, r),
		row("non-zero", common.Count(r.ParamsNonzero), st.Muted.Render("of "+common.Count(max(r.ParamsTotal, base.ParamsTotal))+" params")),
	}
}

// sizeChange says how many times smaller (or larger) the model got.
func sizeChange(st *common.Styles, ratio float64) string {
	switch {
	case ratio <= 0:
		return ""
	case ratio < 0.995:
		return st.Bad.Render(common.Ratio(1/ratio) + " larger")
	case ratio < 1.005:
		return st.Muted.Render("same size")
	case ratio < 1.095: // "1.0× smaller" would say nothing
		return st.Good.Render(fmt.Sprintf("%.1f%% smaller", 100*(1-1/ratio)))
	default:
		return st.Good.Render(common.Ratio(ratio) + " smaller")
	}
}

// wrap breaks text into lines of at most width cells at spaces; a word
// longer than width is cut into pieces, so nothing is lost.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		for len([]rune(w)) > width {
			if line != "" {
				lines, line = append(lines, line), ""
			}
			lines, w = append(lines, string([]rune(w)[:width])), string([]rune(w)[width:])
		}
		switch {
		case line == "":
			line = w
		case len([]rune(line))+1+len([]rune(w)) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// testRow is the preview's test-accuracy line with its change from the
// baseline; while only the first images are scored, an estimate that says
// over how many.
func (m *Model) testRow(row func(label, value, extra string) string, r results.Row, delta lipgloss.Style) string {
	if m.eval.sizing && m.eval.testSubset > 0 {
		return row("test acc", fmt.Sprintf("≈%.1f%%", r.TestAcc), delta.Render("Δ≈"+common.Signed(r.DeltaAccPP, 1))+
			m.common.Styles.Muted.Render(" first "+common.Count(int64(m.eval.testSubset))))
	}
	return row("test acc", fmt.Sprintf("%.2f%%", r.TestAcc), delta.Render("Δ "+common.Signed(r.DeltaAccPP, 2)+" pp"))
}

// trainRow is the preview's train-accuracy line with the train/test gap,
// or a word that it is being scored (it comes with the size).
func (m *Model) trainRow(row func(label, value, extra string) string, r results.Row) string {
	if m.eval.sizing && m.eval.trainPending {
		return row("train acc", "…", m.common.Styles.Warn.Render("scoring…"))
	}
	return row("train acc", fmt.Sprintf("%.2f%%", r.TrainAcc), m.common.Styles.Muted.Render("gap "+common.Signed(r.GapPP, 2)+" pp"))
}

// sizeRow is the preview's size line: an estimate while the file is being
// sized, then the file's bytes and how much smaller it is.
func (m *Model) sizeRow(row func(label, value, extra string) string, r results.Row) string {
	if m.eval.sizing {
		return row("size", "≈"+common.Bytes(r.SizeBytes), m.common.Styles.Warn.Render("sizing the file…"))
	}
	if m.eval.pending {
		return row("size", common.Bytes(r.SizeBytes), "")
	}
	return row("size", common.Bytes(r.SizeBytes), sizeChange(m.common.Styles, r.CompressionRatio))
}
