package chart

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/NimbleMarkets/ntcharts/canvas"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/prunerlab/pruner-tui/experiments"
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
