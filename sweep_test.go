package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const tinySweep = `name: tiny
seed: 3
dataset: {name: blobs, classes: 3, dim: 4, samples: 300}
model:
  layers:
    - {type: dense, units: 8}
    - {type: relu}
    - {type: dense, units: 3}
train: {optimizer: adam, lr: 0.01, epochs: 2, batch: 32}
compress:
  - {technique: prune, ratio: 0.5}
sweep:
  grid:
    compress[0].ratio: [0.3, 0.6]
  repeats: 2
`

func TestSweepWritesStatisticsAndRuns(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tiny.yaml")
	if err := os.WriteFile(file, []byte(tinySweep), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "s.csv")
	var stdout, stderr bytes.Buffer
	png := filepath.Join(dir, "s.png")
	if err := run([]string{"sweep", file, "--workers", "2", "--out", out, "--plot", png}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "Welch") || !strings.Contains(stdout.String(), " ± ") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "[6/6] ") || !strings.Contains(stderr.String(), "baseline seed=4: 1 row,") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("the plot: %v", err)
	}
	records := readCSV(t, out)
	// dense, ratio 0.3, ratio 0.6: three rows of two seeds each.
	if len(records) != 4 || records[0][4] != "n" || records[1][4] != "2" || records[3][1] != "compress[0].ratio=0.6" {
		t.Errorf("statistics %v", records)
	}
	runs := readCSV(t, filepath.Join(dir, "s-runs.csv"))
	if len(runs) != 7 || runs[0][1] != "point" || runs[0][2] != "seed" {
		t.Errorf("runs %v", runs)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return records
}

func TestSweepRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tiny.yaml")
	if err := os.WriteFile(file, []byte(tinySweep), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(strings.Replace(tinySweep, "[0.3, 0.6]", "[0.3, 1.6]", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", file}, "is a sweep of 4 runs: run it with 'pruner-tui sweep"},
		{[]string{"sweep", file, "--workers", "-1"}, "--workers must be ≥ 1"},
		{[]string{"sweep", file, "--out", filepath.Join(dir, "x.txt")}, "unknown extension"},
		{[]string{"sweep", bad}, "line 14: sweep axis compress[0].ratio: the value 1.6: must be in [0, 0.99], got 1.6"},
		{[]string{"sweep"}, "sweep takes one preset name or YAML file, got 0"},
		{[]string{"sweep", file, "--plot", filepath.Join(dir, "p.gif")}, "use .png or .svg"},
		{[]string{"sweep", file, "--plot", filepath.Join(dir, "no", "p.png")}, "does not exist"},
	} {
		err := run(c.args, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want …%s…", c.args, err, c.want)
		}
	}
}
