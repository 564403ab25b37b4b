package controls

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments"
)

func TestNextPrune(t *testing.T) {
	cases := []struct {
		ratio float64
		dir   int
		fine  bool
		want  float64
	}{
		{0, +1, false, 0.05},
		{0.05, +1, true, 0.06},
		{0.07, -1, true, 0.06},
		{0.29, +1, true, 0.30}, // whole hundredths: no 0.30000000000000004
		{0.02, -1, false, 0},   // not below 0
		{0, -1, true, 0},
		{0.97, +1, false, MaxPruneRatio}, // not above the maximum
		{MaxPruneRatio, +1, true, MaxPruneRatio},
		{MaxPruneRatio, -1, false, 0.94},
	}
	for _, c := range cases {
		if got := nextPrune(c.ratio, c.dir, c.fine); got != c.want {
			t.Errorf("nextPrune(%v, %+d, fine=%v) = %v, want %v", c.ratio, c.dir, c.fine, got, c.want)
		}
	}
}

func TestNextBits(t *testing.T) {
	cases := []struct{ bits, dir, want int }{
		{FloatBits, +1, 8}, // off → 8 bits
		{8, +1, 7},
		{4, +1, 3},
		{2, +1, 1},
		{1, +1, 1}, // the end of the ladder
		{1, -1, 2},
		{8, -1, FloatBits},
		{FloatBits, -1, FloatBits},
		{16, +1, 8}, // not on the ladder: counts as off
	}
	for _, c := range cases {
		if got := nextBits(c.bits, c.dir); got != c.want {
			t.Errorf("nextBits(%d, %+d) = %d, want %d", c.bits, c.dir, got, c.want)
		}
	}
}

func TestRankStep(t *testing.T) {
	for _, c := range []struct{ maxRank, want int }{{0, 1}, {10, 1}, {16, 1}, {31, 1}, {32, 2}, {128, 8}, {216, 13}, {784, 49}} {
		if got := RankStep(c.maxRank); got != c.want {
			t.Errorf("RankStep(%d) = %d, want %d", c.maxRank, got, c.want)
		}
	}
}

// The rank knob runs off → the largest rank that saves bytes → … → 1:
// never through ranks whose factors take more room than the layer.
func TestNextRank(t *testing.T) {
	// A 128→128 layer: ranks up to 63 save bytes, coarse step 3.
	most := RankTarget{"fc2", 128, 128}.MaxRank()
	if most != 63 {
		t.Fatalf("MaxRank of 128→128 = %d, want 63", most)
	}
	cases := []struct {
		rank, dir int
		fine      bool
		want      int
	}{
		{0, +1, false, 63}, // off → the largest saving rank, not 128
		{0, +1, true, 63},
		{63, +1, false, 60},
		{60, +1, false, 57},
		{13, +1, false, 12}, // snaps to a multiple of the step
		{3, +1, false, 1},
		{1, +1, false, 1},
		{1, -1, false, 3},
		{60, -1, false, 63},
		{61, -1, false, 63}, // up to the largest saving rank, not past it
		{63, -1, false, 0},  // past it → off
		{0, -1, false, 0},
		{5, +1, true, 4},
		{1, +1, true, 1},
		{62, -1, true, 63},
		{63, -1, true, 0},
		{100, +1, false, 63}, // a rank above the saving ones comes back down to them
	}
	for _, c := range cases {
		if got := nextRank(c.rank, most, c.dir, c.fine); got != c.want {
			t.Errorf("nextRank(%d, %d, %+d, fine=%v) = %d, want %d", c.rank, most, c.dir, c.fine, got, c.want)
		}
	}
	if got := nextRank(0, 0, +1, false); got != 0 {
		t.Errorf("rank knob without a saving rank moved to %d", got)
	}
}

func TestRankTargets(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dense := func(name string, in, out int) nn.Layer { return nn.NewDense(name, in, out, rng) }
	cases := []struct {
		name  string
		model *nn.Sequential
		names string
		start string
	}{
		{"no model", nil, "", ""},
		{"no dense layer", &nn.Sequential{Layers: []nn.Layer{nn.NewReLU("relu1")}}, "", ""},
		{"LeNet-300-100", &nn.Sequential{Layers: []nn.Layer{dense("fc1", 784, 300), nn.NewReLU("relu1"),
			dense("fc2", 300, 100), nn.NewReLU("relu2"), dense("fc3", 100, 10)}}, "fc1 fc2 fc3", "fc1"},
		{"most weights, not widest", &nn.Sequential{Layers: []nn.Layer{dense("fc1", 60, 60), dense("fc2", 10, 500)}}, "fc1 fc2", "fc2"},
		{"equals: the first", &nn.Sequential{Layers: []nn.Layer{dense("fc1", 8, 4), dense("fc2", 4, 8)}}, "fc1 fc2", "fc1"},
		// LeNet-5: conv2's filters are a 500×50 matrix (25,000 weights),
		// fc1 800×500: the rank knob starts on fc1.
		{"LeNet-5", lenet5(rng), "conv1 conv2 fc1 fc2", "fc1"},
	}
	for _, c := range cases {
		targets, start := rankTargets(c.model)
		var names []string
		for _, tg := range targets {
			names = append(names, tg.Layer)
		}
		k := offKnobs(targets, start)
		if strings.Join(names, " ") != c.names || k.RankTarget().Layer != c.start {
			t.Errorf("%s: targets %v starting at %q, want %s starting at %q", c.name, names, k.RankTarget().Layer, c.names, c.start)
		}
	}
}

// lenet5 is LeNet-5 with random weights.
func lenet5(rng *rand.Rand) *nn.Sequential {
	c1 := nn.NewConv2D("conv1", nn.Shape{H: 28, W: 28, C: 1}, 20, 5, 1, 0, nn.He, rng)
	p1 := nn.NewMaxPool2D("pool1", c1.Out, 2, 2)
	c2 := nn.NewConv2D("conv2", p1.Out, 50, 5, 1, 0, nn.He, rng)
	p2 := nn.NewMaxPool2D("pool2", c2.Out, 2, 2)
	return &nn.Sequential{Layers: []nn.Layer{c1, p1, c2, p2, nn.NewFlatten("flatten1", p2.Out),
		nn.NewDense("fc1", p2.Out.Size(), 500, rng), nn.NewReLU("relu1"), nn.NewDense("fc2", 500, 10, rng)}}
}

func TestConvRankTarget(t *testing.T) {
	targets, _ := rankTargets(lenet5(rand.New(rand.NewPCG(1, 2))))
	if targets[1] != (RankTarget{"conv2", 500, 50}) || targets[1].MaxRank() != 45 {
		t.Errorf("conv2 target %+v (max rank %d), want its 500×50 filter matrix, ranks up to 45", targets[1], targets[1].MaxRank())
	}
}

var lenet = []RankTarget{{"fc1", 784, 300}, {"fc2", 300, 100}, {"fc3", 100, 10}}

func TestKnobsSetting(t *testing.T) {
	off := offKnobs(lenet, 0)
	with := func(f func(*Knobs)) Knobs { k := off; f(&k); return k }
	cases := []struct {
		knobs Knobs
		want  experiments.Setting
	}{
		{off, experiments.Setting{}},
		{with(func(k *Knobs) { k.PruneRatio = 0.5 }), experiments.Setting{PruneRatio: 0.5}},
		{with(func(k *Knobs) { k.PruneRatio, k.Scope = 0.5, "global" }), experiments.Setting{PruneRatio: 0.5, PruneScope: "global"}},
		{with(func(k *Knobs) { k.Scope = "global" }), experiments.Setting{}}, // a scope prunes nothing alone
		{with(func(k *Knobs) { k.Bits = 4 }), experiments.Setting{Bits: 4}},
		{with(func(k *Knobs) { k.Rank = 20 }), experiments.Setting{Rank: 20, RankLayer: "fc1"}},
		{with(func(k *Knobs) { k.Rank, k.Target = 20, 1 }), experiments.Setting{Rank: 20, RankLayer: "fc2"}},
		{with(func(k *Knobs) { k.PruneRatio, k.Bits, k.Rank = 0.9, 2, 8 }), experiments.Setting{PruneRatio: 0.9, Bits: 2, Rank: 8, RankLayer: "fc1"}},
	}
	for _, c := range cases {
		if got := c.knobs.Setting(); got != c.want {
			t.Errorf("%+v.Setting() = %+v, want %+v", c.knobs, got, c.want)
		}
	}
}

func TestKnobsTurnAndSelect(t *testing.T) {
	off := offKnobs(lenet, 0) // fc1: ranks up to 216 save bytes, coarse step 13
	at := func(sel Knob, f func(*Knobs)) Knobs { k := off; k.Selected = sel; f(&k); return k }
	same := func(a, b Knobs) bool {
		return a.Selected == b.Selected && a.PruneRatio == b.PruneRatio && a.Scope == b.Scope &&
			a.Bits == b.Bits && a.Rank == b.Rank && a.Target == b.Target
	}
	// Whole values compared: turning one knob leaves the others.
	cases := []struct {
		name string
		from Knobs
		dir  int
		fine bool
		want Knobs
	}{
		{"prune coarse", off, +1, false, at(KnobPruneRatio, func(k *Knobs) { k.PruneRatio = 0.05 })},
		{"prune fine", off, +1, true, at(KnobPruneRatio, func(k *Knobs) { k.PruneRatio = 0.01 })},
		{"scope global", at(KnobPruneScope, func(*Knobs) {}), +1, false, at(KnobPruneScope, func(k *Knobs) { k.Scope = "global" })},
		{"scope back to layer", at(KnobPruneScope, func(k *Knobs) { k.Scope = "global" }), -1, false, at(KnobPruneScope, func(*Knobs) {})},
		{"bits on", off.Select(+2), +1, false, at(KnobBitWidth, func(k *Knobs) { k.Bits = 8 })},
		{"bits fine is a rung too", off.Select(+2), +1, true, at(KnobBitWidth, func(k *Knobs) { k.Bits = 8 })},
		{"rank on: the largest saving rank", at(KnobRank, func(*Knobs) {}), +1, false, at(KnobRank, func(k *Knobs) { k.Rank = 216 })},
		{"rank coarse", at(KnobRank, func(k *Knobs) { k.Rank = 216 }), +1, false, at(KnobRank, func(k *Knobs) { k.Rank = 208 })},
		{"rank without a layer", Knobs{Selected: KnobRank, Bits: FloatBits}, +1, false, Knobs{Selected: KnobRank, Bits: FloatBits}},
		{"layer: next", at(KnobRankLayer, func(*Knobs) {}), +1, false, at(KnobRankLayer, func(k *Knobs) { k.Target = 1 })},
		{"layer: not past the last", at(KnobRankLayer, func(k *Knobs) { k.Target = 2 }), +1, false, at(KnobRankLayer, func(k *Knobs) { k.Target = 2 })},
		{"layer: not before the first", at(KnobRankLayer, func(*Knobs) {}), -1, false, at(KnobRankLayer, func(*Knobs) {})},
		// fc2 300→100 saves up to rank 74: a rank of 200 comes down to it.
		{"layer keeps a rank the new layer allows", at(KnobRankLayer, func(k *Knobs) { k.Rank = 20 }), +1, false,
			at(KnobRankLayer, func(k *Knobs) { k.Rank, k.Target = 20, 1 })},
		{"layer lowers a rank it does not", at(KnobRankLayer, func(k *Knobs) { k.Rank = 200 }), +1, false,
			at(KnobRankLayer, func(k *Knobs) { k.Rank, k.Target = 74, 1 })},
	}
	for _, c := range cases {
		if got := c.from.Turn(c.dir, c.fine); !same(got, c.want) {
			t.Errorf("%s: Turn(%+d, %v) = %+v, want %+v", c.name, c.dir, c.fine, got, c.want)
		}
	}
	// Selection wraps both ways, through the sub-knobs.
	for _, c := range []struct {
		from Knob
		dir  int
		want Knob
	}{{KnobPruneRatio, +1, KnobPruneScope}, {KnobPruneScope, +1, KnobBitWidth}, {KnobRankLayer, +1, KnobPruneRatio},
		{KnobPruneRatio, -1, KnobRankLayer}, {KnobBitWidth, +2, KnobRankLayer}} {
		if got := (Knobs{Selected: c.from}).Select(c.dir).Selected; got != c.want {
			t.Errorf("Select(%+d) from %d = %d, want %d", c.dir, c.from, got, c.want)
		}
	}
	if !KnobPruneScope.Sub() || KnobRank.Sub() || KnobRankLayer.Of() != KnobRank || KnobPruneScope.Of() != KnobPruneRatio {
		t.Error("Sub/Of")
	}
}

// TestPruneScopes: a convolutional model offers whole filters and (with
// fc1 hidden) whole neurons; the scope knob steps through them and stops
// at the ends; an MLP offers neurons only, a single layer neither.
func TestPruneScopes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	if got := strings.Join(pruneScopes(lenet5(rng)), " "); got != "layer global filters neurons" {
		t.Errorf("LeNet-5 scopes: %s", got)
	}
	mlp := &nn.Sequential{Layers: []nn.Layer{nn.NewDense("fc1", 8, 4, rng), nn.NewReLU("relu1"), nn.NewDense("fc2", 4, 3, rng)}}
	if got := strings.Join(pruneScopes(mlp), " "); got != "layer global neurons" {
		t.Errorf("MLP scopes: %s", got)
	}
	one := &nn.Sequential{Layers: []nn.Layer{nn.NewDense("fc1", 8, 3, rng)}}
	if got := strings.Join(pruneScopes(one), " "); got != "layer global" {
		t.Errorf("one-layer scopes: %s", got)
	}
	k := offKnobs(nil, 0)
	k.Scopes, k.Selected, k.PruneRatio = pruneScopes(lenet5(rng)), KnobPruneScope, 0.5
	var seen []string
	for range 4 {
		k = k.Turn(+1, false)
		seen = append(seen, k.Scope)
	}
	if strings.Join(seen, " ") != "global filters neurons neurons" {
		t.Errorf("turning right: %v", seen)
	}
	if s := k.Turn(-1, false).Setting(); s.PruneScope != "filters" || s.String() != "filters=0.50" {
		t.Errorf("one left of neurons: %+v %q", s, s)
	}
	for range 5 {
		k = k.Turn(-1, false)
	}
	if k.Scope != "layer" || k.Setting().PruneScope != "" {
		t.Errorf("turning left stops at layer: %q", k.Scope)
	}
}
