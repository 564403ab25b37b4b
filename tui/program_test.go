package tui

import (
	"bytes"
	"io"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/prunerlab/pruner-tui/experiments"
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
	spec, err := experiments.LoadSpec("quickstart")
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
	spec, err := experiments.LoadSpec("quickstart")
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
