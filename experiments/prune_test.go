package experiments

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/experiments/spec"

	"github.com/prunerlab/pruner-tui/experiments/results"
)

// pruneSpec is a 16-32-16-3 MLP on blobs: 512 + 512 + 48 = 1072 weights
// and 32 + 16 + 3 = 51 biases; 240 examples in batches of 16 make 15 steps
// an epoch. compress is the YAML list of steps.
func pruneSpec(t *testing.T, compress string) spec.Spec {
	t.Helper()
	return parseValid(t, `name: prunes
seed: 3
dataset: {name: blobs, classes: 3, dim: 16, samples: 240}
model:
  layers: [{type: dense, units: 32}, {type: relu}, {type: dense, units: 16}, {type: relu}, {type: dense, units: 3}]
train: {optimizer: adam, lr: 0.01, epochs: 3, batch: 16}
compress:
`+compress)
}

const pruneWeights = 1072

// pruneRun runs sp and returns its table, its events and the number of
// non-zero biases of the trained baseline (rows that are not fine-tuned
// keep them).
func pruneRun(t *testing.T, s spec.Spec) (results.Table, []Event, int64) {
	t.Helper()
	rec := &recorder{}
	report, err := Run(context.Background(), s, Options{}, rec)
	table := report.Rows
	if err != nil {
		t.Fatal(err)
	}
	var biases int64 = -1
	for _, e := range rec.events {
		if b, ok := e.(BaselineEvent); ok {
			biases = nonzeroBiases(b.Trained.Model)
		}
	}
	return table, rec.events, biases
}

func techniquesAndSettings(table results.Table) []string {
	var out []string
	for _, r := range table[1:] {
		out = append(out, r.Technique+" | "+r.Setting)
	}
	return out
}

func checkRows(t *testing.T, table results.Table, want []string) {
	t.Helper()
	if got := techniquesAndSettings(table); !slices.Equal(got, want) {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestPruneOneShotVariants checks the non-zero weights each one-shot form
// leaves, worked out by hand: a layer of n weights pruned at ratio r loses
// round(r·n).
func TestPruneOneShotVariants(t *testing.T) {
	sp := pruneSpec(t, `  - {technique: prune, targets: [0.5, 0.75]}
  - {technique: prune, ratio: 0.5, scope: global, per_layer: {fc3: 0.25}}
  - {technique: prune, ratio: 0.5, criterion: random}
  - {technique: prune, budget: {max_nonzero: 100}}
`)
	table, _, biases := pruneRun(t, sp)
	checkRows(t, table, []string{
		"prune | ratio=0.50",
		"prune | ratio=0.75",
		"prune | ratio=0.50 scope=global per_layer=fc3:0.25",
		"prune | ratio=0.50 criterion=random",
		"prune | max_nonzero=100",
	})
	want := []int64{
		pruneWeights - (256 + 256 + 24), // each layer loses half
		pruneWeights - (384 + 384 + 36), // each loses three quarters
		pruneWeights - (512 + 12),       // fc1+fc2 lose 512 of 1024 together, fc3 12 of 48
		pruneWeights - (256 + 256 + 24), // random: as many as by magnitude
		100,
	}
	for i, w := range want {
		r := table[i+1]
		if got := r.ParamsNonzero - biases; got != w {
			t.Errorf("%s %s: %d non-zero weights, want %d", r.Technique, r.Setting, got, w)
		}
	}
	// Same sp, same table (but latency and time).
	again, _, _ := pruneRun(t, sp)
	for i := range table {
		a, b := table[i], again[i]
		a.LatencyUsB1, a.LatencyUsB256, a.WallS = results.Measured{}, results.Measured{}, 0
		b.LatencyUsB1, b.LatencyUsB256, b.WallS = results.Measured{}, results.Measured{}, 0
		if a != b {
			t.Errorf("row %d differs between runs:\n%+v\n%+v", i, a, b)
		}
	}
}

// TestPruneStructuredShrinks: half the hidden neurons go, so the model is
// 16-16-8-3: 16·16+16 + 16·8+8 + 8·3+3 = 435 parameters (from 1123) and
// 256 + 128 + 24 = 408 multiply-adds (from 1072).
func TestPruneStructuredShrinks(t *testing.T) {
	sp := pruneSpec(t, `  - {technique: prune, structured: true, ratio: 0.5}
  - {technique: prune, structured: true, criterion: l2, ratio: 0.5, per_layer: {fc2: 0.25}}
  - {technique: prune, structured: true, schedule: iterative, rounds: 2, ratio: 0.75}
`)
	table, _, _ := pruneRun(t, sp)
	checkRows(t, table, []string{
		"prune-structured | neurons=0.50 norm=l1",
		"prune-structured | neurons=0.50 norm=l2 per_layer=fc2:0.25",
		"prune-structured-iterative | round=1/2 neurons=0.50 norm=l1",
		"prune-structured-iterative | round=2/2 neurons=0.75 norm=l1",
	})
	if table[0].ParamsTotal != 1123 || table[0].FLOPs != 1072 {
		t.Fatalf("dense row: %d params, %d flops", table[0].ParamsTotal, table[0].FLOPs)
	}
	cases := []struct{ params, flops int64 }{
		{16*16 + 16 + 16*8 + 8 + 8*3 + 3, 16*16 + 16*8 + 8*3},
		// fc1 keeps 16, fc2 keeps 12: 16·16+16 + 16·12+12 + 12·3+3.
		{16*16 + 16 + 16*12 + 12 + 12*3 + 3, 16*16 + 16*12 + 12*3},
		// 1 − √0.25 = half after round 1; a quarter left after round 2:
		// fc1 8, fc2 4.
		{16*16 + 16 + 16*8 + 8 + 8*3 + 3, 16*16 + 16*8 + 8*3},
		{16*8 + 8 + 8*4 + 4 + 4*3 + 3, 16*8 + 8*4 + 4*3},
	}
	for i, c := range cases {
		r := table[i+1]
		if r.ParamsTotal != c.params || r.FLOPs != c.flops {
			t.Errorf("%s: %d params, %d flops; want %d, %d", r.Setting, r.ParamsTotal, r.FLOPs, c.params, c.flops)
		}
		if r.SizeBytes >= table[0].SizeBytes || r.CompressionRatio <= 1 {
			t.Errorf("%s: %d bytes, ratio %.2f: a smaller model must be stored smaller", r.Setting, r.SizeBytes, r.CompressionRatio)
		}
	}
}

// cubicSparsity is Zhu & Gupta's schedule by hand: 0 → final over steps
// [start, start+n], with the masks last updated at the latest multiple of
// every at or before step t.
func cubicSparsity(final float64, start, n, every, t int) float64 {
	u := t
	if u > start+n {
		u = start + n
	} else {
		u = start + (u-start)/every*every
	}
	left := 1 - float64(u-start)/float64(n)
	return final * (1 - left*left*left)
}

func TestPruneGradualFollowsTheCubic(t *testing.T) {
	sp := pruneSpec(t, `  - {technique: prune, schedule: gradual, ratio: 0.9, scope: global, end_epoch: 2, every: 5, finetune_epochs: 1}
`)
	table, events, _ := pruneRun(t, sp)
	const phase = "prune-gradual ratio=0.90 scope=global epochs=0-2 every=5 finetune=1"
	checkRows(t, table, []string{"prune-gradual | " + phase[len("prune-gradual "):]})
	var steps, layers int
	var last float64
	for _, e := range events {
		switch e := e.(type) {
		case StepEvent:
			if e.Phase != phase {
				continue
			}
			steps++
			step := (e.Epoch-1)*15 + e.Step
			removed := math.Round(cubicSparsity(0.9, 0, 30, 5, step) * pruneWeights)
			if want := removed / pruneWeights; math.Abs(e.Sparsity-want) > 1e-12 {
				t.Errorf("step %d: sparsity %.6f, want %.0f/1072 = %.6f", step, e.Sparsity, removed, want)
			}
			if e.Sparsity < last {
				t.Errorf("step %d: sparsity fell from %.4f to %.4f", step, last, e.Sparsity)
			}
			last = e.Sparsity
		case LayersEvent:
			if e.Phase == phase {
				layers++
			}
		case EpochEvent:
			if e.Phase == phase && e.Epoch == 3 && math.Abs(e.Sparsity-965.0/pruneWeights) > 1e-12 {
				t.Errorf("last epoch: sparsity %.6f, want 965/1072", e.Sparsity)
			}
		}
	}
	if steps < 6 || last != 965.0/pruneWeights {
		t.Errorf("%d step events ending at sparsity %.4f; want at least 2 an epoch, ending at 965/1072", steps, last)
	}
	if layers < 2 {
		t.Errorf("%d layer events during gradual pruning, want the first and the last at least", layers)
	}
	if got := table[1].ParamsNonzero; got > pruneWeights-965+51 {
		t.Errorf("%d non-zero parameters, want at most 107 weights + 51 biases", got)
	}
}

func TestGradualRate(t *testing.T) {
	rate := gradualRate(0.01, 10)
	for _, c := range []struct {
		done int
		want float64
	}{{0, 0.01}, {9, 0.01}, {10, 0.01}, {15, 0.005}, {19, 0.001}} {
		if got := rate(c.done, 20); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("rate after %d of 20 steps = %v, want %v", c.done, got, c.want)
		}
	}
	if got := rate(5, 10); got != 0.01 {
		t.Errorf("no fine-tuning steps: rate %v, want 0.01 throughout", got)
	}
}

// TestPruneIterativeAndLottery: rounds reach 1 − (1 − f)^(k/n) of the
// final ratio f, each layer losing round(s·n) weights; the masks hold
// through the retraining (the fine-tuning steps report the sparsity).
func TestPruneIterativeAndLottery(t *testing.T) {
	sp := pruneSpec(t, `  - {technique: prune, schedule: iterative, rounds: 3, ratio: 0.875, finetune_epochs: 1}
  - {technique: prune, schedule: lottery, rounds: 2, round_ratio: 0.5, rewind_epoch: 1}
  - {technique: prune, schedule: iterative, targets: [0.5, 0.75], per_layer: {fc3: 0.5}, finetune_epochs: 1}
`)
	table, events, _ := pruneRun(t, sp)
	checkRows(t, table, []string{
		"prune-iterative | round=1/3 ratio=0.50 finetune=1",
		"prune-iterative | round=2/3 ratio=0.75 finetune=1",
		"prune-iterative | round=3/3 ratio=0.88 finetune=1",
		"lottery | round=1/2 ratio=0.50 rewind=epoch1 epochs=2",
		"lottery-reinit | round=1/2 ratio=0.50 rewind=epoch1 epochs=2",
		"lottery | round=2/2 ratio=0.75 rewind=epoch1 epochs=2",
		"lottery-reinit | round=2/2 ratio=0.75 rewind=epoch1 epochs=2",
		"prune-iterative | round=1/2 ratio=0.50 per_layer=fc3:0.50 finetune=1",
		"prune-iterative | round=2/2 ratio=0.75 per_layer=fc3:0.50 finetune=1",
	})
	removed := map[string]float64{
		"ratio=0.50 finetune": 256 + 256 + 24,
		"ratio=0.75 finetune": 384 + 384 + 36,
		"ratio=0.88 finetune": 448 + 448 + 42,
		"ratio=0.50 rewind":   256 + 256 + 24,
		"ratio=0.75 rewind":   384 + 384 + 36,
		// fc3 goes a third of its way to 0.5 in round 1 (0.5·0.5/0.75 of
		// 48 = 16), the rest in round 2 (24).
		"ratio=0.50 per_layer": 256 + 256 + 16,
		"ratio=0.75 per_layer": 384 + 384 + 24,
	}
	seen := map[string]bool{}
	for _, e := range events {
		s, ok := e.(StepEvent)
		if !ok || s.Phase == "baseline" {
			continue
		}
		seen[s.Phase] = true
		for key, n := range removed {
			if strings.Contains(s.Phase, key) && math.Abs(s.Sparsity-n/pruneWeights) > 1e-12 {
				t.Errorf("%s: sparsity %.5f while retraining, want %v/1072", s.Phase, s.Sparsity, n)
			}
		}
	}
	if len(seen) != 9 {
		t.Errorf("%d retraining phases, want 9 (3 rounds, 2 × 2 lottery rows, 2 rounds): %v", len(seen), seen)
	}
	// A round's ticket and control share the mask, so the same count of
	// non-zero weights (biases may differ: the control's start at 0).
	for _, i := range []int{4, 6} {
		a, b := table[i], table[i+1]
		if a.ParamsTotal != b.ParamsTotal || a.ParamsNonzero-b.ParamsNonzero > 51 || b.ParamsNonzero-a.ParamsNonzero > 51 {
			t.Errorf("round %s: ticket %d/%d, control %d/%d non-zero", a.Setting, a.ParamsNonzero, a.ParamsTotal, b.ParamsNonzero, b.ParamsTotal)
		}
	}
	// wall_s of iterative rounds accumulates.
	if !(table[1].WallS <= table[2].WallS && table[2].WallS <= table[3].WallS) {
		t.Errorf("iterative wall times %v %v %v do not accumulate", table[1].WallS, table[2].WallS, table[3].WallS)
	}
}

func TestSensitivityStepAndRatiosFrom(t *testing.T) {
	sp := pruneSpec(t, `  - {technique: sensitivity, ratios: [0, 0.5, 0.9]}
  - {technique: prune, ratios_from: sensitivity, max_loss_pp: 2}
`)
	table, events, biases := pruneRun(t, sp)
	checkRows(t, table, []string{"prune | ratios_from=sensitivity(2pp)"})
	var sens []SensitivityEvent
	var done DoneEvent
	for _, e := range events {
		switch e := e.(type) {
		case SensitivityEvent:
			sens = append(sens, e)
		case DoneEvent:
			done = e
		}
	}
	if len(sens) != 10 {
		t.Fatalf("%d sensitivity events, want 9 points and the end", len(sens))
	}
	for i, e := range sens[:9] {
		if len(e.Table.Points) != i+1 || e.Done {
			t.Errorf("event %d: %d rows, done %v; want %d rows, not done", i, len(e.Table.Points), e.Done, i+1)
		}
	}
	final := sens[9]
	kept, _ := done.Report.Of(results.Pruning)
	if !final.Done || !slices.Equal(final.Layers, []string{"fc1", "fc2", "fc3"}) || !slices.Equal(final.Values, []float64{0, 0.5, 0.9}) ||
		final.BaseTestAcc != table[0].TestAcc || !slices.Equal(final.Table.Points, kept.Points) || final.Table.Kind != results.Pruning {
		t.Fatalf("last event %+v, done table %v", final, kept)
	}
	for i, r := range final.Table.Points {
		wantLayer, wantRatio := []string{"fc1", "fc2", "fc3"}[i/3], []float64{0, 0.5, 0.9}[i%3]
		if r.Layer != wantLayer || r.Value != wantRatio {
			t.Errorf("row %d = %+v, want %s at %v", i, r, wantLayer, wantRatio)
		}
		// Nothing pruned: the baseline itself.
		if r.Value == 0 && r.TestAcc != table[0].TestAcc {
			t.Errorf("%s at ratio 0: %.4f%%, want the baseline's %.4f%%", r.Layer, r.TestAcc, table[0].TestAcc)
		}
	}
	ratios := RatiosWithin(final.Table, table[0].TestAcc-2)
	sizes := map[string]float64{"fc1": 512, "fc2": 512, "fc3": 48}
	var want int64 = pruneWeights
	for layer, r := range ratios {
		want -= int64(math.Round(r * sizes[layer]))
	}
	if got := table[1].ParamsNonzero - biases; got != want {
		t.Errorf("ratios %v: %d non-zero weights, want %d", ratios, got, want)
	}
}

func TestRatiosWithin(t *testing.T) {
	table := results.Sensitivity{Points: []results.Point{
		{Layer: "fc1", Value: 0, TestAcc: 98}, {Layer: "fc1", Value: 0.5, TestAcc: 97.5}, {Layer: "fc1", Value: 0.9, TestAcc: 97.2}, {Layer: "fc1", Value: 0.7, TestAcc: 96.9}, // falls below 97 at 0.7, back above at 0.9
		{Layer: "fc2", Value: 0, TestAcc: 96}, {Layer: "fc2", Value: 0.5, TestAcc: 97.5}, // below from the start
		{Layer: "fc3", Value: 0.5, TestAcc: 97}, {Layer: "fc3", Value: 0.95, TestAcc: 99}, // at the threshold counts
	}}
	got := RatiosWithin(table, 97)
	want := map[string]float64{"fc1": 0.5, "fc2": 0, "fc3": 0.95}
	if len(got) != len(want) {
		t.Fatalf("RatiosWithin = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %v, want %v", k, got[k], v)
		}
	}
}

func TestRoundFrac(t *testing.T) {
	for _, c := range []struct {
		k, n    int
		f, want float64
	}{{1, 3, 0.875, 0.5}, {2, 3, 0.875, 0.75}, {3, 3, 0.875, 0.875}, {1, 2, 0.99, 0.9}, {1, 1, 0.3, 0.3}} {
		if got := roundFrac(c.k, c.n)(c.f); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("round %d/%d of %v: %v, want %v", c.k, c.n, c.f, got, c.want)
		}
	}
}
