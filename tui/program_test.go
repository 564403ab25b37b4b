package tui

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/prunerlab/pruner-tui/core/data"
	"github.com/prunerlab/pruner-tui/core/modelfile"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

// Generous: CI has two cores and -race slows the numerics several times.
const programTimeout = 120 * time.Second

func contains(subs ...string) func([]byte) bool {
	return func(b []byte) bool {
		for _, s := range subs {
			if !bytes.Contains(b, []byte(s)) {
				return false
			}
		}
		return true
	}
}

// TestProgramQuickstart runs the real quickstart preset (synthetic data,
// seconds) in the whole program: it must reach the done stage with result
// rows, answer a knob, fine-tune, and quit on q.
func TestProgramQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	spec, err := spec.Load("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	// A smaller run of the same preset keeps the test fast under -race.
	spec.Dataset.Samples, spec.Train.Epochs = 2000, 5
	m := New(Config{Spec: spec, Export: t.TempDir() + "/quickstart"})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 40))

	// The run ends: the status line says done, and the baseline's row
	// ("dense fp32") is in the table.
	teatest.WaitFor(t, tm.Output(), contains("✓ done", "fp32"),
		teatest.WithDuration(programTimeout), teatest.WithCheckInterval(100*time.Millisecond))

	// A knob turn is evaluated on the trained baseline.
	tm.Send(tea.KeyMsg{Type: tea.KeyRight})
	teatest.WaitFor(t, tm.Output(), contains("Preview ratio=0.05"),
		teatest.WithDuration(programTimeout), teatest.WithCheckInterval(100*time.Millisecond))

	// f fine-tunes that setting and adds its row.
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("f")})
	teatest.WaitFor(t, tm.Output(), contains("fine-tuned ratio=0.05"),
		teatest.WithDuration(programTimeout), teatest.WithCheckInterval(100*time.Millisecond))

	// The fine-tuned row is the user's and not exported: q asks, q again quits.
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	teatest.WaitFor(t, tm.Output(), contains("Quit pruner-tui?", "you added are not exported"),
		teatest.WithDuration(programTimeout), teatest.WithCheckInterval(100*time.Millisecond))
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(programTimeout)).(*model)

	if got := final.status.Stage(); got != experiments.StageDone {
		t.Errorf("final stage %q, want %q", got, experiments.StageDone)
	}
	rows := final.results.Table()
	if len(rows) < 2 {
		t.Fatalf("final table has %d rows, want the baseline, the preset's steps and the fine-tune", len(rows))
	}
	if rows[0].Technique != "dense" || rows[0].Setting != "fp32" {
		t.Errorf("first row %q %q, want the dense fp32 baseline", rows[0].Technique, rows[0].Setting)
	}
	last := rows[len(rows)-1]
	if last.Setting != "ratio=0.05 finetune=2" {
		t.Errorf("last row %q, want the fine-tuned knob setting", last.Setting)
	}
	if want := len(spec.Compress) + 2; len(rows) != want {
		t.Errorf("final table has %d rows, want %d (baseline, %d steps, fine-tune)", len(rows), want, len(spec.Compress))
	}
	if final.controls.Pending() {
		t.Error("an evaluation was still pending at the end")
	}

	out, err := io.ReadAll(tm.FinalOutput(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Error("no final output")
	}
}

// TestProgramQuitWhileTraining quits during the baseline's training: the
// program ends at once and the run's context is cancelled.
func TestProgramQuitWhileTraining(t *testing.T) {
	spec, err := spec.Load("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	spec.Train.Epochs = 200 // long enough to still be training when q arrives
	tm := teatest.NewTestModel(t, New(Config{Spec: spec}), teatest.WithInitialTermSize(100, 30))
	teatest.WaitFor(t, tm.Output(), contains("training epoch"),
		teatest.WithDuration(programTimeout), teatest.WithCheckInterval(50*time.Millisecond))
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(*model)
	if final.status.Stage() == experiments.StageDone {
		t.Error("the run finished before the quit; make it longer")
	}
}

// TestProgramPruningSchedules runs a sensitivity analysis and gradual
// pruning through the whole program: the chart shows the sensitivity
// curves, then goes back to the training curves with the sparsity schedule
// beside the loss; the layer pane ends at the final sparsity.
func TestProgramPruningSchedules(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	spec, err := spec.Parse("schedules.yaml", []byte(`name: schedules
dataset: {name: spirals, classes: 3, noise: 0.05, samples: 600}
model:
  layers: [{type: dense, units: 32}, {type: relu}, {type: dense, units: 3}]
train: {optimizer: adam, lr: 0.01, epochs: 2, batch: 32}
compress:
  - {technique: sensitivity, ratios: [0, 0.5, 0.9]}
  - {technique: prune, schedule: gradual, ratio: 0.9, scope: global, end_epoch: 2, every: 2, finetune_epochs: 1}
`))
	if err != nil {
		t.Fatal(err)
	}
	tm := teatest.NewTestModel(t, New(Config{Spec: spec, Export: t.TempDir() + "/schedules"}), teatest.WithInitialTermSize(120, 40))
	teatest.WaitFor(t, tm.Output(), contains("✓ done", "prune-gradual"),
		teatest.WithDuration(programTimeout), teatest.WithCheckInterval(100*time.Millisecond))
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(programTimeout)).(*model)

	if !final.chart.HasSensitivity() || final.chart.ShowsSensitivity() {
		t.Errorf("sensitivity kept %v, shown %v; want kept, with the curves back on screen", final.chart.HasSensitivity(), final.chart.ShowsSensitivity())
	}
	if s, _ := final.session.sensitivity.Of(results.Pruning); len(s.Points) != 2*3 {
		got := len(s.Points)
		t.Errorf("%d sensitivity rows kept for export, want 2 layers × 3 ratios", got)
	}
	// 2·32 + 32·3 = 160 weights; 90% global is 144 of them.
	if got := final.chart.Summary(); !strings.HasPrefix(got, "prune-gradual ratio=0.90") || !strings.HasSuffix(got, "sparsity 90.0%") {
		t.Errorf("chart summary %q, want the gradual phase ending at 90.0%% sparsity", got)
	}
	if label := final.layers.Label(); !strings.HasPrefix(label, "prune-gradual") {
		t.Errorf("layer pane shows %q, want the gradual phase", label)
	}
	rows := final.results.Table()
	if len(rows) != 2 || rows[1].Technique != "prune-gradual" {
		t.Errorf("rows %+v, want dense and prune-gradual", rows)
	}
}

// TestProgramBitSensitivity runs a bit-width sensitivity step and mixed
// precision from it (what ptq-sweep does, on synthetic data) through the
// whole program: the chart shows the bit-width curves, v reaches the
// training curves and comes back, and the table is kept for export.
func TestProgramBitSensitivity(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	spec, err := spec.Parse("bits.yaml", []byte(`name: bits
dataset: {name: spirals, classes: 3, noise: 0.05, samples: 600}
model:
  layers: [{type: dense, units: 32}, {type: relu}, {type: dense, units: 3}]
train: {optimizer: adam, lr: 0.01, epochs: 2, batch: 32}
compress:
  - {technique: bit-sensitivity, bit_widths: [8, 4, 2]}
  - {technique: quantize, bits_from: sensitivity, max_loss_pp: 1}
`))
	if err != nil {
		t.Fatal(err)
	}
	tm := teatest.NewTestModel(t, New(Config{Spec: spec, Export: t.TempDir() + "/bits"}), teatest.WithInitialTermSize(120, 40))
	wait := func(subs ...string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), contains(subs...),
			teatest.WithDuration(programTimeout), teatest.WithCheckInterval(100*time.Millisecond))
	}
	wait("✓ done", "each layer quantized alone")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("v")})
	wait("v shows the bit-width sensitivity next")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("v")})
	wait("v shows the curves next")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(programTimeout)).(*model)

	if k, ok := final.chart.ShownKind(); !ok || k != results.Bits {
		t.Errorf("chart shows %v %v at the end, want the bit-width sensitivity", k, ok)
	}
	if s, _ := final.session.sensitivity.Of(results.Bits); len(s.Points) != 2*3 {
		t.Errorf("%d bit-width sensitivity rows kept for export, want 2 layers × 3 widths", len(s.Points))
	}
	if _, ok := final.session.sensitivity.Of(results.Pruning); ok {
		t.Error("a pruning table kept from a run without a pruning analysis")
	}
}

// TestProgramCompact runs quickstart at 80×24: the run ends, the layers
// tab lists every layer, e asks the format and writes the JSON, and with
// the table exported q quits at once.
func TestProgramCompact(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	spec, err := spec.Load("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	spec.Dataset.Samples, spec.Train.Epochs = 2000, 5
	prefix := t.TempDir() + "/quickstart"
	tm := teatest.NewTestModel(t, New(Config{Spec: spec, Export: prefix}), teatest.WithInitialTermSize(80, 24))
	wait := func(subs ...string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), contains(subs...),
			teatest.WithDuration(programTimeout), teatest.WithCheckInterval(100*time.Millisecond))
	}
	wait("✓ done", "Layers ─╮")
	for range 3 {
		tm.Send(tea.KeyMsg{Type: tea.KeyTab})
	}
	wait("128→3", "Results ─╮")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("e")})
	wait("Export the results")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("j")})
	wait("exported the result")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(programTimeout)).(*model)
	if final.dialog != nil {
		t.Error("q asked although the table was exported and nothing ran")
	}
	b, err := os.ReadFile(prefix + ".json")
	if err != nil || !bytes.Contains(b, []byte(`"setting": "fp32"`)) {
		t.Errorf("the JSON export: %v\n%s", err, b)
	}
}

// TestProgramModelFile opens the program on a model file given by
// itself, as `pruner-tui model.safetensors` does: its model is the
// baseline (no training), the default steps add their rows, and the
// knobs turn on it.
func TestProgramModelFile(t *testing.T) {
	if testing.Short() {
		t.Skip("scores a model on MNIST")
	}
	if _, err := data.FindMNIST(""); err != nil {
		t.Skip("MNIST not found:", err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	m := &nn.Sequential{Layers: []nn.Layer{nn.NewDense("fc1", 784, 16, rng), nn.NewReLU("relu1"), nn.NewDense("fc2", 16, 10, rng)}}
	var buf bytes.Buffer
	in := &modelfile.Input{Shape: []int{1, 28, 28}, Scale: 1.0 / 255, Mean: data.MNIST.Mean, Std: data.MNIST.Std}
	if err := modelfile.WriteSafetensorsInfo(&buf, m, modelfile.Info{Input: in, Dataset: "mnist"}); err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/mine.safetensors"
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := spec.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	// A slice of MNIST keeps the test fast under -race.
	s.Dataset.Limit, s.Dataset.TestLimit = 1000, 1000
	tm := teatest.NewTestModel(t, New(Config{Spec: s}), teatest.WithInitialTermSize(120, 40))
	teatest.WaitFor(t, tm.Output(), contains("✓ done", "fp32", "mine"),
		teatest.WithDuration(programTimeout), teatest.WithCheckInterval(100*time.Millisecond))
	tm.Send(tea.KeyMsg{Type: tea.KeyRight})
	teatest.WaitFor(t, tm.Output(), contains("Preview ratio=0.05"),
		teatest.WithDuration(programTimeout), teatest.WithCheckInterval(100*time.Millisecond))
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(programTimeout)).(*model)
	rows := final.results.Table()
	if len(rows) != 1+len(s.Compress) || rows[0].Technique != "dense" || rows[0].WallS != 0 {
		t.Fatalf("rows %+v, want the imported dense row (nothing trained) and the default steps'", rows)
	}
}
