package prune

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// dense returns an in×out Dense layer with the given row-major weights and
// bias 1, 2, 3, … so tests can see that biases are left alone.
func dense(name string, in, out int, w []float32) *nn.Dense {
	d := nn.NewDense(name, in, out, rand.New(rand.NewPCG(1, 2)))
	copy(d.W.Value.Data, w)
	for j := range d.B.Value.Data {
		d.B.Value.Data[j] = float32(j + 1)
	}
	return d
}

// one is the layer list of Prune for a single layer.
func one(d *nn.Dense) []*nn.Dense { return []*nn.Dense{d} }

// global is Options for magnitude pruning under one ranking.
var global = Options{Scope: ScopeGlobal}

func TestMagnitudeRemovesSmallest(t *testing.T) {
	d := dense("fc", 2, 3, []float32{0.5, -0.1, 0.3, -0.7, 0.2, 0.05})
	if err := Prune(one(d), 0.5, Options{}); err != nil {
		t.Fatal(err)
	}
	// round(0.5·6) = 3 removed: 0.05, −0.1, 0.2.
	wantW := []float32{0.5, 0, 0.3, -0.7, 0, 0}
	wantMask := []float32{1, 0, 1, 1, 0, 0}
	if !slices.Equal(d.W.Value.Data, wantW) {
		t.Errorf("W = %v, want %v", d.W.Value.Data, wantW)
	}
	if !slices.Equal(d.W.Mask, wantMask) {
		t.Errorf("mask = %v, want %v", d.W.Mask, wantMask)
	}
	if !slices.Equal(d.B.Value.Data, []float32{1, 2, 3}) || d.B.Mask != nil {
		t.Errorf("bias changed: %v mask %v", d.B.Value.Data, d.B.Mask)
	}
	if got := Sparsity(d); got != 0.5 {
		t.Errorf("Sparsity = %v, want 0.5", got)
	}
}

func TestMagnitudeCountRoundsAndTiesBreakByIndex(t *testing.T) {
	cases := []struct {
		ratio    float64
		wantMask []float32
	}{
		{0.2, []float32{1, 0, 1, 1, 1, 1}},  // 1.2 → 1
		{0.25, []float32{0, 0, 1, 1, 1, 1}}, // 1.5 → 2
		{0.5, []float32{0, 0, 0, 1, 1, 1}},  // 3
		{0.9, []float32{0, 0, 0, 0, 1, 0}},  // 5.4 → 5
	}
	for _, c := range cases {
		// Index 1 is the smallest; 0, 2 and 3 tie and go in index order.
		d := dense("fc", 3, 2, []float32{0.2, 0.1, -0.2, 0.2, 0.9, -0.8})
		if err := Prune(one(d), c.ratio, Options{}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(d.W.Mask, c.wantMask) {
			t.Errorf("ratio %v: mask = %v, want %v", c.ratio, d.W.Mask, c.wantMask)
		}
	}
}

func TestMagnitudeZeroRatioLeavesLayerDense(t *testing.T) {
	d := dense("fc", 2, 2, []float32{1, 2, 3, 4})
	if err := Prune(one(d), 0, Options{}); err != nil {
		t.Fatal(err)
	}
	if d.W.Mask != nil || !slices.Equal(d.W.Value.Data, []float32{1, 2, 3, 4}) {
		t.Errorf("ratio 0 changed the layer: W %v mask %v", d.W.Value.Data, d.W.Mask)
	}
}

func TestMagnitudeCountsAlreadyMaskedAsRemoved(t *testing.T) {
	d := dense("fc", 2, 3, []float32{0.5, -0.1, 0.3, -0.7, 0.2, 0.05})
	// Index 3 (the largest) was removed earlier, e.g. by a first pruning round.
	d.W.Mask = []float32{1, 1, 1, 0, 1, 1}
	d.W.ApplyMask()
	if err := Prune(one(d), 0.5, Options{}); err != nil {
		t.Fatal(err)
	}
	// 3 removed in all: the masked one, then 0.05 and −0.1.
	if want := []float32{1, 0, 1, 0, 1, 0}; !slices.Equal(d.W.Mask, want) {
		t.Errorf("mask = %v, want %v", d.W.Mask, want)
	}
	// A lower ratio than the layer already has regrows nothing.
	if err := Prune(one(d), 0.1, Options{}); err != nil {
		t.Fatal(err)
	}
	if want := []float32{1, 0, 1, 0, 1, 0}; !slices.Equal(d.W.Mask, want) {
		t.Errorf("after ratio 0.1: mask = %v, want %v", d.W.Mask, want)
	}
	if want := []float32{0.5, 0, 0.3, 0, 0.2, 0}; !slices.Equal(d.W.Value.Data, want) {
		t.Errorf("W = %v, want %v", d.W.Value.Data, want)
	}
}

// twoLayerModel: fc1 has small weights, fc2 large ones, with a ReLU between.
func twoLayerModel() *nn.Sequential {
	return &nn.Sequential{Layers: []nn.Layer{
		dense("fc1", 2, 2, []float32{0.1, -0.2, 0.3, 0.4}),
		nn.NewReLU("relu1"),
		dense("fc2", 2, 2, []float32{-5, 1, 2, 3}),
	}}
}

// fc1 and fc2 of twoLayerModel.
func fc12(m *nn.Sequential) (fc1, fc2 *nn.Dense) {
	return m.Layers[0].(*nn.Dense), m.Layers[2].(*nn.Dense)
}

func TestScopeLayerPrunesEachLayerAlike(t *testing.T) {
	m := twoLayerModel()
	fc1, fc2 := fc12(m)
	if err := Prune([]*nn.Dense{fc1, fc2}, 0.5, Options{Scope: ScopeLayer}); err != nil {
		t.Fatal(err)
	}
	if want := []float32{0, 0, 0.3, 0.4}; !slices.Equal(fc1.W.Value.Data, want) {
		t.Errorf("fc1 W = %v, want %v", fc1.W.Value.Data, want)
	}
	if want := []float32{-5, 0, 0, 3}; !slices.Equal(fc2.W.Value.Data, want) {
		t.Errorf("fc2 W = %v, want %v", fc2.W.Value.Data, want)
	}
}

func TestScopeGlobalUsesOneThreshold(t *testing.T) {
	m := twoLayerModel()
	fc1, fc2 := fc12(m)
	// round(0.5·8) = 4: all of fc1's weights are below every weight of fc2.
	if err := Prune([]*nn.Dense{fc1, fc2}, 0.5, global); err != nil {
		t.Fatal(err)
	}
	if Sparsity(fc1) != 1 || Sparsity(fc2) != 0 {
		t.Errorf("sparsity fc1 %v fc2 %v, want 1 and 0", Sparsity(fc1), Sparsity(fc2))
	}
	if fc2.W.Mask != nil {
		t.Errorf("fc2 lost no weight but got a mask %v", fc2.W.Mask)
	}

	// round(0.75·8) = 6: fc1's four, then fc2's 1 and 2.
	m = twoLayerModel()
	fc1, fc2 = fc12(m)
	if err := Prune([]*nn.Dense{fc1, fc2}, 0.75, global); err != nil {
		t.Fatal(err)
	}
	if want := []float32{-5, 0, 0, 3}; !slices.Equal(fc2.W.Value.Data, want) {
		t.Errorf("fc2 W = %v, want %v", fc2.W.Value.Data, want)
	}
}

// Ties across layers go to the layer given first.
func TestScopeGlobalTiesAcrossLayersBreakByLayerOrder(t *testing.T) {
	fc1, fc2 := dense("fc1", 1, 2, []float32{1, 2}), dense("fc2", 1, 2, []float32{1, 2})
	if err := Prune([]*nn.Dense{fc1, fc2}, 0.25, global); err != nil {
		t.Fatal(err)
	}
	if got := fc1.W.Value.Data; !slices.Equal(got, []float32{0, 2}) {
		t.Errorf("fc1 W = %v, want [0 2]", got)
	}
	if got := fc2.W.Value.Data; !slices.Equal(got, []float32{1, 2}) {
		t.Errorf("fc2 W = %v, want [1 2]", got)
	}

	fc1, fc2 = dense("fc1", 1, 2, []float32{1, 2}), dense("fc2", 1, 2, []float32{1, 2})
	if err := Prune([]*nn.Dense{fc2, fc1}, 0.25, global); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fc1.W.Value.Data, []float32{1, 2}) || !slices.Equal(fc2.W.Value.Data, []float32{0, 2}) {
		t.Errorf("order fc2, fc1: fc1 W = %v, fc2 W = %v, want [1 2] and [0 2]", fc1.W.Value.Data, fc2.W.Value.Data)
	}
}

func TestSelectedLayersOnly(t *testing.T) {
	for _, scope := range []Scope{ScopeLayer, ScopeGlobal} {
		m := twoLayerModel()
		ds, err := nn.SelectWeightLayers(m, []string{"fc2"})
		if err != nil {
			t.Fatal(err)
		}
		if err := Prune(ds, 0.5, Options{Scope: scope}); err != nil {
			t.Fatal(err)
		}
		fc1, fc2 := fc12(m)
		if fc1.W.Mask != nil || Sparsity(fc1) != 0 {
			t.Errorf("%s: fc1 was not selected but was pruned: %v", scope, fc1.W.Value.Data)
		}
		if want := []float32{-5, 0, 0, 3}; !slices.Equal(fc2.W.Value.Data, want) {
			t.Errorf("%s: fc2 W = %v, want %v", scope, fc2.W.Value.Data, want)
		}
	}
}

// No layers is nothing to do, at any scope and criterion.
func TestNoLayers(t *testing.T) {
	for _, o := range []Options{{}, global, {Criterion: Random, Rand: rand.New(rand.NewPCG(1, 1))}} {
		if err := Prune(nil, 0.5, o); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

func TestErrors(t *testing.T) {
	d := dense("fc", 2, 2, []float32{1, 2, 3, 4})
	err := Prune(one(d), 1.2, Options{})
	if err == nil || err.Error() != "prune ratio 1.2 is out of range: allowed 0 ≤ ratio < 1" {
		t.Errorf("ratio 1.2: err = %v", err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, r := range []float64{-0.1, 1, math.NaN(), math.Inf(1)} {
		for _, o := range []Options{{}, global, {Criterion: Random, Rand: rng}, {Criterion: Random, Scope: ScopeGlobal, Rand: rng}} {
			if err := Prune(one(d), r, o); err == nil {
				t.Errorf("%+v ratio %v: no error", o, r)
			}
			m := twoLayerModel()
			fc1, fc2 := fc12(m)
			if err := Prune([]*nn.Dense{fc1, fc2}, r, o); err == nil {
				t.Errorf("%+v ratio %v on two layers: no error", o, r)
			}
		}
	}

	cases := []struct {
		name string
		o    Options
		want string // the whole message
	}{
		{"criterion", Options{Criterion: 7}, "prune criterion 7 is unknown: allowed Magnitude, Random"},
		{"scope", Options{Scope: 5}, "prune scope 5 is unknown: allowed ScopeLayer, ScopeGlobal"},
		{"random scope", Options{Criterion: Random, Scope: 5, Rand: rng}, "prune scope 5 is unknown: allowed ScopeLayer, ScopeGlobal"},
		{"nil rand", Options{Criterion: Random}, "random pruning needs a random source: Options.Rand is nil"},
		{"nil rand global", Options{Criterion: Random, Scope: ScopeGlobal}, "random pruning needs a random source: Options.Rand is nil"},
	}
	for _, c := range cases {
		if err := Prune(one(d), 0.5, c.o); err == nil || err.Error() != c.want {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
	if d.W.Mask != nil || !slices.Equal(d.W.Value.Data, []float32{1, 2, 3, 4}) {
		t.Errorf("a rejected call changed the layer")
	}

	// A layer listed twice is rejected before any layer is touched.
	for _, o := range []Options{{}, global, {Criterion: Random, Rand: rng}} {
		m := twoLayerModel()
		fc1, fc2 := fc12(m)
		err := Prune([]*nn.Dense{fc1, fc2, fc1}, 0.5, o)
		if err == nil || err.Error() != `prune: layer "fc1" is listed twice` {
			t.Errorf("%+v fc1, fc2, fc1: err = %v", o, err)
		}
		if fc1.W.Mask != nil || fc2.W.Mask != nil {
			t.Errorf("%+v: a rejected call pruned the model", o)
		}
	}
}

// The optimizers re-apply the mask after every step, so fine-tuning a pruned
// model keeps the removed weights at exactly zero while the rest train.
func TestMaskSurvivesAdamFineTuning(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	m := &nn.Sequential{Layers: []nn.Layer{
		nn.NewDense("fc1", 4, 6, rng),
		nn.NewReLU("relu1"),
		nn.NewDense("fc2", 6, 3, rng),
	}}
	if err := Prune(nn.WeightLayers(m), 0.6, global); err != nil {
		t.Fatal(err)
	}
	fc1, fc2 := m.Layers[0].(*nn.Dense), m.Layers[2].(*nn.Dense)
	before := append(append([]float32(nil), fc1.W.Value.Data...), fc2.W.Value.Data...)
	mask := append(append([]float32(nil), fc1.W.Mask...), fc2.W.Mask...)
	if removed := len(mask) - int(sum(mask)); removed != 25 { // round(0.6·42)
		t.Fatalf("removed %d weights, want 25", removed)
	}

	x := nn.NewMatrix(16, 4)
	y := make([]int, 16)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	for i := range y {
		y[i] = i % 3
	}
	opt := nn.NewAdam(0.05)
	for range 3 {
		if _, err := nn.TrainEpoch(context.Background(), m, opt, x, y, 4, rng, nil); err != nil {
			t.Fatal(err)
		}
	}
	after := append(append([]float32(nil), fc1.W.Value.Data...), fc2.W.Value.Data...)
	changed := 0
	for i, w := range after {
		if mask[i] == 0 && w != 0 {
			t.Errorf("pruned weight %d regrew to %v", i, w)
		}
		if mask[i] == 1 && w != before[i] {
			changed++
		}
	}
	if changed == 0 {
		t.Error("no kept weight changed: the fine-tuning did not train")
	}
}

func sum(v []float32) float32 {
	var s float32
	for _, x := range v {
		s += x
	}
	return s
}

// Pruning shrinks the stored size once the sparse form (values, 16-bit
// indices, row pointers) beats the dense one.
func TestPrunedSizeBytes(t *testing.T) {
	w := make([]float32, 40)
	for i := range w {
		w[i] = float32(i + 1)
	}
	d := dense("fc", 10, 4, w)
	// Dense: 40 weights · 4 B + 4 biases · 4 B.
	if got := d.Stats().SizeBytes; got != 176 {
		t.Fatalf("dense SizeBytes = %d, want 176", got)
	}
	if err := Prune(one(d), 0.9, Options{}); err != nil {
		t.Fatal(err)
	}
	// 4 weights left: 4·4 B values + 4·2 B indices + (4+1)·4 B row pointers
	// = 44 B against 160 B dense; plus 16 B of biases.
	if got := nn.WeightBytes(10, 4, 4, 32); got != 44 {
		t.Errorf("nn.WeightBytes(10, 4, 4, 32) = %d, want 44", got)
	}
	s := d.Stats()
	if s.SizeBytes != 60 || s.NonZero != 8 {
		t.Errorf("pruned SizeBytes %d NonZero %d, want 60 and 8", s.SizeBytes, s.NonZero)
	}

	// At half sparsity the sparse form (20·4 + 20·2 + 5·4 = 140 B) saves
	// only 20 B on the dense 160 B.
	d = dense("fc", 10, 4, w)
	if err := Prune(one(d), 0.5, Options{}); err != nil {
		t.Fatal(err)
	}
	if got := d.Stats().SizeBytes; got != 156 {
		t.Errorf("half-pruned SizeBytes = %d, want 156", got)
	}

	// At 30% (28 left: 112 + 56 + 20 = 188 B) the dense form is smaller, so
	// pruning saves nothing.
	d = dense("fc", 10, 4, w)
	if err := Prune(one(d), 0.3, Options{}); err != nil {
		t.Fatal(err)
	}
	if got := d.Stats().SizeBytes; got != 176 {
		t.Errorf("30%%-pruned SizeBytes = %d, want 176", got)
	}
}
