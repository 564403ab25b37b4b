package prune

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

func nonZeroWeights(m *nn.Sequential) int {
	n := 0
	for _, l := range m.Layers {
		if d, ok := l.(*nn.Dense); ok {
			n += d.W.NonZero()
		}
	}
	return n
}

func TestToBudgetNonZero(t *testing.T) {
	cases := []struct {
		name      string
		max       int
		layers    []string
		wantRatio float64
		fc1, fc2  []float32
	}{
		// 8 weights: 0.1 −0.2 0.3 0.4 | −5 1 2 3. Keeping 5 removes 3.
		{"5 of 8", 5, nil, 0.375, []float32{0, 0, 0, 0.4}, []float32{-5, 1, 2, 3}},
		{"already met", 8, nil, 0, []float32{0.1, -0.2, 0.3, 0.4}, []float32{-5, 1, 2, 3}},
		{"1 of 8", 1, nil, 0.875, []float32{0, 0, 0, 0}, []float32{-5, 0, 0, 0}},
		// Counted over fc2 only: keeping 2 removes 1 and 2.
		{"fc2 only", 2, []string{"fc2"}, 0.5, []float32{0.1, -0.2, 0.3, 0.4}, []float32{-5, 0, 0, 3}},
	}
	for _, c := range cases {
		m := twoLayerModel()
		ratio, err := ToBudget(m, Budget{MaxNonZero: c.max}, c.layers)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if ratio != c.wantRatio {
			t.Errorf("%s: ratio %v, want %v", c.name, ratio, c.wantRatio)
		}
		fc1, fc2 := m.Layers[0].(*nn.Dense), m.Layers[2].(*nn.Dense)
		if !slices.Equal(fc1.W.Value.Data, c.fc1) || !slices.Equal(fc2.W.Value.Data, c.fc2) {
			t.Errorf("%s: fc1 %v fc2 %v, want %v and %v", c.name, fc1.W.Value.Data, fc2.W.Value.Data, c.fc1, c.fc2)
		}
		if c.wantRatio == 0 && (fc1.W.Mask != nil || fc2.W.Mask != nil) {
			t.Errorf("%s: a model within budget got masks", c.name)
		}
	}
}

// Weights that are zero already, masked or not, count toward the budget.
func TestToBudgetCountsExistingZeros(t *testing.T) {
	d := dense("fc", 2, 2, []float32{0, 1, 2, 3})
	m := &nn.Sequential{Layers: []nn.Layer{d}}
	ratio, err := ToBudget(m, Budget{MaxNonZero: 3}, nil)
	if err != nil || ratio != 0 || d.W.Mask != nil {
		t.Errorf("3 non-zeros, budget 3: ratio %v err %v mask %v; want 0, nil, nil", ratio, err, d.W.Mask)
	}
	ratio, err = ToBudget(m, Budget{MaxNonZero: 2}, nil)
	if err != nil || ratio != 0.5 || !slices.Equal(d.W.Mask, []float32{0, 0, 1, 1}) {
		t.Errorf("budget 2: ratio %v err %v mask %v; want 0.5, nil, [0 0 1 1]", ratio, err, d.W.Mask)
	}

	d = dense("fc", 2, 2, []float32{1, 2, 3, 4})
	d.W.Mask = []float32{1, 1, 1, 0} // the largest was pruned earlier
	d.W.ApplyMask()
	m = &nn.Sequential{Layers: []nn.Layer{d}}
	ratio, err = ToBudget(m, Budget{MaxNonZero: 2}, nil)
	if err != nil || ratio != 0.5 || !slices.Equal(d.W.Mask, []float32{0, 1, 1, 0}) {
		t.Errorf("masked model, budget 2: ratio %v err %v mask %v; want 0.5, nil, [0 1 1 0]", ratio, err, d.W.Mask)
	}
}

// The 10×4 layer with weights 1…40 and 4 biases is 176 B dense; with nnz
// weights left its sparse form is 4·nnz + 2·nnz + 5·4 B, plus 16 B biases:
// 6·nnz + 36 B, smaller than dense below 24 non-zeros.
func TestToBudgetBytes(t *testing.T) {
	cases := []struct {
		maxBytes  int64
		wantRatio float64
		wantBytes int64
	}{
		{176, 0, 176},     // already met
		{175, 0.425, 174}, // 6·23 + 36 = 174; 24 left would be 180
		{100, 0.75, 96},   // 6·10 + 36 = 96; 11 left would be 102
		{36, 0.99, 36},    // nothing left: 20 B of row pointers + 16 B biases
		{1000, 0, 176},    // generous
		{173, 0.45, 168},  // 6·22 + 36 = 168
		{102, 0.725, 102}, // exactly 11 left
		{101, 0.75, 96},   // one byte less needs 10
		{37, 0.99, 36},    // 1 left would be 42
		{42, 0.975, 42},   // exactly 1 left
		{43, 0.975, 42},   // 1 left fits
		{41, 0.99, 36},    // 0 left
		{60, 0.9, 60},     // 4 left, as in TestPrunedSizeBytes
		{59, 0.925, 54},   // 3 left
		{156, 0.5, 156},   // 20 left, as in TestPrunedSizeBytes
	}
	for _, c := range cases {
		d := dense("fc", 10, 4, seq(40))
		m := &nn.Sequential{Layers: []nn.Layer{d}}
		ratio, err := ToBudget(m, Budget{MaxBytes: c.maxBytes}, nil)
		if err != nil {
			t.Errorf("MaxBytes %d: %v", c.maxBytes, err)
			continue
		}
		if ratio != c.wantRatio {
			t.Errorf("MaxBytes %d: ratio %v, want %v", c.maxBytes, ratio, c.wantRatio)
		}
		if got := m.Totals().SizeBytes; got != c.wantBytes {
			t.Errorf("MaxBytes %d: SizeBytes %d, want %d", c.maxBytes, got, c.wantBytes)
		}
	}
}

// The ratio is the least that meets the budget: global magnitude pruning
// (Prune with ScopeGlobal) at one weight fewer misses it. Checked on a
// random MLP against Prune itself.
func TestToBudgetIsMinimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	base := &nn.Sequential{Layers: []nn.Layer{
		nn.NewDense("fc1", 100, 60, rng), nn.NewReLU("relu1"),
		nn.NewDense("fc2", 60, 30, rng), nn.NewReLU("relu2"),
		nn.NewDense("fc3", 30, 10, rng),
	}}
	dense := base.Totals().SizeBytes
	const n = 100*60 + 60*30 + 30*10
	for _, b := range []Budget{{MaxBytes: dense / 2}, {MaxBytes: dense / 10}, {MaxNonZero: 1000}} {
		m := base.Clone()
		ratio, err := ToBudget(m, b, nil)
		if err != nil {
			t.Fatalf("%+v: %v", b, err)
		}
		got := m.Totals().SizeBytes
		if (b.MaxBytes > 0 && got > b.MaxBytes) || (b.MaxNonZero > 0 && nonZeroWeights(m) > b.MaxNonZero) {
			t.Errorf("%+v: ratio %v leaves %d B, %d non-zero", b, ratio, got, nonZeroWeights(m))
		}
		same := base.Clone()
		if err := Prune(nn.WeightLayers(same), ratio, global); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(Snapshot(same), Snapshot(m)) {
			t.Errorf("%+v: Prune(%v, ScopeGlobal) gives a different model", b, ratio)
		}
		less := base.Clone()
		if err := Prune(nn.WeightLayers(less), ratio-1.0/n, global); err != nil {
			t.Fatal(err)
		}
		if (b.MaxBytes > 0 && less.Totals().SizeBytes <= b.MaxBytes) || (b.MaxNonZero > 0 && nonZeroWeights(less) <= b.MaxNonZero) {
			t.Errorf("%+v: one weight fewer (ratio %v) still meets the budget", b, ratio-1.0/n)
		}
	}
}

func TestToBudgetImpossible(t *testing.T) {
	// 200 weights: ratio 0.99 removes 198 and leaves 2.
	d := dense("fc", 10, 20, seq(200))
	m := &nn.Sequential{Layers: []nn.Layer{d}}
	_, err := ToBudget(m, Budget{MaxNonZero: 1}, nil)
	if err == nil || !strings.Contains(err.Error(), "budget of 1 non-zero weights cannot be met") || !strings.Contains(err.Error(), "leaves 2") {
		t.Errorf("MaxNonZero 1: err = %v", err)
	}
	if d.W.Mask != nil {
		t.Error("an impossible budget changed the model")
	}

	// Only fc2 may be pruned; fc1 (16 + 8 B) and fc2's biases (8 B) stay, and
	// fc2's weights shrink from 16 B dense to 12 B of row pointers at best.
	m = twoLayerModel()
	_, err = ToBudget(m, Budget{MaxBytes: 40}, []string{"fc2"})
	if err == nil || !strings.Contains(err.Error(), "budget of 40 bytes cannot be met") || !strings.Contains(err.Error(), "is 44 bytes (at ratio 0.9900)") {
		t.Errorf("MaxBytes 40: err = %v", err)
	}
	if ratio, err := ToBudget(twoLayerModel(), Budget{MaxBytes: 44}, []string{"fc2"}); err != nil || ratio != 0.99 {
		t.Errorf("MaxBytes 44: ratio %v err %v, want 0.99", ratio, err)
	}

	// A 1-bit 4×4 layer is smallest dense and unpruned: 2 B of codes, 16 B of
	// scales, 16 B of biases. One zero needs a zero level (2 bits: 4 B) and
	// the sparse form costs at least its 20 B of row pointers, so pruning
	// only grows it and the least reachable is at ratio 0.
	q := dense("q", 4, 4, seq(16))
	q.Bits = 1
	if got := q.Stats().SizeBytes; got != 34 {
		t.Fatalf("1-bit layer is %d B, want 34", got)
	}
	_, err = ToBudget(&nn.Sequential{Layers: []nn.Layer{q}}, Budget{MaxBytes: 33}, nil)
	if err == nil || !strings.Contains(err.Error(), "is 34 bytes (at ratio 0.0000)") {
		t.Errorf("1-bit MaxBytes 33: err = %v", err)
	}
}

func TestToBudgetErrors(t *testing.T) {
	cases := []struct {
		b      Budget
		layers []string
		want   string
	}{
		{Budget{}, nil, "neither MaxNonZero nor MaxBytes"},
		{Budget{MaxNonZero: 3, MaxBytes: 100}, nil, "both MaxNonZero and MaxBytes"},
		{Budget{MaxNonZero: -1}, nil, "MaxNonZero -1 is negative"},
		{Budget{MaxBytes: -1}, nil, "MaxBytes -1 is negative"},
		{Budget{MaxNonZero: 3}, []string{"fc9"}, `"fc9"`},
	}
	for _, c := range cases {
		m := twoLayerModel()
		if _, err := ToBudget(m, c.b, c.layers); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want it to mention %q", c.b, err, c.want)
		}
		if m.Layers[0].(*nn.Dense).W.Mask != nil || m.Layers[2].(*nn.Dense).W.Mask != nil {
			t.Errorf("%+v: a rejected call pruned the model", c.b)
		}
	}
}
