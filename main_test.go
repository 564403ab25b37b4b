package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/results"
)

func TestHelpDocumentsEveryCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"--help"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pruner-tui run", "pruner-tui sweep", "--workers", "pruner-tui presets", "--out", "--save", "--data", "--seed", "PRUNER_TUI_MNIST"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help does not mention %q", want)
		}
	}
}

func TestPresetsListsEmbeddedPresets(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"presets"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"quickstart", "lenet-300-100", "seed-mlp", "overfitting"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("presets output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunWritesTableByExtension(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "tiny.yaml")
	yaml := `name: tiny
description: a tiny blobs run
seed: 3
dataset: {name: blobs, classes: 3, dim: 4, samples: 300}
model:
  layers:
    - {type: dense, units: 8}
    - {type: relu}
    - {type: dense, units: 3}
train: {optimizer: adam, lr: 0.01, epochs: 3, batch: 32}
compress:
  - {technique: prune, ratio: 0.5}
`
	if err := os.WriteFile(spec, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "r.json")
	var stdout, stderr bytes.Buffer
	// Flags after the positional argument, as users type them.
	if err := run([]string{"run", spec, "--out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want the baseline and one prune row", len(rows))
	}
	for _, col := range results.Columns {
		if _, ok := rows[1][col]; !ok {
			t.Errorf("JSON row lacks column %q", col)
		}
	}
	if _, ok := rows[1]["test_acc"].(float64); !ok {
		t.Errorf("test_acc is %T, want a JSON number", rows[1]["test_acc"])
	}
	if !strings.Contains(stdout.String(), "prune") {
		t.Errorf("stdout lacks the table:\n%s", stdout.String())
	}
}

// TestRunSaveWritesModelFiles: run --save DIR writes every row's model
// file, as many bytes as its size_bytes, and the baseline's safetensors;
// inspect reads them back.
func TestRunSaveWritesModelFiles(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "tiny.yaml")
	yaml := `name: tiny
seed: 3
dataset: {name: blobs, classes: 3, dim: 4, samples: 300}
model:
  layers:
    - {type: dense, units: 8}
    - {type: relu}
    - {type: dense, units: 3}
train: {optimizer: adam, lr: 0.01, epochs: 3, batch: 32}
compress:
  - pipeline: [{technique: prune, ratio: 0.5}, {technique: kmeans, clusters: 4}]
`
	if err := os.WriteFile(spec, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	save, out := filepath.Join(dir, "models"), filepath.Join(dir, "r.json")
	var stdout, stderr bytes.Buffer
	if err := run([]string{"run", spec, "--save", save, "--out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rows []results.Row
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	want := []string{"tiny-00-dense.prtm", "tiny-00-dense.safetensors", "tiny-01-prune.prtm", "tiny-01-prune.safetensors",
		"tiny-02-kmeans.prtm", "tiny-02-kmeans.safetensors"}
	entries, err := os.ReadDir(save)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("saved %v, want %v", got, want)
	}
	for i, r := range rows {
		info, err := os.Stat(filepath.Join(save, experiments.RowFileStem(r, i)+".prtm"))
		if err != nil || info.Size() != r.SizeBytes {
			t.Errorf("row %d: file %v (err %v), size_bytes %d", i, info, err, r.SizeBytes)
		}
	}
	var inspect bytes.Buffer
	if err := run([]string{"inspect", filepath.Join(save, "tiny-02-kmeans.prtm")}, &inspect, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(inspect.String(), "codebook") {
		t.Errorf("inspect of the k-means row:\n%s", inspect.String())
	}
	// One notation for shapes (in→out) and one unit for sizes (KiB) in
	// everything the project prints.
	for _, file := range []string{"tiny-02-kmeans.prtm", "tiny-00-dense.safetensors"} {
		inspect.Reset()
		if err := run([]string{"inspect", filepath.Join(save, file)}, &inspect, &stderr); err != nil {
			t.Fatal(err)
		}
		if out := inspect.String(); !strings.Contains(out, "4→8") || strings.Contains(out, "4×8") {
			t.Errorf("inspect %s does not write shapes as in→out:\n%s", file, out)
		}
	}
	if out := inspect.String(); !strings.Contains(out, "8→3 (stored [3 8])") {
		t.Errorf("safetensors shapes:\n%s", out)
	}
	if !strings.Contains(stderr.String(), "wrote 3 model files to "+save) {
		t.Errorf("stderr lacks the save note:\n%s", stderr.String())
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.yaml")
	os.WriteFile(broken, []byte("name: x\ntrain: {lr: [1, 2]\n"), 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "one preset name or YAML file"},
		{[]string{"run", "no-such-preset"}, "quickstart"},
		{[]string{"run", "quickstart", "--out", "r.xlsx"}, ".csv, .md or .json"},
		{[]string{"run", broken}, "broken.yaml"},
	}
	for _, c := range cases {
		err := run(c.args, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run %q: error %v, want one mentioning %q", c.args, err, c.want)
		}
	}
}

func TestRunExportsSensitivityTablesBesideTheResults(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "sens.yaml")
	yaml := `name: sens
seed: 3
dataset: {name: blobs, classes: 3, dim: 4, samples: 300}
model:
  layers:
    - {type: dense, units: 8}
    - {type: relu}
    - {type: dense, units: 3}
train: {optimizer: adam, lr: 0.01, epochs: 2, batch: 32}
compress:
  - {technique: sensitivity, ratios: [0, 0.5]}
  - {technique: bit-sensitivity, bit_widths: [8, 2]}
`
	if err := os.WriteFile(spec, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "r.csv")
	var stderr bytes.Buffer
	if err := run([]string{"run", spec, "--out", out}, &bytes.Buffer{}, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	for path, header := range map[string]string{
		results.SidePath(out, results.Pruning): "layer,ratio,test_acc",
		results.SidePath(out, results.Bits):    "layer,bits,test_acc",
	} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if lines[0] != header {
			t.Errorf("%s header %q, want %q", path, lines[0], header)
		}
		// Two layers (fc1, fc2) at two settings each.
		if len(lines) != 1+4 {
			t.Errorf("%s has %d rows, want 4:\n%s", path, len(lines)-1, b)
		}
	}
}
