package experiments

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

const baselineSpec = `name: reuse
seed: 4
dataset: {name: blobs, classes: 3, dim: 12, samples: 400}
model:
  layers: [{type: dense, units: 24}, {type: relu}, {type: dropout, rate: 0.1}, {type: dense, units: 3}]
train: {optimizer: adam, lr: 0.01, epochs: 3, batch: 32}
compress:
  - {technique: prune, ratio: 0.7, finetune_epochs: 1}
  - {technique: quantize, bits: 4}
`

// measured drops the columns a rerun measures anew.
func measured(rows results.Table) results.Table {
	out := append(results.Table(nil), rows...)
	for i := range out {
		out[i].LatencyUsB1, out[i].LatencyUsB256, out[i].WallS = results.Measured{}, results.Measured{}, 0
	}
	return out
}

// sameRows checks that two tables hold the same rows, but for the
// measured columns.
func sameRows(t *testing.T, first, again results.Table) {
	t.Helper()
	a, b := measured(first), measured(again)
	if len(a) != len(b) {
		t.Fatalf("%d rows, then %d", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Errorf("row %d differs:\n%+v\n%+v", i, a[i], b[i])
		}
	}
}

// TestBaselineFromFile: a run given the dense row's model file of an
// earlier run skips the training and makes the same table (but for the
// measured columns): the fine-tuning draws its own random streams.
func TestBaselineFromFile(t *testing.T) {
	dir := t.TempDir()
	sp := parseValid(t, baselineSpec)
	first, err := Run(context.Background(), sp, Options{SaveDir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, RowFileStem(first.Rows[0], 0)+".prtm")
	var epochs int
	again, err := Run(context.Background(), sp, Options{Baseline: file}, SinkFunc(func(e Event) {
		if _, ok := e.(EpochEvent); ok {
			epochs++
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, first.Rows, again.Rows)
	// One fine-tuning epoch, none of the baseline's three.
	if epochs != 1 {
		t.Errorf("%d epochs ran, want the prune step's 1", epochs)
	}
	// The dense row's safetensors serve as well.
	st, err := Run(context.Background(), sp, Options{Baseline: filepath.Join(dir, RowFileStem(first.Rows[0], 0)+SafetensorsExt)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, first.Rows, st.Rows)

	// Another model, a lottery step, a missing file: refused before the work.
	other := parseValid(t, strings.Replace(baselineSpec, "units: 24", "units: 20", 1))
	if err := Preflight(other, Options{Baseline: file}); err == nil ||
		!strings.Contains(err.Error(), "its layer 1 is fc1 (dense 12→24), the spec's model has fc1 (dense 12→20) there") {
		t.Errorf("another model: %v", err)
	}
	lottery := parseValid(t, strings.Replace(baselineSpec, "  - {technique: quantize, bits: 4}", "  - {technique: prune, schedule: lottery, rounds: 2, round_ratio: 0.5}", 1))
	if err := Preflight(lottery, Options{Baseline: file}); err == nil || !strings.Contains(err.Error(), "compress[1] is a lottery step") {
		t.Errorf("lottery: %v", err)
	}
	if err := Preflight(sp, Options{Baseline: filepath.Join(dir, "none.prtm")}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}

// TestModelFrom: a spec whose model comes from the dense row's
// safetensors export of an earlier run (its layers from the file's
// metadata) makes that run's table without training; a file that does
// not fit the spec's layers is refused before any work, naming the tensor.
func TestModelFrom(t *testing.T) {
	dir := t.TempDir()
	sp := parseValid(t, baselineSpec)
	first, err := Run(context.Background(), sp, Options{SaveDir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, RowFileStem(first.Rows[0], 0)+SafetensorsExt)
	yaml := fmt.Sprintf("name: reuse\nseed: 4\ndataset: {name: blobs, classes: 3, dim: 12, samples: 400}\nmodel: {from: %s}\n"+
		"train: {optimizer: adam, lr: 0.01, epochs: 3, batch: 32}\ncompress:\n"+
		"  - {technique: prune, ratio: 0.7, finetune_epochs: 1}\n  - {technique: quantize, bits: 4}\n", filepath.Base(file))
	path := filepath.Join(dir, "imported.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	imported, err := spec.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(imported.Model.Layers); got != 4 || imported.Model.Layers[2].Rate != 0.1 {
		t.Fatalf("layers from the metadata: %+v", imported.Model.Layers)
	}
	again, err := Run(context.Background(), imported, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, first.Rows, again.Rows)

	wider := strings.Replace(yaml, "model: {from: "+filepath.Base(file)+"}",
		"model:\n  from: "+filepath.Base(file)+"\n  layers: [{type: dense, units: 20}, {type: relu}, {type: dense, units: 3}]", 1)
	if err := os.WriteFile(path, []byte(wider), 0o644); err != nil {
		t.Fatal(err)
	}
	other, err := spec.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Preflight(other, Options{}); err == nil || !strings.Contains(err.Error(), `model.from `+file+`: tensor "fc1.weight" has shape [24 12]: layer fc1 needs [20 12]`) {
		t.Errorf("another model: %v", err)
	}
	if err := Preflight(imported, Options{Baseline: file}); err == nil || !strings.Contains(err.Error(), "already gives the trained baseline") {
		t.Errorf("--baseline beside model.from: %v", err)
	}
}
