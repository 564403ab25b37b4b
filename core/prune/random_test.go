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

// random is Options for random pruning from rng, layer by layer.
func random(rng *rand.Rand) Options { return Options{Criterion: Random, Rand: rng} }

func TestRandomRemovesExactCountAndKeepsBias(t *testing.T) {
	d := dense("fc", 4, 5, seq(20))
	if err := Prune(one(d), 0.35, random(rand.New(rand.NewPCG(3, 4)))); err != nil {
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
	if err := Prune(one(d), 0.5, random(rand.New(rand.NewPCG(9, 9)))); err != nil {
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
	if err := Prune(one(again), 0.5, random(rand.New(rand.NewPCG(9, 9)))); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.W.Mask, d.W.Mask) {
		t.Errorf("same seed, different masks: %v and %v", again.W.Mask, d.W.Mask)
	}
	other := dense("fc", 3, 4, seq(12))
	if err := Prune(one(other), 0.5, random(rand.New(rand.NewPCG(10, 9)))); err != nil {
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
		if err := Prune(one(d), 0.3, random(rng)); err != nil {
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
	if err := Prune(one(d), 0.5, random(rand.New(rand.NewPCG(5, 5)))); err != nil {
		t.Fatal(err)
	}
	if removedCount(d.W) != 5 || d.W.Mask[0] != 0 || d.W.Mask[1] != 0 || d.W.Mask[2] != 0 {
		t.Errorf("mask = %v: want the 3 earlier removals kept and 5 removed in all", d.W.Mask)
	}
	// A ratio below what the layer already has regrows nothing.
	before := slices.Clone(d.W.Mask)
	if err := Prune(one(d), 0.2, random(rand.New(rand.NewPCG(6, 6)))); err != nil {
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

// removedIff checks that weight i of d is removed exactly when perm[i] < k.
func removedIff(t *testing.T, d *nn.Dense, perm []int, k int) {
	t.Helper()
	for i, p := range perm {
		want := float32(1)
		if p < k {
			want = 0
		}
		if d.W.Mask[i] != want {
			t.Fatalf("%s: mask = %v, want weight i removed iff perm[i] < %d with perm %v", d.LayerName, d.W.Mask, k, perm)
		}
	}
}

// Layer by layer, each layer loses the fraction, and the layers draw from
// the one source in the order given: the first layer's removals are those
// of the source's first permutation, the next layer's of the second.
func TestRandomScopeLayerEachLayerLosesTheFraction(t *testing.T) {
	m := threeLayerModel()
	fc1, fc2, fc3 := m.Layers[0].(*nn.Dense), m.Layers[2].(*nn.Dense), m.Layers[4].(*nn.Dense)
	if err := Prune([]*nn.Dense{fc1, fc3}, 0.5, random(rand.New(rand.NewPCG(2, 2)))); err != nil {
		t.Fatal(err)
	}
	if removedCount(fc1.W) != 10 || removedCount(fc3.W) != 4 {
		t.Errorf("removed fc1 %d fc3 %d, want 10 and 4", removedCount(fc1.W), removedCount(fc3.W))
	}
	if fc2.W.Mask != nil {
		t.Errorf("fc2 was not chosen but got mask %v", fc2.W.Mask)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	removedIff(t, fc1, rng.Perm(20), 10)
	removedIff(t, fc3, rng.Perm(8), 4)

	// In the other order fc3 takes the first permutation.
	m = threeLayerModel()
	fc1, fc3 = m.Layers[0].(*nn.Dense), m.Layers[4].(*nn.Dense)
	if err := Prune([]*nn.Dense{fc3, fc1}, 0.5, random(rand.New(rand.NewPCG(2, 2)))); err != nil {
		t.Fatal(err)
	}
	rng = rand.New(rand.NewPCG(2, 2))
	removedIff(t, fc3, rng.Perm(8), 4)
	removedIff(t, fc1, rng.Perm(20), 10)
}

func TestRandomScopeGlobalDrawsFromThePool(t *testing.T) {
	// round(0.25·48) = 12 from the pool; per layer the share varies, and
	// with these seeds it is not 5, 5, 2 in every draw. The removed weights
	// are those whose place in one permutation of all 48 is below 12, the
	// layers' weights one after the other.
	uneven := false
	for seed := range uint64(5) {
		m := threeLayerModel()
		ds := nn.WeightLayers(m)
		if err := Prune(ds, 0.25, Options{Criterion: Random, Scope: ScopeGlobal, Rand: rand.New(rand.NewPCG(seed, 1))}); err != nil {
			t.Fatal(err)
		}
		r1, r2, r3 := removedCount(ds[0].W), removedCount(ds[1].W), removedCount(ds[2].W)
		if r1+r2+r3 != 12 {
			t.Errorf("seed %d: removed %d+%d+%d, want 12 in all", seed, r1, r2, r3)
		}
		if r1 != 5 || r2 != 5 || r3 != 2 {
			uneven = true
		}
		perm := rand.New(rand.NewPCG(seed, 1)).Perm(48)
		removedIff(t, ds[0], perm[:20], 12)
		removedIff(t, ds[1], perm[20:40], 12)
		removedIff(t, ds[2], perm[40:], 12)
	}
	if !uneven {
		t.Error("every draw split exactly by layer size: the pool is not shared")
	}

	m := threeLayerModel()
	if err := Prune([]*nn.Dense{m.Layers[2].(*nn.Dense)}, 0.5, Options{Criterion: Random, Scope: ScopeGlobal, Rand: rand.New(rand.NewPCG(1, 1))}); err != nil {
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
	if err := Prune(one(d), 0.5, random(nil)); err == nil || !strings.Contains(err.Error(), "Rand is nil") {
		t.Errorf("nil rng: err = %v", err)
	}
	if err := Prune(one(d), 1, random(rng)); err == nil || !strings.Contains(err.Error(), "allowed 0 ≤ ratio < 1") {
		t.Errorf("ratio 1: err = %v", err)
	}
	if d.W.Mask != nil {
		t.Error("a rejected call changed the layer")
	}
	for _, scope := range []Scope{ScopeLayer, ScopeGlobal} {
		m := twoLayerModel()
		fc1, fc2 := fc12(m)
		ds := []*nn.Dense{fc1, fc2}
		if err := Prune(ds, -0.1, Options{Criterion: Random, Scope: scope, Rand: rng}); err == nil {
			t.Errorf("%s ratio −0.1: no error", scope)
		}
		if err := Prune(ds, 0.5, Options{Criterion: Random, Scope: scope}); err == nil {
			t.Errorf("%s nil rng: no error", scope)
		}
		if fc1.W.Mask != nil || fc2.W.Mask != nil {
			t.Errorf("%s: a rejected call pruned the model", scope)
		}
	}
}
