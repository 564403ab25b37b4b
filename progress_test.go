package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prunerlab/pruner-tui/core/modelfile"
	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/spec"

	"github.com/prunerlab/pruner-tui/experiments/results"
)

// tinySpec is a small, fast spec: 4-8-3 on blobs, pruned, quantized and
// factorized.
const tinySpec = `name: tiny
seed: 7
dataset: {name: blobs, classes: 3, dim: 4, samples: 120}
model:
  layers:
    - {type: dense, units: 8}
    - {type: relu}
    - {type: dropout, rate: 0.1}
    - {type: dense, units: 3, name: out}
train: {optimizer: adam, lr: 0.01, epochs: 2, batch: 16}
compress:
  - {technique: prune, ratio: 0.5, finetune_epochs: 1}
  - {technique: quantize, bits: 4}
  - {technique: lowrank, layer: fc1, rank: 2}
`

func TestProgressSinkPlain(t *testing.T) {
	var buf bytes.Buffer
	s, err := spec.Parse("tiny.yaml", []byte(tinySpec))
	if err != nil {
		t.Fatal(err)
	}
	report, err := experiments.Run(context.Background(), s, experiments.Options{}, newProgressSink(&buf))
	table := report.Rows
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "\r") {
		t.Error("plain output (not a terminal) contains \\r redraws")
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	wantPrefixes := []string{
		"loading data blobs",
		"building model 4-8-3",
		"baseline epoch 1/2: loss ",
		"baseline epoch 2/2: loss ",
		"result dense fp32: test ",
		"compressing prune ratio=0.50 finetune=1",
		"prune ratio=0.50 finetune=1 epoch 1/1: loss ",
		"evaluating prune ratio=0.50 finetune=1",
		"result prune ratio=0.50 finetune=1: test ",
		"compressing quantize bits=4",
		"evaluating quantize bits=4",
		"result quantize bits=4: test ",
		"compressing lowrank rank=2@fc1",
		"evaluating lowrank rank=2@fc1",
		"result lowrank rank=2@fc1: test ",
		"done: 4 rows in ",
	}
	if len(lines) != len(wantPrefixes) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(wantPrefixes), out)
	}
	for i, p := range wantPrefixes {
		if !strings.HasPrefix(lines[i], p) {
			t.Errorf("line %d = %q, want prefix %q", i+1, lines[i], p)
		}
	}
	q := table[2]
	if want := fmt.Sprintf("size %s (×%.2f)", modelfile.FormatSize(q.SizeBytes), q.CompressionRatio); !strings.Contains(lines[11], want) {
		t.Errorf("quantize result line %q lacks the size %s", lines[11], want)
	}
}

func TestProgressSinkTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := &progressSink{w: &buf, tty: true, width: 60}
	p.Emit(experiments.StageEvent{Stage: experiments.StageTraining, Detail: "epoch 1/3"})
	p.lastDraw = time.Time{} // as if 100 ms had passed: the next step redraws
	p.Emit(experiments.StepEvent{Phase: "baseline", Epoch: 1, Epochs: 3, Step: 5, Steps: 10, Loss: 0.5})
	p.Emit(experiments.EpochEvent{Phase: "baseline", Epoch: 1, Epochs: 3, TrainLoss: 0.25, TrainAcc: 0.9, TestAcc: 0.8})
	p.Emit(experiments.DoneEvent{Err: context.Canceled, Report: results.Report{Rows: results.Table{{}}}})
	out := buf.String()
	// Step 5 is drawn as a half-full bar on the line the epoch summary
	// then replaces.
	if !strings.Contains(out, "\r\x1b[Ktraining epoch 1/3 [##########----------]  50%  loss 0.5000") {
		t.Errorf("no half-full progress bar in %q", out)
	}
	if !strings.Contains(out, "\r\x1b[Kbaseline epoch 1/3: loss 0.2500  train 90.00%  test 80.00%") {
		t.Errorf("the epoch line does not clear the bar first: %q", out)
	}
	if !strings.HasSuffix(out, "cancelled after 0s: 1 rows kept\n") {
		t.Errorf("output does not end with the cancel line: %q", out)
	}
	for _, l := range strings.Split(strings.ReplaceAll(out, "\r\x1b[K", "\n"), "\n") {
		if utf8.RuneCountInString(l) >= 60 && !strings.HasPrefix(l, "baseline epoch") {
			t.Errorf("progress line %q is wider than the terminal", l)
		}
	}

	buf.Reset()
	p = &progressSink{w: &buf, tty: true, width: 80}
	p.Emit(experiments.DoneEvent{Err: errors.New("boom")})
	if buf.String() != "failed after 0s: boom\n" {
		t.Errorf("failure line %q", buf.String())
	}
}

func TestProgressSinkPruning(t *testing.T) {
	var buf bytes.Buffer
	p := newProgressSink(&buf)
	p.Emit(experiments.EpochEvent{Phase: "prune-gradual ratio=0.90", Epoch: 2, Epochs: 4, TrainLoss: 0.1, TrainAcc: 0.99, TestAcc: 0.98, TestLoss: 0.07, Sparsity: 0.7875})
	p.Emit(experiments.SensitivityEvent{Phase: "sensitivity ratios=0.00-0.55 (2)", BaseTestAcc: 98.37,
		Table: results.Sensitivity{Points: []results.Point{{Layer: "fc1", Value: 0, TestAcc: 98.37}, {Layer: "fc1", Value: 0.55, TestAcc: 98.4}}}})
	p.Emit(experiments.SensitivityEvent{Phase: "sensitivity ratios=0.00-0.55 (2)", BaseTestAcc: 98.37, Done: true,
		Table: results.Sensitivity{Points: []results.Point{{Layer: "fc1", Value: 0, TestAcc: 98.37}, {Layer: "fc1", Value: 0.55, TestAcc: 98.4}, {Layer: "fc3", Value: 0, TestAcc: 98.37}, {Layer: "fc3", Value: 0.55, TestAcc: 97.91}}}})
	want := "prune-gradual ratio=0.90 epoch 2/4: loss 0.1000  train 99.00%  test 98.00%  test loss 0.0700  sparsity 78.8%\n" +
		"sensitivity ratios=0.00-0.55 (2): test accuracy % with one layer pruned (dense 98.37%):\n" +
		"layer     0%    55%\n" +
		"fc1    98.37  98.40\n" +
		"fc3    98.37  97.91\n"
	if buf.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", buf.String(), want)
	}
}
