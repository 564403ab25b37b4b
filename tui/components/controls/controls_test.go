package controls

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/prunerlab/pruner-tui/core/data"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/experiments/spec"
	"github.com/prunerlab/pruner-tui/tui/common"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

// tinyTrained is a real, untrained 4→8→3 model on blobs: enough for
// Trained.Apply to run in microseconds.
func tinyTrained() *experiments.Trained {
	rng := rand.New(rand.NewPCG(1, 2))
	model := &nn.Sequential{Layers: []nn.Layer{
		nn.NewDense("fc1", 4, 8, rng), nn.NewReLU("relu1"), nn.NewDense("fc2", 8, 3, rng),
	}}
	train, test := data.Blobs(64, 3, 4, 1)
	return &experiments.Trained{
		Spec:  spec.Spec{Name: "tiny"},
		Model: model, Train: train, Test: test,
		Baseline: results.Row{Experiment: "tiny", Technique: "dense", Setting: "fp32",
			ParamsTotal: 67, ParamsNonzero: 67, SizeBytes: model.Totals().SizeBytes,
			CompressionRatio: 1, TrainAcc: 40, TestAcc: 37.5},
	}
}

func keyMsg(s string) tea.KeyMsg {
	switch s {
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "shift+right":
		return tea.KeyMsg{Type: tea.KeyShiftRight}
	case "shift+left":
		return tea.KeyMsg{Type: tea.KeyShiftLeft}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func newReady(t *testing.T) *Model {
	t.Helper()
	m := New(common.New())
	m.SetSize(48, 26)
	m.Focus()
	m.SetTrained(tinyTrained())
	return m
}

func press(m *Model, k string) tea.Cmd {
	_, cmd := m.Update(keyMsg(k))
	return cmd
}

func TestWaitsForBaseline(t *testing.T) {
	m := New(common.New())
	m.SetSize(48, 20)
	if cmd := press(m, "right"); cmd != nil {
		t.Errorf("right before the baseline issued a command")
	}
	if v := m.View(); !strings.Contains(v, "waiting for the baseline…") {
		t.Errorf("view before the baseline:\n%s", v)
	}
}

func TestPruneRatioSteps(t *testing.T) {
	m := newReady(t)
	if v := m.View(); !strings.Contains(v, "prune ratio   0.00") {
		t.Fatalf("initial view:\n%s", v)
	}
	if cmd := press(m, "right"); cmd == nil {
		t.Fatal("right on prune ratio issued no command")
	}
	if got := m.Setting().PruneRatio; got != 0.05 {
		t.Errorf("after right: ratio %v, want 0.05", got)
	}
	if v := m.View(); !strings.Contains(v, "prune ratio   0.05") || !strings.Contains(v, "evaluating…") {
		t.Errorf("view after right:\n%s", v)
	}
	press(m, "]")
	press(m, "shift+right")
	if got := m.Setting().PruneRatio; got != 0.07 {
		t.Errorf("after two fine steps: ratio %v, want 0.07", got)
	}
	press(m, "[")
	press(m, "left")
	if got := m.Setting().PruneRatio; got != 0.01 {
		t.Errorf("after fine and coarse steps down: ratio %v, want 0.01", got)
	}
	press(m, "left")
	if got := m.Setting().PruneRatio; got != 0 {
		t.Errorf("ratio went below 0: %v", got)
	}
	if cmd := press(m, "left"); cmd != nil {
		t.Error("left at 0 (no change) issued a command")
	}
	for range 25 {
		press(m, "right")
	}
	if got := m.Setting().PruneRatio; got != MaxPruneRatio {
		t.Errorf("ratio after 25 steps up: %v, want the maximum %v", got, MaxPruneRatio)
	}
}

func TestBitWidthSteps(t *testing.T) {
	m := newReady(t)
	press(m, "down")
	press(m, "down")
	if m.Selected() != KnobBitWidth {
		t.Fatalf("down selected knob %d, want bit width", m.Selected())
	}
	want := []int{8, 7, 6, 5, 4, 3, 2, 1, 1}
	for i, w := range want {
		press(m, "right")
		if got := m.Setting().Bits; got != w {
			t.Errorf("step %d: bits %d, want %d", i+1, got, w)
		}
	}
	for range 8 {
		press(m, "left")
	}
	if got := m.Setting().Bits; got != 0 {
		t.Errorf("bits back at the start: Setting.Bits %d, want 0 (float32)", got)
	}
	if v := m.View(); !strings.Contains(v, "bit width       32") {
		t.Errorf("view with quantization off:\n%s", v)
	}
}

func TestRankKnobUsesLargestLayer(t *testing.T) {
	m := newReady(t)
	m.Select(KnobRank)
	press(m, "right")
	s := m.Setting()
	// fc2 is 8→3 = 24 weights, fc1 4→8 = 32: fc1, full rank 4, of which
	// only ranks up to 2 save bytes (2·12 < 32 ≤ 3·12): the first step is 2.
	if s.RankLayer != "fc1" || s.Rank != 2 {
		t.Errorf("rank setting %+v, want rank 2 of fc1", s)
	}
	if v := m.View(); !strings.Contains(v, "rank             2") || !strings.Contains(v, "layer        fc1  4→8") {
		t.Errorf("view:\n%s", v)
	}
	// The layer line under it moves the rank knob to fc2 (8→3: ranks up to
	// 2 save bytes, as for fc1).
	press(m, "down")
	if m.Selected() != KnobRankLayer {
		t.Fatalf("down from the rank selected %d", m.Selected())
	}
	if cmd := press(m, "right"); cmd == nil {
		t.Error("moving a rank to another layer started no evaluation")
	}
	if s := m.Setting(); s.RankLayer != "fc2" || s.Rank != 2 {
		t.Errorf("after the layer turned: %+v, want rank 2 of fc2", s)
	}
	if cmd := press(m, "right"); cmd != nil {
		t.Error("turning past the last layer changed the setting")
	}
}

// The scope line under the prune ratio: global ranks the whole model; it
// changes the setting only while the prune ratio is on.
func TestPruneScopeKnob(t *testing.T) {
	m := newReady(t)
	m.Select(KnobPruneScope)
	if cmd := press(m, "right"); cmd != nil {
		t.Error("the scope with pruning off started an evaluation")
	}
	if v := m.View(); !strings.Contains(v, "scope     global  one cut for all") || !strings.Contains(v, "Global: one magnitude threshold") {
		t.Errorf("view with scope global:\n%s", v)
	}
	m.Select(KnobPruneRatio)
	press(m, "right")
	if s := m.Setting(); s.PruneScope != "global" || s.String() != "ratio=0.05 scope=global" {
		t.Errorf("setting %+v", s)
	}
	m.Select(KnobPruneScope)
	if cmd := press(m, "left"); cmd == nil || m.Setting().PruneScope != "" {
		t.Errorf("back to layer scope: command %v, setting %+v", cmd != nil, m.Setting())
	}
	if k, ok := m.KnobAt(2); !ok || k != KnobPruneScope {
		t.Errorf("line 2 is knob %d (%v), want the scope", k, ok)
	}
	if _, ok := m.KnobAt(0); ok {
		t.Error("the border is a knob")
	}
}

// run executes cmd and feeds its message back, following the chain
// (accuracies → exact size) to the end.
func run(t *testing.T, m *Model, cmd tea.Cmd) {
	t.Helper()
	for cmd != nil {
		msg := cmd()
		_, cmd = m.Update(msg)
	}
}

func TestEvaluationShowsPreview(t *testing.T) {
	m := newReady(t)
	cmd := press(m, "right")
	gen := m.Generation()
	if cmd == nil {
		t.Fatal("a knob change started no evaluation")
	}
	res, ok := cmd().(EvalResultMsg)
	if !ok || res.Gen != gen || res.Err != nil {
		t.Fatalf("evaluation answered %#v", res)
	}
	// First the accuracies, with the size estimated while the model file
	// is encoded.
	_, cmd = m.Update(res)
	if cmd == nil {
		t.Fatal("the accuracies started no sizing of the model file")
	}
	if _, ok := m.Preview(); ok {
		t.Error("a preview without its exact size counts as final")
	}
	if v := m.View(); !strings.Contains(v, "sizing the file…") || !strings.Contains(v, "Preview ratio=0.05") ||
		!strings.Contains(v, "scoring…") || gapShown.MatchString(v) {
		t.Errorf("view while sizing (and scoring the train accuracy):\n%s", v)
	}
	sized, ok := cmd().(SizeResultMsg)
	if !ok || sized.Gen != gen || sized.Err != nil {
		t.Fatalf("sizing answered %#v", sized)
	}
	if sized.Eval.Row.TestAcc != res.Eval.Row.TestAcc {
		t.Errorf("sizing changed the test accuracy from %v to %v", res.Eval.Row.TestAcc, sized.Eval.Row.TestAcc)
	}
	m.Update(sized)
	row, ok := m.Preview()
	if !ok || m.Pending() {
		t.Fatalf("preview not accepted (pending %v)", m.Pending())
	}
	if row.SizeBytes != sized.Eval.Row.SizeBytes {
		t.Errorf("preview size %d, want the model file's %d", row.SizeBytes, sized.Eval.Row.SizeBytes)
	}
	if row.Setting != "ratio=0.05" {
		t.Errorf("preview setting %q, want ratio=0.05", row.Setting)
	}
	v := m.View()
	if !strings.Contains(v, "Preview ratio=0.05") || strings.Contains(v, "evaluating…") || strings.Contains(v, "sizing") ||
		strings.Contains(v, "scoring…") || !gapShown.MatchString(v) {
		t.Errorf("view after the evaluation:\n%s", v)
	}
}

// gapShown matches the preview's train/test gap figure.
var gapShown = regexp.MustCompile(`gap [+-−]?[0-9]`)

func TestStaleEvaluationDropped(t *testing.T) {
	m := newReady(t)
	press(m, "right")
	old := m.Generation()
	press(m, "right")
	cur := m.Generation()
	if cur == old {
		t.Fatal("a knob change did not bump the generation")
	}

	stale := EvalResultMsg{Gen: old, Eval: experiments.Evaluation{Row: results.Row{Setting: "ratio=0.05", TestAcc: 11.11}}}
	m.Update(stale)
	if !m.Pending() {
		t.Error("a stale answer cleared the pending state")
	}
	if v := m.View(); strings.Contains(v, "11.11%") {
		t.Errorf("stale answer shown:\n%s", v)
	}
	// The figures still on screen are the last setting's, and say so.
	if v := m.View(); !strings.Contains(v, "evaluating… (figures: last setting)") {
		t.Errorf("figures of the old setting not marked:\n%s", v)
	}
	// Nor does its size answer, nor does it start sizing.
	if _, cmd := m.Update(EvalResultMsg{Gen: old, Sized: func() (experiments.Evaluation, error) { return experiments.Evaluation{}, nil }}); cmd != nil {
		t.Error("a stale answer started sizing its model file")
	}
	m.Update(SizeResultMsg{Gen: old, Eval: experiments.Evaluation{Row: results.Row{SizeBytes: 12345}}})
	if v := m.View(); strings.Contains(v, "12.1 KiB") {
		t.Errorf("stale size shown:\n%s", v)
	}

	current := EvalResultMsg{Gen: cur, Eval: experiments.Evaluation{
		Setting: experiments.Setting{PruneRatio: 0.1},
		Row:     results.Row{Setting: "ratio=0.10", TestAcc: 22.22, TrainAcc: 30, GapPP: 7.78, DeltaAccPP: -15.28, SizeBytes: 300, CompressionRatio: 1.5}}}
	m.Update(current)
	v := m.View()
	for _, want := range []string{"22.22%", "Δ -15.28 pp", "gap +7.78 pp", "300 B", "1.5× smaller"} {
		if !strings.Contains(v, want) {
			t.Errorf("current answer: view lacks %q:\n%s", want, v)
		}
	}
	if m.Pending() {
		t.Error("still pending after the current answer")
	}
}

func TestEvaluationErrorShown(t *testing.T) {
	m := newReady(t)
	press(m, "right")
	long := "ratio=0.05 rank=64@fc2: factorize layer fc2 (128→128): the two factors take more bytes than the layer they replace"
	m.Update(EvalResultMsg{Gen: m.Generation(), Err: errors.New(long)})
	v := m.View()
	if !strings.Contains(v, "Preview error") {
		t.Errorf("error not shown:\n%s", v)
	}
	// Whole, wrapped: every word of it is on screen, and the figures of
	// the setting before are not.
	for _, w := range strings.Fields(long) {
		if !strings.Contains(v, w) {
			t.Errorf("the error lost %q:\n%s", w, v)
		}
	}
	if strings.Contains(v, "train acc") || strings.Contains(v, "bytes kept") {
		t.Errorf("figures of another setting shown beside the error:\n%s", v)
	}
	if _, ok := m.Preview(); ok {
		t.Error("a failed evaluation counts as a preview")
	}
	// A cancelled evaluation is no error worth showing.
	press(m, "right")
	m.Update(EvalResultMsg{Gen: m.Generation(), Err: context.Canceled})
	if v := m.View(); strings.Contains(v, "Preview error") {
		t.Errorf("cancellation shown as an error:\n%s", v)
	}
}

func TestChangeCancelsEvaluationInFlight(t *testing.T) {
	m := newReady(t)
	evalCmd := press(m, "right")
	if m.eval.cancel == nil {
		t.Fatal("no cancel func kept for the evaluation in flight")
	}
	press(m, "right") // cancels the first evaluation's context
	res := evalCmd().(EvalResultMsg)
	if res.Err == nil {
		// Apply may finish before it checks the context; then the
		// generation check is what drops it.
		m.Update(res)
		if !m.Pending() {
			t.Error("an answer for the old setting cleared the pending state")
		}
		return
	}
	if !errors.Is(res.Err, context.Canceled) {
		t.Errorf("cancelled evaluation returned %v, want context.Canceled", res.Err)
	}
}

func TestRealEvaluationChain(t *testing.T) {
	m := newReady(t)
	m.Select(KnobBitWidth)
	run(t, m, press(m, "right")) // 8 bits
	row, ok := m.Preview()
	if !ok {
		t.Fatal("no preview after the evaluation chain")
	}
	if row.Setting != "bits=8" || row.Technique != "quantize" {
		t.Errorf("preview row %q/%q, want quantize bits=8", row.Technique, row.Setting)
	}
	if row.SizeBytes >= m.Trained().Baseline.SizeBytes {
		t.Errorf("8-bit size %d not below the float32 baseline %d", row.SizeBytes, m.Trained().Baseline.SizeBytes)
	}
}

func TestResetDropsLateAnswers(t *testing.T) {
	m := newReady(t)
	press(m, "right")
	gen := m.Generation()
	m.Reset()
	if m.Ready() {
		t.Fatal("ready after Reset")
	}
	m.Update(EvalResultMsg{Gen: gen, Eval: experiments.Evaluation{Row: results.Row{TestAcc: 55.55}}})
	if v := m.View(); !strings.Contains(v, "waiting for the baseline…") {
		t.Errorf("view after Reset and a late answer:\n%s", v)
	}
}

// TestGoldenKnobs pins the pane with the baseline trained, the prune ratio
// at 0.50 and the bit-width knob at 4 bits, and the preview of that setting
// sized.
func TestGoldenKnobs(t *testing.T) {
	m := newReady(t)
	for range 10 {
		press(m, "right")
	}
	m.Select(KnobBitWidth)
	for range 5 {
		press(m, "right")
	}
	s := m.Setting()
	ev := experiments.Evaluation{Setting: s, Row: results.Row{Experiment: "tiny", Technique: "prune+quantize", Setting: s.String(),
		ParamsTotal: 67, ParamsNonzero: 38, SizeBytes: 96, CompressionRatio: 2.79, TrainAcc: 39.06, TestAcc: 35.94, DeltaAccPP: -1.56, GapPP: 3.12}}
	_, sized := m.Update(EvalResultMsg{Gen: m.Generation(), Eval: ev, Sized: func() (experiments.Evaluation, error) { return ev, nil }})
	if sized == nil {
		t.Fatal("the accuracies started no sizing")
	}
	m.Update(sized())
	golden.RequireEqual(t, []byte(m.View()))
}

// TestSubsetEstimateShown: a first answer over the first images of the
// test set shows as an estimate that says over how many, and the whole
// figure replaces it.
func TestSubsetEstimateShown(t *testing.T) {
	m := newReady(t)
	press(m, "right")
	gen := m.Generation()
	s := experiments.Setting{PruneRatio: 0.05}
	first := experiments.Evaluation{Setting: s, TrainPending: true, TestSubset: 2048,
		Row: results.Row{Setting: s.String(), TestAcc: 98.876953125, SizeBytes: 100}}
	whole := first
	whole.TrainPending, whole.TestSubset = false, 0
	whole.Row.TestAcc, whole.Row.TrainAcc, whole.Row.GapPP = 99.07, 99.5, 0.43
	_, cmd := m.Update(EvalResultMsg{Gen: gen, Eval: first, Sized: func() (experiments.Evaluation, error) { return whole, nil }})
	if v := m.View(); !strings.Contains(v, "≈98.9%") || !strings.Contains(v, "first 2,048") || strings.Contains(v, "98.88") {
		t.Errorf("view of an estimate over 2,048 images:\n%s", v)
	}
	m.Update(cmd())
	if v := m.View(); !strings.Contains(v, "99.07%") || strings.Contains(v, "≈") || strings.Contains(v, "first 2,048") {
		t.Errorf("view of the whole answer:\n%s", v)
	}
}
