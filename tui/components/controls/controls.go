package controls

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/tui/common"
)

// Knob is one of the three compression knobs.
type Knob int

const (
	KnobPruneRatio Knob = iota
	KnobBitWidth
	KnobRank
	knobCount
)

// Steps of the knobs.
const (
	PruneCoarse   = 0.05
	PruneFine     = 0.01
	MaxPruneRatio = 0.99
	FloatBits     = 32 // bit width shown when quantization is off
)

// bitWidths is the bit-width knob from off to most compressed.
var bitWidths = []int{FloatBits, 8, 7, 6, 5, 4, 3, 2, 1}

// FineTuneEpochs is how long the f key fine-tunes the knob setting.
const FineTuneEpochs = 2

// DefaultDebounce is how long the knobs must rest before an evaluation
// starts. It is 0: every change starts at once and cancels the evaluation
// before it, which stops within one chunk of rows, so holding an arrow key
// costs little and a single press answers soonest.
const DefaultDebounce = 0

// EvalStartMsg says the knobs of generation Gen have rested for the
// debounce time: start evaluating if nothing changed since.
type EvalStartMsg struct{ Gen int }

// EvalResultMsg is the first answer of Trained.Preview for generation
// Gen: accuracies, with sizes estimated. Sized, when set, encodes the model
// file for the exact sizes (a SizeResultMsg).
type EvalResultMsg struct {
	Gen   int
	Eval  experiments.Evaluation
	Err   error
	Sized func() (experiments.Evaluation, error)
}

// SizeResultMsg is the second answer for generation Gen: the Evaluation
// with the model file's exact sizes.
type SizeResultMsg struct {
	Gen  int
	Eval experiments.Evaluation
	Err  error
}

// Model is the knobs pane.
type Model struct {
	common  *common.Common
	width   int
	height  int
	focused bool

	// Debounce is the rest time before an evaluation starts; 0 starts at
	// once (tests).
	Debounce time.Duration

	trained *experiments.Trained
	// The layer the rank knob factorizes and its full rank.
	rankLayer       string
	rankIn, rankOut int
	fullRank        int

	selected   Knob
	pruneRatio float64
	bits       int // FloatBits when off
	rank       int // 0 when off

	gen     int
	cancel  context.CancelFunc // cancels the evaluation in flight
	pending bool               // knobs changed, answer not in yet
	sizing  bool               // accuracies in, the model file's size not yet

	preview        results.Row
	previewSetting experiments.Setting
	previewLabel   string
	previewErr     error
	busy           string // what else runs on the model, e.g. a fine-tune
}

// New returns a knobs pane waiting for the baseline.
func New(c *common.Common) *Model {
	return &Model{common: c, Debounce: DefaultDebounce, bits: FloatBits}
}

// Reset cancels any evaluation and waits for a new baseline.
func (m *Model) Reset() {
	m.Cancel()
	debounce, focused, w, h := m.Debounce, m.focused, m.width, m.height
	gen := m.gen + 1 // answers still in flight stay stale
	*m = Model{common: m.common, Debounce: debounce, focused: focused, width: w, height: h, bits: FloatBits, gen: gen}
}

// Cancel stops the evaluation in flight, if any.
func (m *Model) Cancel() {
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
}

// SetTrained unlocks the knobs on a trained baseline. The knobs start off,
// and the preview is the baseline itself.
func (m *Model) SetTrained(t *experiments.Trained) {
	m.Cancel()
	m.gen++
	m.trained = t
	m.pruneRatio, m.bits, m.rank, m.pending = 0, FloatBits, 0, false
	m.preview, m.previewSetting, m.previewErr = t.Baseline, experiments.Setting{}, nil
	m.previewLabel = "dense baseline, all knobs off"
	m.rankLayer, m.rankIn, m.rankOut, m.fullRank = "", 0, 0, 0
	// The rank knob factorizes the dense layer with the most weights: the
	// one where a low rank can save the most.
	if t.Model != nil {
		for _, l := range t.Model.Layers {
			if d, ok := l.(*nn.Dense); ok && d.In*d.Out > m.rankIn*m.rankOut {
				m.rankLayer, m.rankIn, m.rankOut, m.fullRank = d.LayerName, d.In, d.Out, min(d.In, d.Out)
			}
		}
	}
}

// Ready reports whether the baseline has arrived.
func (m *Model) Ready() bool { return m.trained != nil }

// Trained is the baseline the knobs apply to, nil before it arrives.
func (m *Model) Trained() *experiments.Trained { return m.trained }

// Generation is the number of the current knob setting.
func (m *Model) Generation() int { return m.gen }

// Pending reports whether an evaluation of the current knobs is running.
func (m *Model) Pending() bool { return m.pending }

// Selected is the knob up/down moves between.
func (m *Model) Selected() Knob { return m.selected }

// RankLayer is the dense layer the rank knob factorizes ("" before the
// baseline, or when the model has none).
func (m *Model) RankLayer() string { return m.rankLayer }

// Rank is the rank knob's value, 0 when off.
func (m *Model) Rank() int { return m.rank }

// Setting is the current knob setting.
func (m *Model) Setting() experiments.Setting {
	s := experiments.Setting{PruneRatio: m.pruneRatio, Rank: m.rank}
	if m.bits != FloatBits {
		s.Bits = m.bits
	}
	if m.rank > 0 {
		s.RankLayer = m.rankLayer
	}
	return s
}

// Preview is the last accepted evaluation's row and whether it matches the
// knobs on screen (false while an evaluation is pending or failed).
func (m *Model) Preview() (results.Row, bool) {
	return m.preview, m.trained != nil && !m.pending && !m.sizing && m.previewErr == nil
}

// SetBusy shows what else is running on the model ("" for nothing).
func (m *Model) SetBusy(s string) { m.busy = s }

// SetSize sets the pane's outer size, frame included.
func (m *Model) SetSize(width, height int) { m.width, m.height = width, height }

// Focus and Blur mark the pane as the one keys go to.
func (m *Model) Focus()        { m.focused = true }
func (m *Model) Blur()         { m.focused = false }
func (m *Model) Focused() bool { return m.focused }

// Init does nothing.
func (m *Model) Init() tea.Cmd { return nil }

// Update turns the knobs (from any pane), moves between them (when
// focused), starts evaluations and takes in their answers.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		return m, m.handleKey(msg)
	case EvalStartMsg:
		if msg.Gen != m.gen || m.trained == nil {
			return m, nil
		}
		return m, m.startEval()
	case EvalResultMsg:
		if msg.Gen != m.gen || m.trained == nil {
			return m, nil // an answer for knobs no longer on screen
		}
		m.Cancel()
		m.pending = false
		if msg.Err != nil {
			if !errors.Is(msg.Err, context.Canceled) {
				m.previewErr = msg.Err
			}
			return m, nil
		}
		m.preview, m.previewSetting, m.previewErr = msg.Eval.Row, msg.Eval.Setting, nil
		m.previewLabel = settingLabel(msg.Eval.Setting)
		if msg.Sized != nil {
			m.sizing = true
			gen, sized := msg.Gen, msg.Sized
			return m, func() tea.Msg {
				ev, err := sized()
				return SizeResultMsg{Gen: gen, Eval: ev, Err: err}
			}
		}
	case SizeResultMsg:
		if msg.Gen != m.gen || m.trained == nil {
			return m, nil
		}
		m.sizing = false
		if msg.Err != nil {
			m.previewErr = msg.Err
			return m, nil
		}
		m.preview = msg.Eval.Row
	}
	return m, nil
}

func (m *Model) handleKey(k tea.KeyMsg) tea.Cmd {
	if m.trained == nil {
		return nil
	}
	keys := m.common.Keys
	switch {
	case key.Matches(k, keys.More):
		return m.turn(+1, false)
	case key.Matches(k, keys.Less):
		return m.turn(-1, false)
	case key.Matches(k, keys.MoreFine):
		return m.turn(+1, true)
	case key.Matches(k, keys.LessFine):
		return m.turn(-1, true)
	case m.focused && key.Matches(k, keys.KnobPrev):
		m.selected = (m.selected + knobCount - 1) % knobCount
	case m.focused && key.Matches(k, keys.KnobNext):
		m.selected = (m.selected + 1) % knobCount
	}
	return nil
}

// turn moves the selected knob one step towards more (dir>0) or less
// compression, and starts a new evaluation if its value changed.
func (m *Model) turn(dir int, fine bool) tea.Cmd {
	before := m.Setting()
	switch m.selected {
	case KnobPruneRatio:
		step := PruneCoarse
		if fine {
			step = PruneFine
		}
		r := math.Round((m.pruneRatio+float64(dir)*step)*100) / 100
		m.pruneRatio = math.Min(math.Max(r, 0), MaxPruneRatio)
	case KnobBitWidth:
		i := 0
		for j, b := range bitWidths {
			if b == m.bits {
				i = j
			}
		}
		m.bits = bitWidths[min(max(i+dir, 0), len(bitWidths)-1)]
	case KnobRank:
		m.rank = nextRank(m.rank, m.fullRank, dir, fine)
	}
	if m.Setting() == before {
		return nil
	}
	return m.changed()
}

// RankStep is the coarse step of the rank knob: about 16 steps over the
// full rank.
func RankStep(fullRank int) int { return max(fullRank/16, 1) }

// nextRank moves the rank knob. Its scale runs off → full rank → … → 1:
// more compression means a lower rank. Coarse steps snap to multiples of
// RankStep.
func nextRank(rank, fullRank, dir int, fine bool) int {
	if fullRank <= 0 {
		return 0
	}
	step := 1
	if !fine {
		step = RankStep(fullRank)
	}
	if dir > 0 { // lower rank
		switch {
		case rank == 0:
			return fullRank
		case step == 1:
			return max(rank-1, 1)
		default:
			return max((rank-1)/step*step, 1)
		}
	}
	if rank == 0 {
		return 0
	}
	if step > 1 {
		rank = (rank/step + 1) * step
	} else {
		rank++
	}
	if rank > fullRank {
		return 0
	}
	return rank
}

// changed starts a new generation: the evaluation in flight is cancelled
// and a new one starts once the knobs rest.
func (m *Model) changed() tea.Cmd {
	m.Cancel()
	m.gen++
	m.pending, m.sizing, m.previewErr = true, false, nil
	gen := m.gen
	if m.Debounce <= 0 {
		return func() tea.Msg { return EvalStartMsg{Gen: gen} }
	}
	return tea.Tick(m.Debounce, func(time.Time) tea.Msg { return EvalStartMsg{Gen: gen} })
}

// startEval runs Trained.Apply for the current knobs in a tea.Cmd.
func (m *Model) startEval() tea.Cmd {
	m.Cancel()
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	t, s, gen := m.trained, m.Setting(), m.gen
	return func() tea.Msg {
		if t.Model != nil {
			if err := s.Validate(t.Model); err != nil {
				return EvalResultMsg{Gen: gen, Err: err}
			}
		}
		ev, sized, err := t.Preview(ctx, s)
		return EvalResultMsg{Gen: gen, Eval: ev, Err: err, Sized: sized}
	}
}

// sizeRow shows the model file's size, or the estimate while it is being
// encoded.
func (m *Model) sizeRow(row func(label, value, extra string) string, r results.Row) string {
	if m.sizing {
		return row("size", "≈"+common.Bytes(r.SizeBytes), m.common.Styles.Warn.Render("sizing the file…"))
	}
	return row("size", common.Bytes(r.SizeBytes), sizeChange(m.common.Styles, r.CompressionRatio))
}

// settingLabel says what a setting does in a few words.
func settingLabel(s experiments.Setting) string {
	if s.PruneRatio == 0 && (s.Bits == 0 || s.Bits == FloatBits) && s.Rank == 0 {
		return "dense baseline, all knobs off"
	}
	return s.String()
}

// ShortHelp lists the pane's keys.
func (m *Model) ShortHelp() []key.Binding {
	if m.trained == nil {
		return nil
	}
	k := m.common.Keys
	return []key.Binding{k.PickKnob, k.Adjust, k.FineTune, k.AddRow}
}

// FullHelp lists the pane's keys.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.common.Keys
	return [][]key.Binding{{k.KnobPrev, k.KnobNext}, {k.Less, k.More, k.LessFine, k.MoreFine}, {k.FineTune, k.AddRow}}
}

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
	share := math.Min(float64(m.preview.SizeBytes)/float64(base), 1)
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
		if k == m.selected {
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
		return "prune ratio", fmt.Sprintf("%.2f", m.pruneRatio), m.pruneRatio
	case KnobBitWidth:
		if m.bits == FloatBits {
			return "bit width", "32", 0
		}
		return "bit width", fmt.Sprint(m.bits), 1 - float64(m.bits)/FloatBits
	default:
		if m.fullRank == 0 {
			return "rank", "n/a", 0
		}
		if m.rank == 0 {
			return "rank", "off", 0
		}
		return "rank", fmt.Sprint(m.rank), 1 - float64(m.rank-1)/float64(m.fullRank)
	}
}

// explainLines say in words what the selected knob does right now.
func (m *Model) explainLines(width int) []string {
	st := m.common.Styles
	var text string
	switch m.selected {
	case KnobPruneRatio:
		if m.pruneRatio == 0 {
			text = "Pruning off: every weight is kept."
		} else {
			text = fmt.Sprintf("Zero the %.0f%% smallest-magnitude weights of each layer.", 100*m.pruneRatio)
			if !m.pending && !m.sizing && m.preview.SizeBytes >= m.trained.Baseline.SizeBytes {
				text += " Zeros save bytes only once a layer is sparse enough to store as sparse rows."
			}
		}
	case KnobBitWidth:
		if m.bits == FloatBits {
			text = "Quantization off: weights stay 32-bit floats."
		} else {
			// Symmetric k-bit codes use ±(2^(k−1) − 1): 2^k − 1 levels; one
			// bit is binary, ±α.
			levels := 1<<m.bits - 1
			if m.bits == 1 {
				levels = 2
			}
			text = fmt.Sprintf("Round each weight to one of %d levels per output channel (%d bits instead of 32).", levels, m.bits)
		}
	case KnobRank:
		switch {
		case m.fullRank == 0:
			text = "No dense layer to factorize."
		case m.rank == 0:
			text = fmt.Sprintf("Factorization off: %s (%d→%d) keeps full rank %d.", m.rankLayer, m.rankIn, m.rankOut, m.fullRank)
		default:
			text = fmt.Sprintf("Replace %s (%d→%d) by two factors of rank %d.", m.rankLayer, m.rankIn, m.rankOut, m.rank)
			// r·(in+out) weights beat in·out only up to this rank.
			if most := lowrank.MaxSavingRank(m.rankIn, m.rankOut); m.rank > most {
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
	case m.pending:
		head += st.Warn.Render("evaluating…")
	case m.previewErr != nil:
		head += st.Bad.Render("error: " + m.previewErr.Error())
	default:
		head += st.Muted.Render(m.previewLabel)
	}
	r := m.preview
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
