package controls

import (
	"math/rand/v2"
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
	for _, c := range []struct{ fullRank, want int }{{0, 1}, {10, 1}, {16, 1}, {31, 1}, {32, 2}, {128, 8}, {300, 18}, {784, 49}} {
		if got := RankStep(c.fullRank); got != c.want {
			t.Errorf("RankStep(%d) = %d, want %d", c.fullRank, got, c.want)
		}
	}
}

func TestNextRank(t *testing.T) {
	// fullRank 128: coarse step 8.
	cases := []struct {
		rank, dir int
		fine      bool
		want      int
	}{
		{0, +1, false, 128}, // off → full rank
		{128, +1, false, 120},
		{120, +1, false, 112},
		{13, +1, false, 8}, // snaps to a multiple of the step
		{8, +1, false, 1},
		{1, +1, false, 1},
		{1, -1, false, 8},
		{120, -1, false, 128},
		{128, -1, false, 0}, // past full rank → off
		{0, -1, false, 0},
		{5, +1, true, 4},
		{1, +1, true, 1},
		{127, -1, true, 128},
		{128, -1, true, 0},
	}
	for _, c := range cases {
		if got := nextRank(c.rank, 128, c.dir, c.fine); got != c.want {
			t.Errorf("nextRank(%d, 128, %+d, fine=%v) = %d, want %d", c.rank, c.dir, c.fine, got, c.want)
		}
	}
	if got := nextRank(0, 0, +1, false); got != 0 {
		t.Errorf("rank knob without a dense layer moved to %d", got)
	}
}

func TestRankTarget(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dense := func(name string, in, out int) nn.Layer { return nn.NewDense(name, in, out, rng) }
	cases := []struct {
		name  string
		model *nn.Sequential
		want  RankTarget
		rank  int
	}{
		{"no model", nil, RankTarget{}, 0},
		{"no dense layer", &nn.Sequential{Layers: []nn.Layer{nn.NewReLU("relu1")}}, RankTarget{}, 0},
		{"LeNet-300-100", &nn.Sequential{Layers: []nn.Layer{dense("fc1", 784, 300), nn.NewReLU("relu1"),
			dense("fc2", 300, 100), nn.NewReLU("relu2"), dense("fc3", 100, 10)}}, RankTarget{"fc1", 784, 300}, 300},
		{"most weights, not widest", &nn.Sequential{Layers: []nn.Layer{dense("fc1", 60, 60), dense("fc2", 10, 500)}},
			RankTarget{"fc2", 10, 500}, 10},
		{"equals: the first", &nn.Sequential{Layers: []nn.Layer{dense("fc1", 8, 4), dense("fc2", 4, 8)}},
			RankTarget{"fc1", 8, 4}, 4},
	}
	for _, c := range cases {
		got := rankTarget(c.model)
		if got != c.want || got.FullRank() != c.rank {
			t.Errorf("%s: rankTarget = %+v (full rank %d), want %+v (full rank %d)", c.name, got, got.FullRank(), c.want, c.rank)
		}
	}
}

func TestKnobsSetting(t *testing.T) {
	fc1 := RankTarget{"fc1", 784, 300}
	cases := []struct {
		knobs Knobs
		want  experiments.Setting
	}{
		{offKnobs(fc1), experiments.Setting{}},
		{Knobs{PruneRatio: 0.5, Bits: FloatBits, Target: fc1}, experiments.Setting{PruneRatio: 0.5}},
		{Knobs{Bits: 4, Target: fc1}, experiments.Setting{Bits: 4}},
		{Knobs{Bits: FloatBits, Rank: 20, Target: fc1}, experiments.Setting{Rank: 20, RankLayer: "fc1"}},
		{Knobs{PruneRatio: 0.9, Bits: 2, Rank: 8, Target: fc1}, experiments.Setting{PruneRatio: 0.9, Bits: 2, Rank: 8, RankLayer: "fc1"}},
	}
	for _, c := range cases {
		if got := c.knobs.Setting(); got != c.want {
			t.Errorf("%+v.Setting() = %+v, want %+v", c.knobs, got, c.want)
		}
	}
}

func TestKnobsTurnAndSelect(t *testing.T) {
	fc1 := RankTarget{"fc1", 784, 300} // full rank 300, coarse rank step 18
	off := offKnobs(fc1)
	// Whole values compared: turning one knob leaves the others.
	cases := []struct {
		name string
		from Knobs
		dir  int
		fine bool
		want Knobs
	}{
		{"prune coarse", off, +1, false, Knobs{PruneRatio: 0.05, Bits: FloatBits, Target: fc1}},
		{"prune fine", off, +1, true, Knobs{PruneRatio: 0.01, Bits: FloatBits, Target: fc1}},
		{"bits on", off.Select(+1), +1, false, Knobs{Selected: KnobBitWidth, Bits: 8, Target: fc1}},
		{"bits fine is a rung too", off.Select(+1), +1, true, Knobs{Selected: KnobBitWidth, Bits: 8, Target: fc1}},
		{"rank on: full rank", off.Select(-1), +1, false, Knobs{Selected: KnobRank, Bits: FloatBits, Rank: 300, Target: fc1}},
		{"rank coarse", Knobs{Selected: KnobRank, Bits: FloatBits, Rank: 300, Target: fc1}, +1, false,
			Knobs{Selected: KnobRank, Bits: FloatBits, Rank: 288, Target: fc1}},
		{"rank without a layer", Knobs{Selected: KnobRank, Bits: FloatBits}, +1, false, Knobs{Selected: KnobRank, Bits: FloatBits}},
	}
	for _, c := range cases {
		if got := c.from.Turn(c.dir, c.fine); got != c.want {
			t.Errorf("%s: Turn(%+d, %v) = %+v, want %+v", c.name, c.dir, c.fine, got, c.want)
		}
	}
	// Selection wraps both ways.
	for _, c := range []struct {
		from Knob
		dir  int
		want Knob
	}{{KnobPruneRatio, +1, KnobBitWidth}, {KnobRank, +1, KnobPruneRatio}, {KnobPruneRatio, -1, KnobRank}, {KnobBitWidth, +4, KnobRank}} {
		if got := (Knobs{Selected: c.from}).Select(c.dir).Selected; got != c.want {
			t.Errorf("Select(%+d) from %d = %d, want %d", c.dir, c.from, got, c.want)
		}
	}
}
