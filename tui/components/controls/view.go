package controls

import (
	"fmt"
	"math"
	"strings"

	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/tui/common"
)

// View draws the pane.
func (m *Model) View() string {
	st := m.common.Styles
	innerW, innerH := m.width-2, m.height-2
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

	// Parts in screen order; optional ones (level > 0) go, highest level
	// first, when the pane is too short.
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
		{0, m.previewLines()},
		{4, m.sizeBar(innerW)},
		{3, []string{""}},
		{0, []string{action}},
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
	return st.Pane("Knobs", "←/→ turn · ↑/↓ pick", strings.Join(lines, "\n"), m.width, m.height, m.focused)
}

// sizeBar draws the preview's size as a share of the baseline's.
func (m *Model) sizeBar(width int) []string {
	st := m.common.Styles
	base := m.trained.Baseline.SizeBytes
	if base <= 0 {
		return nil
	}
	share := math.Min(float64(m.eval.row.SizeBytes)/float64(base), 1)
	barW := max(width-27, 4)
	on := int(math.Round(share * float64(barW)))
	return []string{"   " + st.Label.Render(fmt.Sprintf("%-11s", "bytes kept")) +
		st.GaugeOn.Render(strings.Repeat("━", on)) + st.GaugeOff.Render(strings.Repeat("─", barW-on)) +
		st.Value.Render(fmt.Sprintf(" %5.1f%%", 100*share))}
}

// knobLines draws one line per knob: marker, name, value and a gauge of
// how hard it compresses.
func (m *Model) knobLines(width int) []string {
	st := m.common.Styles
	gaugeW := max(min(width-23, 14), 0)
	var lines []string
	for k := Knob(0); k < knobCount; k++ {
		name, value, level := m.knobText(k)
		marker := "  "
		nameStyle := st.Text
		if k == m.knobs.Selected {
			marker = st.Selected.Render("▸ ")
			nameStyle = st.Selected
		}
		line := " " + marker + nameStyle.Render(fmt.Sprintf("%-12s", name)) + st.Value.Render(fmt.Sprintf("%5s", value))
		if gaugeW > 0 {
			on := int(math.Round(level * float64(gaugeW)))
			line += "  " + st.GaugeOn.Render(strings.Repeat("━", on)) + st.GaugeOff.Render(strings.Repeat("─", gaugeW-on))
		}
		lines = append(lines, line)
	}
	return lines
}

// knobText is a knob's name, shown value and compression level in [0, 1].
func (m *Model) knobText(k Knob) (name, value string, level float64) {
	switch k {
	case KnobPruneRatio:
		return "prune ratio", fmt.Sprintf("%.2f", m.knobs.PruneRatio), m.knobs.PruneRatio
	case KnobBitWidth:
		if m.knobs.Bits == FloatBits {
			return "bit width", "32", 0
		}
		return "bit width", fmt.Sprint(m.knobs.Bits), 1 - float64(m.knobs.Bits)/FloatBits
	default:
		full := m.knobs.Target.FullRank()
		if full == 0 {
			return "rank", "n/a", 0
		}
		if m.knobs.Rank == 0 {
			return "rank", "off", 0
		}
		return "rank", fmt.Sprint(m.knobs.Rank), 1 - float64(m.knobs.Rank-1)/float64(full)
	}
}

// explainLines say in words what the selected knob does right now.
func (m *Model) explainLines(width int) []string {
	st := m.common.Styles
	var text string
	switch m.knobs.Selected {
	case KnobPruneRatio:
		if m.knobs.PruneRatio == 0 {
			text = "Pruning off: every weight is kept."
		} else {
			text = fmt.Sprintf("Zero the %.0f%% smallest-magnitude weights of each layer.", 100*m.knobs.PruneRatio)
			if !m.eval.pending && !m.eval.sizing && m.eval.row.SizeBytes >= m.trained.Baseline.SizeBytes {
				text += " Zeros save bytes only once a layer is sparse enough to store as sparse rows."
			}
		}
	case KnobBitWidth:
		if m.knobs.Bits == FloatBits {
			text = "Quantization off: weights stay 32-bit floats."
		} else {
			// Symmetric k-bit codes use ±(2^(k−1) − 1): 2^k − 1 levels; one
			// bit is binary, ±α.
			levels := 1<<m.knobs.Bits - 1
			if m.knobs.Bits == 1 {
				levels = 2
			}
			text = fmt.Sprintf("Round each weight to one of %d levels per output channel (%s instead of 32).", levels, common.Bits(m.knobs.Bits))
		}
	case KnobRank:
		t := m.knobs.Target
		switch {
		case t.FullRank() == 0:
			text = "No dense layer to factorize."
		case m.knobs.Rank == 0:
			text = fmt.Sprintf("Factorization off: %s (%d→%d) keeps full rank %d.", t.Layer, t.In, t.Out, t.FullRank())
		default:
			text = fmt.Sprintf("Replace %s (%d→%d) by two factors of rank %d.", t.Layer, t.In, t.Out, m.knobs.Rank)
			// r·(in+out) weights beat in·out only up to this rank.
			if most := lowrank.MaxSavingRank(t.In, t.Out); m.knobs.Rank > most {
				text += fmt.Sprintf(" Saves bytes only up to rank %d.", most)
			}
		}
	}
	wrapped := wrap(text, max(width-3, 10))
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

// previewLines show what the current knobs do to the baseline.
func (m *Model) previewLines() []string {
	st := m.common.Styles
	head := " " + st.Title.Render("Preview") + " "
	switch {
	case m.eval.pending:
		head += st.Warn.Render("evaluating…")
	case m.eval.err != nil:
		head += st.Bad.Render("error: " + m.eval.err.Error())
	default:
		head += st.Muted.Render(m.eval.label)
	}
	r := m.eval.row
	base := m.trained.Baseline
	delta := st.Good
	switch {
	case r.DeltaAccPP < -1:
		delta = st.Bad
	case r.DeltaAccPP < -0.1:
		delta = st.Warn
	}
	row := func(label, value, extra string) string {
		return "   " + st.Label.Render(fmt.Sprintf("%-10s", label)) + st.Value.Render(fmt.Sprintf("%-10s", value)) + " " + extra
	}
	lines := []string{
		head,
		row("test acc", fmt.Sprintf("%.2f%%", r.TestAcc), delta.Render("Δ "+common.Signed(r.DeltaAccPP, 2)+" pp")),
		row("train acc", fmt.Sprintf("%.2f%%", r.TrainAcc), st.Muted.Render("gap "+common.Signed(r.GapPP, 2)+" pp")),
		m.sizeRow(row, r),
		row("non-zero", common.Count(r.ParamsNonzero), st.Muted.Render("of "+common.Count(max(r.ParamsTotal, base.ParamsTotal)))),
	}
	return lines
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
	default:
		return st.Good.Render(common.Ratio(ratio) + " smaller")
	}
}

// wrap breaks text into lines of at most width cells at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
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

// sizeRow shows the model file's size, or the estimate while it is being
// encoded.
func (m *Model) sizeRow(row func(label, value, extra string) string, r results.Row) string {
	if m.eval.sizing {
		return row("size", "≈"+common.Bytes(r.SizeBytes), m.common.Styles.Warn.Render("sizing the file…"))
	}
	return row("size", common.Bytes(r.SizeBytes), sizeChange(m.common.Styles, r.CompressionRatio))
}
