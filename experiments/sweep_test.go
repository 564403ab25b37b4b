package experiments

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

const sweepYAML = `name: sw
seed: 3
dataset: {name: spirals, classes: 3, samples: 300, noise: 0.1}
model:
  layers:
    - {type: dense, units: 24}
    - {type: relu}
    - {type: dense, units: 3}
train: {optimizer: adam, lr: 0.01, epochs: 3, batch: 32}
compress:
  - {technique: prune, ratio: 0.5, finetune_epochs: 1}
  - {technique: quantize, bits: 4}
`

func parseSweep(t *testing.T, block string) spec.Spec {
	t.Helper()
	s, err := spec.Parse("sw.yaml", []byte(sweepYAML+block))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// untimed drops the columns that measure time, which no two runs share.
func untimed(rows results.SweepTable) results.SweepTable {
	out := slices.Clone(rows)
	for i := range out {
		out[i].LatencyUsB1, out[i].LatencyUsB256, out[i].WallS = results.Measured{}, results.Measured{}, 0
	}
	return out
}

func runSweep(t *testing.T, s spec.Spec, workers int) (results.SweepReport, []SweepProgress) {
	t.Helper()
	var mu sync.Mutex
	var jobs []SweepProgress
	report, err := RunSweep(context.Background(), s, Options{}, SweepOptions{Workers: workers, Progress: func(p SweepProgress) {
		mu.Lock()
		jobs = append(jobs, p)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	return report, jobs
}

func TestSweepSharesBaselines(t *testing.T) {
	s := parseSweep(t, "sweep:\n  grid:\n    compress[0].ratio: [0.3, 0.9]\n  repeats: 2\n")
	report, jobs := runSweep(t, s, 2)
	baselines := 0
	for _, j := range jobs {
		if strings.HasPrefix(j.Job, "baseline") {
			baselines++
		}
	}
	// Two seeds: two trainings for four runs.
	if baselines != 2 || len(jobs) != 6 || jobs[5].Done != 6 || jobs[5].Total != 6 {
		t.Errorf("jobs %+v, want 2 baselines and 4 runs", jobs)
	}
	var got []string
	for _, r := range report.Rows {
		got = append(got, r.Point+"|"+r.Technique+"|"+r.Setting+"|"+string(rune('0'+r.Seed)))
	}
	// The quantize entry, which no axis touches, runs once per baseline.
	want := []string{"|dense|fp32|3", "compress[0].ratio=0.3|prune|ratio=0.30 finetune=1|3", "|quantize|bits=4|3",
		"|dense|fp32|4", "compress[0].ratio=0.3|prune|ratio=0.30 finetune=1|4", "|quantize|bits=4|4",
		"compress[0].ratio=0.9|prune|ratio=0.90 finetune=1|3", "compress[0].ratio=0.9|prune|ratio=0.90 finetune=1|4"}
	if !slices.Equal(got, want) {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A shared baseline gives each run the table its own training would.
	for _, p := range s.Sweep.Points {
		alone, err := Run(context.Background(), p.Spec, Options{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var mine results.SweepTable
		for _, r := range report.Rows {
			if r.Seed == p.Spec.Seed && (r.Point == p.Label() || r.Point == "") {
				mine = append(mine, r)
			}
		}
		byTechnique := func(a, b results.Row) int { return strings.Compare(a.Technique, b.Technique) }
		a, b := untimed(mine).Results(), untimed(results.SweepTable(tableOf(alone.Rows))).Results()
		slices.SortFunc(a, byTechnique)
		slices.SortFunc(b, byTechnique)
		if !slices.Equal(a, b) {
			t.Errorf("%s seed %d: shared\n%v\nalone\n%v", p.Label(), p.Spec.Seed, a, b)
		}
	}
	if len(report.Stats) != 4 || report.Stats[0].N != 2 || report.Stats[1].Delta == nil || report.Stats[2].Technique != "quantize" {
		t.Errorf("stats %+v", report.Stats)
	}
}

func tableOf(rows results.Table) results.SweepTable {
	out := make(results.SweepTable, len(rows))
	for i, r := range rows {
		out[i].Row = r
	}
	return out
}

func TestSweepSameTableAnyWorkers(t *testing.T) {
	s := parseSweep(t, "sweep:\n  grid:\n    train.lr: [0.01, 0.02]\n    compress[1].bits: [2, 8]\n")
	one, jobs := runSweep(t, s, 1)
	three, _ := runSweep(t, s, 3)
	if !slices.Equal(untimed(one.Rows), untimed(three.Rows)) {
		t.Errorf("1 worker:\n%v\n3 workers:\n%v", one.Rows, three.Rows)
	}
	// A baseline per learning rate, its dense and prune rows labelled by
	// it alone (the prune entry runs once per baseline), the quantize
	// rows by it and the bits.
	var got []string
	for _, r := range one.Rows {
		got = append(got, r.Point+"|"+r.Technique)
	}
	want := []string{"train.lr=0.01|dense", "train.lr=0.01|prune", "train.lr=0.01 compress[1].bits=2|quantize", "train.lr=0.01 compress[1].bits=8|quantize",
		"train.lr=0.02|dense", "train.lr=0.02|prune", "train.lr=0.02 compress[1].bits=2|quantize", "train.lr=0.02 compress[1].bits=8|quantize"}
	if len(jobs) != 6 || !slices.Equal(got, want) || one.Stats != nil {
		t.Errorf("jobs %d, rows\n%s\nwant\n%s", len(jobs), strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if one.Rows[0].TestAcc == one.Rows[4].TestAcc {
		t.Error("two learning rates trained the same baseline")
	}
}

func TestSweepFailedRunKeepsTheOthers(t *testing.T) {
	s := parseSweep(t, "sweep:\n  grid:\n    compress[0].ratio: [0.3, 0.9]\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	report, err := RunSweep(ctx, s, Options{}, SweepOptions{Workers: 2})
	if err == nil || len(report.Rows) != 0 {
		t.Errorf("a cancelled sweep: %v, %d rows", err, len(report.Rows))
	}
	if _, err := RunSweep(context.Background(), s, Options{Baseline: "x.prtm"}, SweepOptions{}); err == nil {
		t.Error("--baseline with a sweep should be refused")
	}
	// A sweep trains its baselines: an imported model is refused, not
	// silently trained anew.
	s.Model.From = "model.safetensors"
	if _, err := RunSweep(context.Background(), s, Options{}, SweepOptions{}); err == nil || !strings.Contains(err.Error(), "model.from") {
		t.Errorf("model.from with a sweep: %v, want it refused", err)
	}
}

func TestEntryPlanRunsEachEntryOncePerSetting(t *testing.T) {
	s := parseSweep(t, "sweep:\n  grid:\n    compress[0].ratio: [0.3, 0.9]\n    compress[1].bits: [2, 8]\n")
	groups, groupOf := groupRuns(s.Sweep.Points)
	got := entryPlan(s.Sweep.Points, groupOf)
	// (0.3, 2) runs both; (0.3, 8) only the quantize; (0.9, 2) only the prune; (0.9, 8) neither.
	want := [][]bool{{false, false}, {true, false}, {false, true}, {true, true}}
	if len(groups) != 1 || !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("skips %v, want %v (groups %d)", got, want, len(groups))
	}
	withAnalysis := strings.Replace(sweepYAML, "compress:\n", "compress:\n  - {technique: sensitivity, ratios: [0, 0.5]}\n", 1)
	a, err := spec.Parse("a.yaml", []byte(withAnalysis+"sweep:\n  grid:\n    compress[1].ratio: [0.3, 0.9]\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, groupOf = groupRuns(a.Sweep.Points)
	for i, skips := range entryPlan(a.Sweep.Points, groupOf) {
		if slices.Contains(skips, true) {
			t.Errorf("run %d skips %v: a spec with an analysis runs every entry", i, skips)
		}
	}
}

func TestFitWorkers(t *testing.T) {
	s := parseSweep(t, "sweep:\n  grid:\n    compress[0].ratio: [0.3, 0.9]\n")
	m := s.Sweep.Points[0].Spec.Memory()
	run := m.Model + m.Activations
	for _, c := range []struct {
		limit         int64
		workers, want int
	}{
		{m.Dataset + 3*run, 8, 3}, {m.Dataset + 3*run - 1, 8, 2}, {m.Dataset + 3*run, 2, 2}, {m.Dataset, 4, 1},
	} {
		if got := fitWorkers(s.Sweep.Points, c.limit, c.workers); got != c.want {
			t.Errorf("limit %d, %d workers: %d fit, want %d", c.limit, c.workers, got, c.want)
		}
	}
}
