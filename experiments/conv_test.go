package experiments

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/data"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments/results"
)

// tinyConv is a small convolutional network on 600 MNIST images: every
// technique on convolutions, end to end.
const tinyConv = `name: tiny-conv
seed: 3
dataset: {name: mnist, limit: 600}
model:
  layers:
    - {type: conv, filters: 6, kernel: 5}
    - {type: maxpool, size: 2}
    - {type: conv, filters: 8, kernel: 3, padding: 1}
    - {type: relu}
    - {type: maxpool, size: 2}
    - {type: flatten}
    - {type: dense, units: 10}
train: {optimizer: adam, lr: 0.003, epochs: 2, batch: 32}
`

// runConv runs tinyConv with the compress section steps and returns its
// table and the trained baseline.
func runConv(t *testing.T, steps string) (results.Table, *Trained) {
	t.Helper()
	sp := parseValid(t, tinyConv+steps)
	var trained *Trained
	rep, err := Run(context.Background(), sp, Options{}, SinkFunc(func(e Event) {
		if b, ok := e.(BaselineEvent); ok {
			trained = b.Trained
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	return rep.Rows, trained
}

// TestConvTechniques: each technique runs on the convolutions and changes
// what it should — filters removed shrink the parameters and multiply-adds,
// a factorized convolution has fewer weights, quantization shrinks the
// file — while the model still classifies.
func TestConvTechniques(t *testing.T) {
	tab, _ := runConv(t, `compress:
  - {technique: prune, ratio: 0.8, scope: global}
  - {technique: prune, structured: true, ratio: 0.5, layers: [conv1, conv2]}
  - {technique: quantize, bits: 4}
  - {technique: kmeans, clusters: 8}
  - {technique: lowrank, layer: conv2, rank: 4}
`)
	if len(tab) != 6 {
		t.Fatalf("%d rows, want 6", len(tab))
	}
	base := tab[0]
	// conv1 6·25+6 (24×24, pooled to 12×12), conv2 8·(6·9)+8 (12×12,
	// pooled to 6×6), fc1 (6·6·8)·10+10.
	if want := int64(156 + 440 + 2890); base.ParamsTotal != want {
		t.Errorf("baseline has %d parameters, want %d", base.ParamsTotal, want)
	}
	if base.TestAcc < 50 {
		t.Errorf("baseline test accuracy %.1f%%: the convolutions did not learn", base.TestAcc)
	}
	byTech := map[string]results.Row{}
	for _, r := range tab[1:] {
		byTech[r.Technique+" "+r.Setting] = r
	}
	for name, r := range byTech {
		if r.SizeBytes >= base.SizeBytes && !strings.HasPrefix(name, "prune-structured") {
			t.Errorf("%s: %d bytes, not smaller than the baseline's %d", name, r.SizeBytes, base.SizeBytes)
		}
	}
	filters := tab[2]
	// Filters: conv1 keeps 3 (3·25+3), conv2 keeps 4 of 8 on 3 inputs
	// (4·27+4), fc1 the 6·6·4 inputs of the kept channels (144·10+10).
	if want := int64(78 + 112 + 1450); filters.ParamsTotal != want {
		t.Errorf("filter pruning left %d parameters, want %d (%s)", filters.ParamsTotal, want, filters.Setting)
	}
	if filters.FLOPs >= base.FLOPs/2 {
		t.Errorf("filter pruning left %d multiply-adds of %d", filters.FLOPs, base.FLOPs)
	}
	if !strings.HasPrefix(filters.Setting, "filters=0.50") {
		t.Errorf("filter pruning's setting %q should say filters", filters.Setting)
	}
	// conv2 at rank 4: a 3×3 convolution 6→4 without bias (216) and a 1×1
	// 4→8 with conv2's bias (32 + 8).
	if lr := tab[5]; lr.ParamsTotal != base.ParamsTotal-440+256 {
		t.Errorf("rank-4 conv2 left %d parameters, want %d", lr.ParamsTotal, base.ParamsTotal-440+256)
	}
}

// TestConvKnobs: the rank knob factorizes a convolution through the cached
// SVD of its filter matrix, whose spectrum has min(in·k·k, out) values.
func TestConvKnobs(t *testing.T) {
	_, tr := runConv(t, "")
	sp, err := tr.Spectrum("conv2", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(sp.Values) != 8 || sp.In != 54 || sp.Out != 8 {
		t.Errorf("conv2 spectrum: %d values of a %d→%d matrix, want 8 of 54→8", len(sp.Values), sp.In, sp.Out)
	}
	ev, err := tr.Apply(context.Background(), Setting{Rank: 3, RankLayer: "conv2", PruneRatio: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, l := range ev.Layers {
		kinds[l.Name] = l.Kind
	}
	if kinds["conv2"] != "lowrank-conv" || kinds["conv1"] != "conv" {
		t.Errorf("layers after rank=3@conv2: %v", kinds)
	}
	// Filters: half of conv1's 6 and conv2's 8, as a YAML step removes them.
	ev, err = tr.Apply(context.Background(), Setting{PruneRatio: 0.5, PruneScope: "filters"})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Row.Setting != "filters=0.50" || ev.Row.ParamsTotal != 78+112+1450 {
		t.Errorf("filters=0.50: setting %q, %d parameters, want 1640", ev.Row.Setting, ev.Row.ParamsTotal)
	}
	// The prune chart's filters: conv1's 6 of 25 weights each; removed
	// whole, the kept three are the baseline's as they were.
	if h := ev.Magnitudes[1]; h.Whole != "filters" || h.HasThreshold {
		t.Errorf("filters=0.50 magnitudes of %s: whole %q, cut %v", h.Layer, h.Whole, h.HasThreshold)
	}
	if f := ev.Filters; f == nil || f.Layer != "conv1" || f.K != 5 || f.C != 1 || len(f.Before) != 6 || f.Removed() != 3 {
		t.Fatalf("filters=0.50 chart: %+v", f)
	}
	for i, a := range ev.Filters.After {
		if a != nil && !slices.Equal(a, ev.Filters.Before[i]) {
			t.Errorf("kept filter %d changed: %v → %v", i, ev.Filters.Before[i], a)
		}
	}
	// Weights: half of each layer's zeroed, conv1's among them.
	ev, err = tr.Apply(context.Background(), Setting{PruneRatio: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if zeroed, kept := ev.Filters.Zeroed(); ev.Filters.Removed() != 0 || kept != 150 || zeroed != 75 {
		t.Errorf("ratio=0.50: %d filters removed, %d of %d weights zeroed, want 0 and 75 of 150", ev.Filters.Removed(), zeroed, kept)
	}
	if _, err := tr.Apply(context.Background(), Setting{Rank: 9, RankLayer: "conv2"}); err == nil ||
		!strings.Contains(err.Error(), "rank must be in [0, 8] for conv2 (54→8)") {
		t.Errorf("rank 9 of conv2: %v", err)
	}
	if _, err := tr.Apply(context.Background(), Setting{Rank: 2, RankLayer: "pool1"}); err == nil ||
		!strings.Contains(err.Error(), "dense layer or a convolution (conv1, conv2, fc1)") {
		t.Errorf("rank of pool1: %v", err)
	}
}

// TestClassAccuracy: a model that always answers class 1 is right on
// every example of class 1 and on none of the others.
func TestClassAccuracy(t *testing.T) {
	d := nn.NewDense("fc1", 2, 3, rand.New(rand.NewPCG(1, 1)))
	clear(d.W.Value.Data)
	d.B.Value.Data[1] = 1
	m := &nn.Sequential{Layers: []nn.Layer{d}}
	s := &data.Set{X: nn.NewMatrix(5, 2), Y: []int{0, 1, 1, 2, 0}, Classes: 3}
	acc, err := classAccuracy(context.Background(), m, s)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(acc, []float64{0, 100, 0}) {
		t.Errorf("per-class accuracy %v, want [0 100 0]", acc)
	}
}

// TestFashionClasses: a Fashion-MNIST run reports every row's accuracy on
// each named class, consistent with its test accuracy (the classes have
// equal shares of the test set).
func TestFashionClasses(t *testing.T) {
	if _, err := data.FindFashionMNIST(""); err != nil {
		t.Skip("Fashion-MNIST is not installed (Debian's dataset-fashion-mnist): ", err)
	}
	sp := parseValid(t, `name: fashion-tiny
dataset: {name: fashion-mnist, limit: 500}
model:
  layers: [{type: dense, units: 32}, {type: relu}, {type: dense, units: 10}]
train: {optimizer: adam, lr: 0.003, epochs: 1, batch: 32}
compress:
  - {technique: quantize, bits: 2}
`)
	rep, err := Run(context.Background(), sp, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Classes
	if c == nil || len(c.Names) != 10 || c.Names[0] != "T-shirt/top" || c.Names[9] != "Ankle boot" || len(c.Rows) != 2 {
		t.Fatalf("classes %+v", c)
	}
	for i, r := range c.Rows {
		mean := 0.0
		for _, a := range r.TestAcc {
			mean += a / 10
		}
		if math.Abs(mean-rep.Rows[i].TestAcc) > 0.01 || r.Setting != rep.Rows[i].Setting {
			t.Errorf("row %d (%s): mean class accuracy %.3f, test accuracy %.3f", i, r.Setting, mean, rep.Rows[i].TestAcc)
		}
	}
}

// TestAugmentedTraining: augmentation changes what the baseline learns,
// and the same seed gives the same table.
func TestAugmentedTraining(t *testing.T) {
	run := func(extra string) results.Table {
		sp := parseValid(t, strings.Replace(tinyConv, "batch: 32}", "batch: 32"+extra+"}", 1)+"compress:\n  - {technique: quantize, bits: 4}\n")
		rep, err := Run(context.Background(), sp, Options{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return measured(rep.Rows)
	}
	plain, aug, again := run(""), run(", augment: {flip: true, shift: 2}"), run(", augment: {flip: true, shift: 2}")
	if plain[0] == aug[0] {
		t.Error("augmentation changed nothing")
	}
	for i := range aug {
		if aug[i] != again[i] {
			t.Errorf("row %d differs between two augmented runs:\n%+v\n%+v", i, aug[i], again[i])
		}
	}
}
