package prune

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

func seq(n int) []float32 {
	w := make([]float32, n)
	for i := range w {
		w[i] = float32(i + 1)
	}
	return w
}

func removedCount(p *nn.Param) int {
	if p.Mask == nil {
		return 0
	}
	return len(p.Mask) - int(sum(p.Mask))
}

func TestRandomRemovesExactCountAndKeepsBias(t *testing.T) {
	d := dense("fc", 4, 5, seq(20))
	if err := Random(d, 0.35, rand.New(rand.NewPCG(3, 4))); err != nil {
		t.Fatal(err)
	}
	if got := removedCount(d.W); got != 7 { // round(0.35·20)
		t.Errorf("removed %d weights, want 7", got)
	}
	for i, m := range d.W.Mask {
		if want := float32(i+1) * m; d.W.Value.Data[i] != want {
			t.Errorf("W[%d] = %v with mask %v, want %v", i, d.W.Value.Data[i], m, want)
		}
	}
	if !slices.Equal(d.B.Value.Data, []float32{1, 2, 3, 4, 5}) || d.B.Mask != nil {
		t.Errorf("bias changed: %v mask %v", d.B.Value.Data, d.B.Mask)
	}
}

// The removed weights are those whose place in rng.Perm(n) is below k: the
// contract that makes a seed reproduce a random-pruning control exactly.
func TestRandomFollowsThePermutationOfTheSeed(t *testing.T) {
	d := dense("fc", 3, 4, seq(12))
	if err := Random(d, 0.5, rand.New(rand.NewPCG(9, 9))); err != nil {
		t.Fatal(err)
	}
	perm := rand.New(rand.NewPCG(9, 9)).Perm(12)
	for i, p := range perm {
		want := float32(1)
		if p < 6 {
			want = 0
		}
		if d.W.Mask[i] != want {
			t.Fatalf("mask = %v, want weight i removed iff perm[i] < 6 with perm %v", d.W.Mask, perm)
		}
	}

	again := dense("fc", 3, 4, seq(12))
	if err := Random(again, 0.5, rand.New(rand.NewPCG(9, 9))); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.W.Mask, d.W.Mask) {
		t.Errorf("same seed, different masks: %v and %v", again.W.Mask, d.W.Mask)
	}
	other := dense("fc", 3, 4, seq(12))
	if err := Random(other, 0.5, rand.New(rand.NewPCG(10, 9))); err != nil {
		t.Fatal(err)
	}
	if slices.Equal(other.W.Mask, d.W.Mask) {
		t.Errorf("seeds (9,9) and (10,9) gave the same mask %v", d.W.Mask)
	}
}

// Unlike magnitude pruning, every weight is equally likely to go: over 2000
// draws each of 10 weights is removed in about 30% of them (binomial
// sd ≈ 20.5, the band is ±5 sd), the largest as often as the smallest.
func TestRandomIsUniform(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	counts := make([]int, 10)
	for range 2000 {
		d := dense("fc", 1, 10, seq(10))
		if err := Random(d, 0.3, rng); err != nil {
			t.Fatal(err)
		}
		for i, m := range d.W.Mask {
			if m == 0 {
				counts[i]++
			}
		}
	}
	for i, c := range counts {
		if c < 600-103 || c > 600+103 {
			t.Errorf("weight %d removed %d times of 2000, want about 600: %v", i, c, counts)
		}
	}
}

func TestRandomKeepsEarlierRemovals(t *testing.T) {
	d := dense("fc", 2, 5, seq(10))
	d.W.Mask = []float32{0, 0, 0, 1, 1, 1, 1, 1, 1, 1}
	d.W.ApplyMask()
	if err := Random(d, 0.5, rand.New(rand.NewPCG(5, 5))); err != nil {
		t.Fatal(err)
	}
	if removedCount(d.W) != 5 || d.W.Mask[0] != 0 || d.W.Mask[1] != 0 || d.W.Mask[2] != 0 {
		t.Errorf("mask = %v: want the 3 earlier removals kept and 5 removed in all", d.W.Mask)
	}
	// A ratio below what the layer already has regrows nothing.
	before := slices.Clone(d.W.Mask)
	if err := Random(d, 0.2, rand.New(rand.NewPCG(6, 6))); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.W.Mask, before) {
		t.Errorf("ratio 0.2 changed the mask from %v to %v", before, d.W.Mask)
	}
}

func threeLayerModel() *nn.Sequential {
	return &nn.Sequential{Layers: []nn.Layer{
		dense("fc1", 4, 5, seq(20)), nn.NewReLU("relu1"),
		dense("fc2", 5, 4, seq(20)), nn.NewReLU("relu2"),
		dense("fc3", 4, 2, seq(8)),
	}}
}

func TestRandomLayersEachLayerLosesTheFraction(t *testing.T) {
	m := threeLayerModel()
	if err := RandomLayers(m, 0.5, []string{"fc1", "fc3"}, rand.New(rand.NewPCG(2, 2))); err != nil {
		t.Fatal(err)
	}
	fc1, fc2, fc3 := m.Layers[0].(*nn.Dense), m.Layers[2].(*nn.Dense), m.Layers[4].(*nn.Dense)
	if removedCount(fc1.W) != 10 || removedCount(fc3.W) != 4 {
		t.Errorf("removed fc1 %d fc3 %d, want 10 and 4", removedCount(fc1.W), removedCount(fc3.W))
	}
	if fc2.W.Mask != nil {
		t.Errorf("fc2 was not chosen but got mask %v", fc2.W.Mask)
	}
}

func TestRandomGlobalDrawsFromThePool(t *testing.T) {
	// round(0.25·48) = 12 from the pool; per layer the share varies, and
	// with these seeds it is not 5, 5, 2 in every draw.
	uneven := false
	for seed := range uint64(5) {
		m := threeLayerModel()
		if err := RandomGlobal(m, 0.25, nil, rand.New(rand.NewPCG(seed, 1))); err != nil {
			t.Fatal(err)
		}
		r1, r2, r3 := removedCount(m.Layers[0].(*nn.Dense).W), removedCount(m.Layers[2].(*nn.Dense).W), removedCount(m.Layers[4].(*nn.Dense).W)
		if r1+r2+r3 != 12 {
			t.Errorf("seed %d: removed %d+%d+%d, want 12 in all", seed, r1, r2, r3)
		}
		if r1 != 5 || r2 != 5 || r3 != 2 {
			uneven = true
		}
	}
	if !uneven {
		t.Error("every draw split exactly by layer size: the pool is not shared")
	}

	m := threeLayerModel()
	if err := RandomGlobal(m, 0.5, []string{"fc2"}, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	if removedCount(m.Layers[2].(*nn.Dense).W) != 10 || m.Layers[0].(*nn.Dense).W.Mask != nil {
		t.Errorf("layers [fc2]: fc2 removed %d (want 10), fc1 mask %v (want nil)",
			removedCount(m.Layers[2].(*nn.Dense).W), m.Layers[0].(*nn.Dense).W.Mask)
	}
}

func TestRandomErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	d := dense("fc", 2, 2, []float32{1, 2, 3, 4})
	if err := Random(d, 0.5, nil); err == nil || !strings.Contains(err.Error(), "rng is nil") {
		t.Errorf("nil rng: err = %v", err)
	}
	if err := Random(d, 1, rng); err == nil || !strings.Contains(err.Error(), "allowed 0 ≤ ratio < 1") {
		t.Errorf("ratio 1: err = %v", err)
	}
	if d.W.Mask != nil {
		t.Error("a rejected call changed the layer")
	}
	for name, f := range map[string]func(*nn.Sequential, float64, []string, *rand.Rand) error{
		"RandomLayers": RandomLayers, "RandomGlobal": RandomGlobal,
	} {
		m := twoLayerModel()
		if err := f(m, -0.1, nil, rng); err == nil {
			t.Errorf("%s ratio −0.1: no error", name)
		}
		if err := f(m, 0.5, nil, nil); err == nil {
			t.Errorf("%s nil rng: no error", name)
		}
		if err := f(m, 0.5, []string{"fc7"}, rng); err == nil || !strings.Contains(err.Error(), `"fc7"`) {
			t.Errorf("%s unknown layer: err = %v", name, err)
		}
		if m.Layers[0].(*nn.Dense).W.Mask != nil || m.Layers[2].(*nn.Dense).W.Mask != nil {
			t.Errorf("%s: a rejected call pruned the model", name)
		}
	}
}
