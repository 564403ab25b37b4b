package chart

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/NimbleMarkets/ntcharts/canvas"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/tui/common"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

// feed sends a phase's steps (loss falling from 2 to 0.5) and epochs
// (test accuracy 80 + epoch %) up to epoch upto of epochs.
func feed(m *Model, phase string, upto, epochs int) {
	const steps = 4
	for e := 1; e <= upto; e++ {
		for s := 1; s <= steps; s++ {
			x := float64(e-1) + float64(s)/steps
			m.AddStep(experiments.StepEvent{Phase: phase, Epoch: e, Epochs: epochs, Step: s, Steps: steps,
				Loss: 2 - 1.5*x/float64(epochs)})
		}
		m.AddEpoch(experiments.EpochEvent{Phase: phase, Epoch: e, Epochs: epochs,
			TrainAcc: (82 + float64(e)) / 100, TestAcc: (80 + float64(e)) / 100})
	}
}

func TestEmpty(t *testing.T) {
	m := New(common.New())
	m.SetSize(70, 16)
	v := m.View()
	if !strings.Contains(v, "Curves appear here once training starts.") || !strings.Contains(v, "waiting for the first batch") {
		t.Errorf("empty pane:\n%s", v)
	}
}

func TestBaselineCurves(t *testing.T) {
	m := New(common.New())
	m.SetSize(80, 18)
	feed(m, BaselinePhase, 3, 10)
	v := m.View()
	for _, want := range []string{
		"epoch 3/10 · dense baseline",
		"train loss", "accuracy %", "•test", "·train",
		"2.1", // loss axis top: 2 × 1.05 rounded up to two digits
		"0.0", // loss axis bottom
		"10",  // last epoch label
	} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "┈") {
		t.Errorf("baseline reference drawn on the baseline itself:\n%s", v)
	}
	if got, want := m.Summary(), "baseline: epoch 3/10, loss 1.550, test 83.00%"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
}

func TestFineTunePhaseFollowsAndFlips(t *testing.T) {
	m := New(common.New())
	m.SetSize(80, 18)
	feed(m, BaselinePhase, 5, 5)
	feed(m, "prune ratio=0.50 finetune=2", 1, 2)
	if got := m.Phase(); got != "prune ratio=0.50 finetune=2" {
		t.Fatalf("shown phase %q, want the newest", got)
	}
	v := m.View()
	if !strings.Contains(v, "epoch 1/2 · fine-tuning prune ratio=0.50 finetune=2") || !strings.Contains(v, "┈base") {
		t.Errorf("fine-tune view:\n%s", v)
	}
	if !strings.Contains(v, "┈") {
		t.Errorf("no baseline reference line in the fine-tune chart:\n%s", v)
	}

	// Keys only act when focused.
	m.Update(tea.KeyMsg{Type: tea.KeyUp})
	if m.Phase() != "prune ratio=0.50 finetune=2" {
		t.Error("up moved the chart while unfocused")
	}
	m.Focus()
	m.Update(tea.KeyMsg{Type: tea.KeyUp})
	if m.Phase() != BaselinePhase {
		t.Errorf("up showed %q, want the baseline", m.Phase())
	}
	if v := m.View(); !strings.Contains(v, "1 of 2 · 5/5 epochs · dense baseline") {
		t.Errorf("baseline view after up:\n%s", v)
	}
	// Looking back stops following new phases...
	feed(m, "quantize bits=4 finetune=2", 1, 2)
	if m.Phase() != BaselinePhase {
		t.Errorf("a new phase replaced the one picked by hand")
	}
	// ...until the user goes to the newest again.
	m.Update(tea.KeyMsg{Type: tea.KeyDown})
	m.Update(tea.KeyMsg{Type: tea.KeyDown})
	feed(m, "lowrank rank=4@fc2 finetune=2", 1, 2)
	if m.Phase() != "lowrank rank=4@fc2 finetune=2" {
		t.Errorf("shown %q, want the newest phase once back at the end", m.Phase())
	}
}

// The epoch labels sit exactly under the columns where points at those
// epochs are drawn.
func TestEpochLabelsUnderPoints(t *testing.T) {
	m := New(common.New())
	c := &curves{phase: BaselinePhase, epochs: 4}
	for e := 1; e <= 4; e++ {
		c.test = append(c.test, pt(float64(e), 90))
		c.train = append(c.train, pt(float64(e), 95))
		c.epoch = e
	}
	lines := strings.Split(m.accuracyChart(c, 40, 12), "\n")
	last := []rune(lines[len(lines)-1])
	// The point of epoch 4 is the right-most "•"; its label is "4".
	col := -1
	for _, l := range lines {
		if i := strings.LastIndex(string([]rune(l)), "•"); i >= 0 {
			col = max(col, len([]rune(l[:i])))
		}
	}
	label := strings.LastIndex(string(last), "4")
	if col < 0 || label < 0 {
		t.Fatalf("no point or label:\n%s", strings.Join(lines, "\n"))
	}
	if got := len([]rune(string(last)[:label])); got != col {
		t.Errorf("label 4 at column %d, point at column %d:\n%s", got, col, strings.Join(lines, "\n"))
	}
}

func pt(x, y float64) canvas.Float64Point { return canvas.Float64Point{X: x, Y: y} }

func TestNiceNumbers(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{{0.3, 1}, {1, 1}, {1.2, 2}, {3, 5}, {7, 10}, {12, 20}, {60, 100}} {
		if got := niceStep(c.in); got != c.want {
			t.Errorf("niceStep(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	for _, c := range []struct{ in, want float64 }{{2.1, 2.1}, {2.31, 2.4}, {0.523, 0.53}, {13.2, 14}, {0, 1}, {math.Inf(1), 1}} {
		if got := niceCeil(c.in); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("niceCeil(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	for _, c := range []struct{ lo, hi, wantLo, wantHi float64 }{
		{91.2, 97.6, 90, 99},
		{96, 96, 95, 97},
		{99.5, 99.9, 98, 100},
		{0.2, 0.4, 0, 2},
	} {
		lo, hi := accuracyRange(c.lo, c.hi)
		if lo != c.wantLo || hi != c.wantHi {
			t.Errorf("accuracyRange(%v, %v) = [%v, %v], want [%v, %v]", c.lo, c.hi, lo, hi, c.wantLo, c.wantHi)
		}
	}
}

func TestNonFiniteLossSkipped(t *testing.T) {
	m := New(common.New())
	m.SetSize(80, 18)
	m.AddStep(experiments.StepEvent{Phase: BaselinePhase, Epoch: 1, Epochs: 2, Step: 1, Steps: 2, Loss: math.NaN()})
	m.AddStep(experiments.StepEvent{Phase: BaselinePhase, Epoch: 1, Epochs: 2, Step: 2, Steps: 2, Loss: 0.7})
	if n := len(m.phases[0].loss); n != 1 {
		t.Errorf("kept %d loss points, want 1 (NaN dropped)", n)
	}
	_ = m.View() // must not panic
}

func TestTooShortToDraw(t *testing.T) {
	m := New(common.New())
	m.SetSize(42, 7) // 5 rows inside: title and 4 rows, too few for a chart
	feed(m, BaselinePhase, 2, 10)
	v := m.View()
	if !strings.Contains(v, "too short") || !strings.Contains(v, "test 82") {
		t.Errorf("short pane:\n%s", v)
	}
	for i, l := range strings.Split(v, "\n") {
		if w := lipgloss.Width(l); w != 42 {
			t.Errorf("line %d is %d wide: %q", i, w, l)
		}
		if strings.Contains(l, "…│") {
			t.Errorf("line %d was cut: %q", i, l)
		}
	}
}

// feedGradual sends a gradual-pruning phase: 4 epochs of 4 steps with the
// sparsity rising by the cubic schedule from 0 to 90% over the first 2
// epochs, then held.
func feedGradual(m *Model, phase string) {
	const steps, epochs = 4, 4
	for e := 1; e <= epochs; e++ {
		for s := 1; s <= steps; s++ {
			x := float64(e-1) + float64(s)/steps
			progress := math.Min(x/2, 1)
			left := 1 - progress
			sparsity := 0.9 * (1 - left*left*left)
			m.AddStep(experiments.StepEvent{Phase: phase, Epoch: e, Epochs: epochs, Step: s, Steps: steps,
				Loss: 0.3, Sparsity: sparsity})
		}
		m.AddEpoch(experiments.EpochEvent{Phase: phase, Epoch: e, Epochs: epochs, TrainAcc: 0.97, TestAcc: 0.96, Sparsity: 0.9})
	}
}

func TestSparsityScheduleBesideLoss(t *testing.T) {
	m := New(common.New())
	m.SetSize(90, 18)
	feedGradual(m, "prune-gradual ratio=0.90 scope=global")
	v := m.View()
	for _, want := range []string{"─loss", "·sparsity 90.0%", "(top = 100%)", "4/4 epochs · prune-gradual ratio=0.90"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	// The loss is flat at 0.3 on an axis topped at 0.32, so its braille
	// line sits on the top row; the sparsity dots climb from the bottom
	// row to 90% of the height: several rows hold a dot.
	rows := 0
	for _, line := range strings.Split(v, "\n") {
		if i := strings.Index(line, "│"); i >= 0 && strings.Contains(line[i:], "·") && !strings.Contains(line, "sparsity") {
			rows++
		}
	}
	if rows < 3 {
		t.Errorf("the sparsity line spans %d rows, want it to climb over at least 3:\n%s", rows, v)
	}
	if got, want := m.Summary(), "prune-gradual ratio=0.90 scope=global: 4/4 epochs, loss 0.300, test 96.00%, sparsity 90.0%"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}

	// Fine-tuning at a fixed sparsity: the sparsity is said in the
	// summary, not drawn.
	m = New(common.New())
	m.SetSize(90, 18)
	for s := 1; s <= 4; s++ {
		m.AddStep(experiments.StepEvent{Phase: "prune ratio=0.50", Epoch: 1, Epochs: 1, Step: s, Steps: 4, Loss: 0.3, Sparsity: 0.5})
	}
	if v := m.View(); strings.Contains(v, "sparsity") || !strings.Contains(v, "train loss") {
		t.Errorf("constant sparsity drawn as a schedule:\n%s", v)
	}
	if !strings.HasSuffix(m.Summary(), "sparsity 50.0%") {
		t.Errorf("Summary() = %q", m.Summary())
	}
}

func sensitivityEvent(points int, done bool) experiments.SensitivityEvent {
	e := experiments.SensitivityEvent{Phase: "sensitivity ratios=0.00-0.90 (4)", Layers: []string{"fc1", "fc2"},
		Values: []float64{0, 0.3, 0.6, 0.9}, BaseTestAcc: 98, Done: done}
	acc := map[string][]float64{"fc1": {98, 97.9, 97.5, 90}, "fc2": {98, 98, 97.8, 96}}
	for _, layer := range e.Layers {
		for i, r := range e.Values {
			if len(e.Table.Points) == points {
				return e
			}
			e.Table.Points = append(e.Table.Points, results.Point{Layer: layer, Value: r, TestAcc: acc[layer][i]})
		}
	}
	return e
}

func TestSensitivityView(t *testing.T) {
	m := New(common.New())
	m.SetSize(90, 18)
	feed(m, BaselinePhase, 2, 2)
	if m.HasSensitivity() || m.ShowsSensitivity() {
		t.Fatal("sensitivity before any analysis")
	}
	m.NextView() // nothing to switch to yet
	if m.ShowsSensitivity() || m.NextViewName() != "" {
		t.Fatal("NextView switched to an empty sensitivity view")
	}

	m.SetSensitivity(sensitivityEvent(3, false))
	if !m.ShowsSensitivity() {
		t.Fatal("the pane did not switch to the sensitivity view when the analysis started")
	}
	v := m.View()
	for _, want := range []string{"Sensitivity", "3 of 8 points", "─fc1", "─fc2", "┈dense", "test acc %", "90"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	m.SetSensitivity(sensitivityEvent(8, true))
	v = m.View()
	if !strings.Contains(v, "each layer pruned alone") || !strings.Contains(v, "v: curves") {
		t.Errorf("finished analysis:\n%s", v)
	}
	if got, want := m.SensitivitySummary(results.Pruning), "fc1 90%→90.00%, fc2 90%→96.00%"; got != want {
		t.Errorf("SensitivitySummary() = %q, want %q", got, want)
	}
	// The accuracy axis reaches down to fc1's 90% at 90% pruned.
	if !strings.Contains(v, "89") {
		t.Errorf("axis does not reach 89:\n%s", v)
	}

	// Training after the analysis brings the curves back.
	feed(m, "prune ratio=0.50", 1, 1)
	if m.ShowsSensitivity() {
		t.Error("still on the sensitivity view once training started")
	}
	if v := m.View(); !strings.Contains(v, "v: pruning sensitivity") {
		t.Errorf("curves view does not offer the sensitivity view:\n%s", v)
	}
	m.NextView()
	if !m.ShowsSensitivity() {
		t.Fatal("NextView did not switch to sensitivity")
	}
	// Chosen by the user: new training no longer switches it.
	feed(m, "prune ratio=0.80", 1, 1)
	if !m.ShowsSensitivity() {
		t.Error("a new phase overrode the view the user chose")
	}
	m.Reset()
	if m.HasSensitivity() || m.ShowsSensitivity() {
		t.Error("Reset kept the sensitivity analysis")
	}
}

// TestGoldenCurves pins the pane at 80×18 three epochs into a ten-epoch
// baseline.
func TestGoldenCurves(t *testing.T) {
	m := New(common.New())
	m.SetSize(80, 18)
	feed(m, BaselinePhase, 3, 10)
	golden.RequireEqual(t, []byte(m.View()))
}

// TestGoldenSensitivity pins the pane at 80×18 on a finished pruning
// sensitivity analysis of two layers, after the baseline's training.
func TestGoldenSensitivity(t *testing.T) {
	m := New(common.New())
	m.SetSize(80, 18)
	feed(m, BaselinePhase, 2, 2)
	m.SetSensitivity(sensitivityEvent(8, true))
	golden.RequireEqual(t, []byte(m.View()))
}

// bitSensitivityEvent is a finished bit-width sensitivity analysis of a
// LeNet-300-100: each layer alone at 8, 6, 4, 3 and 2 bits.
func bitSensitivityEvent() experiments.SensitivityEvent {
	e := experiments.SensitivityEvent{Phase: "bit-sensitivity bits=8,6,4,3,2", Layers: []string{"fc1", "fc2", "fc3"},
		Values: []float64{8, 6, 4, 3, 2}, BaseTestAcc: 97.6, Done: true, Table: results.Sensitivity{Kind: results.Bits}}
	acc := map[string][]float64{"fc1": {97.6, 97.6, 97.5, 97.1, 60}, "fc2": {97.6, 97.6, 97.6, 97.4, 85}, "fc3": {97.6, 97.5, 97.5, 97.3, 90}}
	for _, layer := range e.Layers {
		for i, b := range e.Values {
			e.Table.Points = append(e.Table.Points, results.Point{Layer: layer, Value: b, TestAcc: acc[layer][i]})
		}
	}
	return e
}

// TestSensitivityKinds: the pane keeps the latest analysis of each kind,
// and v cycles curves → pruning → bit width, skipping kinds the run does
// not have; the notes say what v shows next.
func TestSensitivityKinds(t *testing.T) {
	m := New(common.New())
	m.SetSize(90, 18)
	feed(m, BaselinePhase, 2, 2)
	m.SetSensitivity(bitSensitivityEvent())
	if k, ok := m.ShownKind(); !ok || k != results.Bits {
		t.Fatalf("a bit-width analysis started: shown %v %v, want the bit-width view", k, ok)
	}
	v := m.View()
	for _, want := range []string{"each layer quantized alone", "by the layer's bit width", "─fc3", "v: curves"} {
		if !strings.Contains(v, want) {
			t.Errorf("bit-width view lacks %q:\n%s", want, v)
		}
	}
	// Only bit widths: v goes between them and the curves.
	if got := m.NextViewName(); got != "curves" {
		t.Errorf("NextViewName() = %q, want curves", got)
	}
	m.NextView()
	if m.ShowsSensitivity() || m.ViewName() != "curves" {
		t.Fatalf("v from the bit widths: shows %q, want the curves", m.ViewName())
	}
	if got := m.NextViewName(); got != "bit-width sensitivity" {
		t.Errorf("from the curves NextViewName() = %q, want the bit widths (no pruning analysis)", got)
	}
	if v := m.View(); !strings.Contains(v, "v: bit-width sensitivity · ") {
		t.Errorf("curves view does not say what v shows next:\n%s", v)
	}
	m.NextView()
	if k, _ := m.ShownKind(); !m.ShowsSensitivity() || k != results.Bits {
		t.Fatal("v from the curves did not come back to the bit widths")
	}

	// A pruning analysis too: kept beside the bit widths, not instead.
	m.SetSensitivity(sensitivityEvent(8, true))
	if k, _ := m.ShownKind(); k != results.Bits {
		t.Errorf("a new analysis replaced the view the user chose: %v", k)
	}
	for _, want := range []view{viewCurves, viewPruning, viewBits, viewCurves} {
		m.NextView()
		if m.view != want {
			t.Errorf("v: view %q, want %q", m.view, want)
		}
	}
	if got, want := m.SensitivitySummary(results.Pruning), "fc1 90%→90.00%, fc2 90%→96.00%"; got != want {
		t.Errorf("pruning summary %q, want %q", got, want)
	}
	if got, want := m.SensitivitySummary(results.Bits), "fc1 2 bits→60.00%, fc2 2 bits→85.00%, fc3 2 bits→90.00%"; got != want {
		t.Errorf("bit-width summary %q, want %q", got, want)
	}
}

// TestSensitivityKindsFollowTheRun: untouched by the user, the pane shows
// each analysis as it starts and the curves once training starts after it.
func TestSensitivityKindsFollowTheRun(t *testing.T) {
	m := New(common.New())
	m.SetSize(90, 18)
	feed(m, BaselinePhase, 2, 2)
	m.SetSensitivity(sensitivityEvent(3, false))
	if k, _ := m.ShownKind(); k != results.Pruning {
		t.Errorf("pruning analysis started: shown %v", k)
	}
	m.SetSensitivity(sensitivityEvent(8, true))
	m.SetSensitivity(bitSensitivityEvent())
	if k, _ := m.ShownKind(); k != results.Bits {
		t.Errorf("bit-width analysis started: shown %v", k)
	}
	if v := m.View(); !strings.Contains(v, "v: curves") {
		t.Errorf("after the last kind, v goes to the curves:\n%s", v)
	}
	feed(m, "quantize bits=4 finetune=1", 1, 1)
	if m.ShowsSensitivity() {
		t.Error("still on the sensitivity once training started")
	}
	if got := m.NextViewName(); got != "pruning sensitivity" {
		t.Errorf("from the curves v shows %q, want the pruning sensitivity first", got)
	}
	m.Reset()
	if m.HasSensitivity() || m.NextViewName() != "" {
		t.Error("Reset kept an analysis")
	}
}

// TestGoldenBitSensitivity pins the pane at 80×18 on a finished bit-width
// sensitivity analysis of three layers, after the baseline's training.
func TestGoldenBitSensitivity(t *testing.T) {
	m := New(common.New())
	m.SetSize(80, 18)
	feed(m, BaselinePhase, 2, 2)
	m.SetSensitivity(bitSensitivityEvent())
	golden.RequireEqual(t, []byte(m.View()))
}
