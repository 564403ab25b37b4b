package tui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/results"
)

func TestTimeLeft(t *testing.T) {
	for _, c := range []struct {
		elapsed         time.Duration
		done, remaining float64
		want            time.Duration
	}{
		{10 * time.Second, 0.25, 0.75, 30 * time.Second},
		{10 * time.Second, 0.5, 0, 0},           // finished
		{500 * time.Millisecond, 0.25, 0.75, 0}, // too soon to tell
		{10 * time.Second, 0.01, 0.5, 0},        // too little done to tell
		{3 * time.Second, 0.1, 0.8, 24 * time.Second},
	} {
		if got := timeLeft(c.elapsed, c.done, c.remaining); got != c.want {
			t.Errorf("timeLeft(%v, %v, %v) = %v, want %v", c.elapsed, c.done, c.remaining, got, c.want)
		}
	}
	if f := trainedFraction(experiments.StepEvent{Epoch: 3, Epochs: 10, Step: 50, Steps: 100}); f != 0.25 {
		t.Errorf("epoch 3/10 half done: fraction %v, want 0.25", f)
	}
	// The estimate counts from the first step seen, and starts again with
	// a new phase.
	var e eta
	t0 := time.Unix(1000, 0)
	e.step(experiments.StepEvent{Phase: "baseline", Epoch: 1, Epochs: 4, Step: 1, Steps: 10}, t0)
	e.step(experiments.StepEvent{Phase: "baseline", Epoch: 2, Epochs: 4, Step: 1, Steps: 10}, t0.Add(10*time.Second))
	// 0.25 of the training in 10 s; 0.725 is left: 29 s.
	if e.left != 29*time.Second {
		t.Errorf("time left %v, want 29s", e.left)
	}
	e.step(experiments.StepEvent{Phase: "prune ratio=0.50 finetune=2", Epoch: 1, Epochs: 2, Step: 1, Steps: 10}, t0.Add(11*time.Second))
	if e.left != 0 {
		t.Errorf("a new phase kept the old estimate %v", e.left)
	}
}

// The status line turns a spinner while the run works and says which
// stage of how many it is in and the time left; once done, its row count
// follows the table.
func TestStatusProgress(t *testing.T) {
	m, _ := newTestModel(t, 120, 40)
	spin := m.status.SetBusy(true)
	if spin == nil {
		t.Fatal("the spinner did not start")
	}
	m.session.eta = eta{left: 28 * time.Second}
	m.feed(experiments.StageEvent{Stage: experiments.StageTraining, Detail: "epoch 3/10", Part: 1, Parts: 8})
	v := m.View()
	if !strings.Contains(v, "training epoch 3/10  stage 1 of 8 · 0:00 · ~0:28 left") {
		t.Errorf("status while training:\n%s", lastLines(v, 2))
	}
	if strings.Contains(lastLines(v, 2), "●") {
		t.Errorf("the dot stands still while the run works:\n%s", lastLines(v, 2))
	}
	frame := m.status.View()
	m.Update(spin())
	if m.status.View() == frame {
		t.Error("a spinner tick did not turn the spinner")
	}
	m.feed(experiments.ResultEvent{Row: row("dense", "fp32", 407080, 97.5, 0)},
		experiments.StageEvent{Stage: experiments.StageDone, Detail: "1 rows", Part: 8, Parts: 8},
		experiments.DoneEvent{Elapsed: 5 * time.Second})
	v = lastLines(m.View(), 2)
	if !strings.Contains(v, "✓ done 1 row  0:05") || strings.Contains(v, "stage") || strings.Contains(v, "left") {
		t.Errorf("status when done:\n%s", v)
	}
	if m.status.Busy() {
		t.Error("the spinner still turns after the run")
	}
	m.results.Add(row("prune", "ratio=0.50", 1000, 97, -0.5))
	m.session.refreshStatus()
	if v := lastLines(m.View(), 2); !strings.Contains(v, "✓ done 2 rows") {
		t.Errorf("the row count did not follow the table:\n%s", v)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

// f while the preset still runs is queued and says so; it starts when the
// run ends, or is dropped when the run fails.
func TestFineTuneQueuedWhileRunning(t *testing.T) {
	m, _ := newTestModel(t, 120, 40)
	m.feed(experiments.BaselineEvent{Trained: tinyTrained()})
	m.press("right") // ratio 0.05
	if cmd := m.press("f"); cmd != nil {
		t.Error("f during the run started something")
	}
	v := m.View()
	for _, want := range []string{"fine-tune of ratio=0.05 queued: it starts when mnist-mlp's run ends", "fine-tune queued: starts after the run"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	if m.session.ftJob != 0 {
		t.Fatal("a fine-tune runs beside the preset")
	}
	cmd := m.session.finishRun(nil, nil, time.Second)
	if cmd == nil || m.session.ftJob == 0 || m.session.queued != nil {
		t.Fatalf("the queued fine-tune did not start with the run's end (job %d)", m.session.ftJob)
	}
	if v := m.View(); !strings.Contains(v, "fine-tuning ratio=0.05 (2 epochs)") {
		t.Errorf("status after the run:\n%s", lastLines(v, 2))
	}
	m.quit()

	m2, _ := newTestModel(t, 120, 40)
	m2.feed(experiments.BaselineEvent{Trained: tinyTrained()})
	m2.press("right", "f")
	m2.session.finishRun(nil, errBoom, time.Second)
	if v := m2.View(); m2.session.ftJob != 0 || m2.session.queued != nil || !strings.Contains(v, "f fine-tune 2 epochs") || !strings.Contains(v, "error: boom") {
		t.Errorf("after a failed run: job %d, queued %v\n%s", m2.session.ftJob, m2.session.queued, v)
	}
}

// a adds the preview with its latency to be measured: pending until the
// run is done, then measured on the setting's inference plan; an answer
// for a table since replaced is dropped.
func TestAddedRowGetsLatency(t *testing.T) {
	m, _ := newTestModel(t, 120, 40)
	m.feed(experiments.BaselineEvent{Trained: tinyTrained()})
	m.settle(m.press("right"))
	if cmd := m.press("a"); cmd != nil {
		t.Error("a measured while the run works")
	}
	added := m.results.Table()[0]
	if _, ok := added.LatencyUsB1.Value(); ok || m.session.latency.pending() != 1 {
		t.Fatalf("the added row has latency %v, %d waiting", added.LatencyUsB1, m.session.latency.pending())
	}
	if v := m.View(); !strings.Contains(v, "measuring its latency once the work under way is done") || !strings.Contains(v, "measuring latency…") {
		t.Errorf("after a:\n%s", v)
	}
	cmd := m.session.finishRun(nil, nil, time.Second)
	if cmd == nil {
		t.Fatal("the run's end did not start the measurement")
	}
	msg := cmd().(latencyMsg)
	m.Update(msg)
	got := m.results.Table()[0]
	if v, ok := got.LatencyUsB1.Value(); !ok || v <= 0 || m.session.latency.pending() != 0 {
		t.Errorf("after the measurement: latency %v, %d pending", got.LatencyUsB1, m.session.latency.pending())
	}
	if v := m.View(); strings.Contains(v, "measuring") {
		t.Errorf("still measuring:\n%s", v)
	}
	// A late answer for an older table changes nothing.
	m.results.Reset()
	m.results.Add(row("prune", "ratio=0.90", 1000, 90, -7))
	m.Update(latencyMsg{Epoch: msg.Epoch, Row: 0, Measurement: experiments.Measurement{LatencyUsB1: results.Measure(1)}})
	if _, ok := m.results.Table()[0].LatencyUsB1.Value(); !ok || m.results.Table()[0].LatencyUsB1.Or(0) == 1 {
		t.Error("a late measurement reached a new table")
	}
}

var errBoom = errorString("boom")

type errorString string

func (e errorString) Error() string { return string(e) }

var _ tea.Msg = latencyMsg{}
