package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/data"
	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/results"
)

// torchPython is the first interpreter of $PYTHON, /usr/bin/python3 and
// python3 that imports torch, as scripts/peers chooses one; "" and what
// was tried when none does.
func torchPython() (python, tried string) {
	var names []string
	for _, p := range []string{os.Getenv("PYTHON"), "/usr/bin/python3", "python3"} {
		if p == "" {
			continue
		}
		names = append(names, p)
		if exec.Command(p, "-c", "import torch").Run() == nil {
			return p, ""
		}
	}
	return "", strings.Join(names, ", ")
}

// torchResult is one JSON line of examples/pytorch's scripts.
type torchResult struct {
	Model, File, Technique, Setting string
	TestAcc                         float64 `json:"test_acc"`
	Correct, Total                  int
}

// runPython runs an example script and reads its JSON lines.
func runPython(t *testing.T, python, script string, args ...string) []torchResult {
	t.Helper()
	cmd := exec.Command(python, append([]string{filepath.Join("examples", "pytorch", script)}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, stderr.String())
	}
	var rs []torchResult
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r torchResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s printed %q: %v", script, sc.Text(), err)
		}
		rs = append(rs, r)
	}
	return rs
}

// TestPyTorchRoundTrip: LeNet-300-100 and LeNet-5 trained in PyTorch
// (briefly, on 1,000 images; scored on the first 2,000 test images) are
// imported with model.from; pruner-tui's dense row scores what PyTorch
// scored, to the image; its exports of the
// dense, 95%-pruned, 4-bit and rank-20 rows, loaded by PyTorch from their
// metadata alone, score what their rows say. Skips without an interpreter
// that imports torch (Debian: apt-get install python3-torch), or MNIST.
func TestPyTorchRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the PyTorch round trip trains two models")
	}
	if raceEnabled {
		// It checks numbers, not concurrency; .ci/run runs it without.
		t.Skip("under the race detector the round trip's numerics take minutes: run it without -race (as .ci/run does)")
	}
	python, tried := torchPython()
	if python == "" {
		t.Skipf("no Python that imports torch (tried %s): install python3-torch (Debian) or set PYTHON to run the PyTorch round trip", tried)
	}
	mnist, err := data.FindMNIST("")
	if err != nil {
		t.Skip("MNIST not found:", err)
	}
	dir := t.TempDir()
	trained := runPython(t, python, "train.py", "--data", mnist, "--out", dir, "--epochs", "1", "--limit", "1000", "--test-limit", "2000")
	if len(trained) != 2 {
		t.Fatalf("train.py reported %d models, want 2", len(trained))
	}
	var exports []string
	rowOf := map[string]results.Row{}
	for _, m := range trained {
		save := filepath.Join(dir, m.Model)
		rows := importAndCompress(t, dir, m, save)
		if d := math.Abs(rows[0].TestAcc - m.TestAcc); d > 0.01 {
			t.Errorf("%s: pruner-tui's dense row scores %.2f%%, PyTorch %.2f%%", m.Model, rows[0].TestAcc, m.TestAcc)
		}
		for i, r := range rows {
			file := filepath.Join(save, experiments.RowFileStem(r, i)+experiments.SafetensorsExt)
			exports = append(exports, file)
			rowOf[file] = r
		}
	}
	scored := runPython(t, python, "score.py", append([]string{"--data", mnist, "--test-limit", "2000"}, exports...)...)
	if len(scored) != len(exports) {
		t.Fatalf("score.py scored %d files, want %d", len(scored), len(exports))
	}
	for _, s := range scored {
		r := rowOf[s.File]
		if s.Technique != r.Technique || s.Setting != r.Setting || math.Abs(s.TestAcc-r.TestAcc) > 0.01 {
			t.Errorf("%s: PyTorch scores %s %s at %.2f%%, the row %s %s says %.2f%%", filepath.Base(s.File), s.Technique, s.Setting, s.TestAcc, r.Technique, r.Setting, r.TestAcc)
		}
	}
}

// importAndCompress runs a spec importing m's file with the dense, 95%
// pruned, 4-bit and rank-20 rows, saving their files in save, and
// returns its rows.
func importAndCompress(t *testing.T, dir string, m torchResult, save string) results.Table {
	t.Helper()
	yaml := fmt.Sprintf(`name: torch-%s
dataset: {name: mnist, limit: 1000, test_limit: 2000}
model: {from: %s}
train: {optimizer: adam, lr: 0.001, epochs: 1, batch: 64}
compress:
  - {technique: prune, ratio: 0.95, scope: global}
  - {technique: quantize, bits: 4}
  - {technique: lowrank, layer: fc1, rank: 20}
`, m.Model, filepath.Base(m.File))
	spec := filepath.Join(dir, m.Model+".yaml")
	if err := os.WriteFile(spec, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, m.Model+".json")
	var stdout, stderr bytes.Buffer
	if err := run([]string{"run", spec, "--save", save, "--out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("run %s: %v\n%s", spec, err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rows results.Table
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("%s: %d rows, want dense, prune, quantize, lowrank", m.Model, len(rows))
	}
	return rows
}
