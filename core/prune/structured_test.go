package prune

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// neuronModel: fc1 (2→3, bias 1 2 3), ReLU, fc2 (3→2, bias 1 2).
// fc1's neurons (columns) have incoming weights
//
//	n0 = (3, 0): L1 3, L2 3
//	n1 = (2, 2): L1 4, L2 √8 ≈ 2.83
//	n2 = (4, 4): L1 8, L2 √32 ≈ 5.66
//
// so L1 ranks n0 weakest and L2 ranks n1 weakest.
func neuronModel() *nn.Sequential {
	return &nn.Sequential{Layers: []nn.Layer{
		dense("fc1", 2, 3, []float32{
			3, 2, 4,
			0, 2, 4,
		}),
		nn.NewReLU("relu1"),
		dense("fc2", 3, 2, []float32{
			1, -1,
			2, 0.5,
			-1, 3,
		}),
	}}
}

func matrix(rows, cols int, v ...float32) nn.Matrix {
	return nn.Matrix{Rows: rows, Cols: cols, Data: v}
}

func TestStructuredL1RemovesWeakestNeuron(t *testing.T) {
	m := neuronModel()
	rep, err := Structured(m, 1.0/3, L1, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Report{Layers: []LayerReport{{Layer: "fc1", Before: 3, After: 2, Removed: []int{0}}}}
	if !reflect.DeepEqual(rep, want) {
		t.Errorf("report = %+v, want %+v", rep, want)
	}
	if rep.Removed() != 1 {
		t.Errorf("Removed() = %d, want 1", rep.Removed())
	}
	fc1, fc2 := m.Layers[0].(*nn.Dense), m.Layers[2].(*nn.Dense)
	if fc1.In != 2 || fc1.Out != 2 || fc2.In != 2 || fc2.Out != 2 {
		t.Fatalf("shapes fc1 %d×%d fc2 %d×%d, want 2×2 and 2×2", fc1.In, fc1.Out, fc2.In, fc2.Out)
	}
	checkMatrix(t, "fc1.W", fc1.W.Value, matrix(2, 2, 2, 4, 2, 4))
	checkMatrix(t, "fc1.b", fc1.B.Value, matrix(1, 2, 2, 3))
	checkMatrix(t, "fc2.W", fc2.W.Value, matrix(2, 2, 2, 0.5, -1, 3))
	checkMatrix(t, "fc2.b", fc2.B.Value, matrix(1, 2, 1, 2))
	checkMatrix(t, "fc1.W.Grad", fc1.W.Grad, matrix(2, 2, 0, 0, 0, 0))
	if fc1.W.Name != "fc1.W" || fc1.B.Name != "fc1.b" || fc2.W.Name != "fc2.W" || fc1.LayerName != "fc1" {
		t.Errorf("names changed: %q %q %q %q", fc1.LayerName, fc1.W.Name, fc1.B.Name, fc2.W.Name)
	}

	// Params: 9 + 8 = 17 before, 6 + 6 after; FLOPs 6 + 6 before, 4 + 4 after.
	tot := m.Totals()
	if tot.Params != 12 || tot.FLOPs != 8 {
		t.Errorf("after: params %d flops %d, want 12 and 8", tot.Params, tot.FLOPs)
	}
}

func TestStructuredL2RemovesADifferentNeuron(t *testing.T) {
	m := neuronModel()
	rep, err := Structured(m, 1.0/3, L2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Layers[0].Removed, []int{1}) {
		t.Errorf("L2 removed %v, want [1]", rep.Layers[0].Removed)
	}
	fc1, fc2 := m.Layers[0].(*nn.Dense), m.Layers[2].(*nn.Dense)
	checkMatrix(t, "fc1.W", fc1.W.Value, matrix(2, 2, 3, 4, 0, 4))
	checkMatrix(t, "fc1.b", fc1.B.Value, matrix(1, 2, 1, 3))
	checkMatrix(t, "fc2.W", fc2.W.Value, matrix(2, 2, 1, -1, -1, 3))
}

// Removing a neuron is the same as cutting its outgoing weights: the pruned
// model's logits equal the original's with fc2's row for that neuron zeroed.
func TestStructuredKeepsTheOutputsOfKeptNeurons(t *testing.T) {
	x := matrix(2, 2,
		1, -1,
		0.5, 2)
	// By hand, after removing n0 (L1):
	//   x1 = ( 1, −1): h = relu(2−2+2, 4−4+3) = (2, 3)
	//        logits = (2·2 − 3 + 1, 2·0.5 + 3·3 + 2) = (2, 12)
	//   x2 = (.5,  2): h = (1+4+2, 2+8+3) = (7, 13)
	//        logits = (14 − 13 + 1, 3.5 + 39 + 2) = (2, 44.5)
	want := matrix(2, 2, 2, 12, 2, 44.5)

	reference := neuronModel()
	fc2 := reference.Layers[2].(*nn.Dense)
	fc2.W.Value.Set(0, 0, 0)
	fc2.W.Value.Set(0, 1, 0)
	checkMatrix(t, "reference logits", reference.Forward(x, false).Clone(), want)

	// The unpruned model differs, so the check can fail: for x1 the
	// original logits are (4+4−3+1, −4+1+9+2) = (6, 8).
	original := neuronModel()
	if got := original.Forward(x, false); got.At(0, 0) != 6 || got.At(0, 1) != 8 {
		t.Fatalf("original logits row 0 = %v, want (6, 8)", got.Row(0))
	}

	m := neuronModel()
	if _, err := Structured(m, 1.0/3, L1, nil); err != nil {
		t.Fatal(err)
	}
	checkMatrix(t, "pruned logits", m.Forward(x, false).Clone(), want)
}

// opaque is a weight layer Structured does not know how to shrink, like a
// factorized layer.
type opaque struct{ *nn.Dense }

func (o opaque) Clone() nn.Layer { return opaque{o.Dense.Clone().(*nn.Dense)} }

func TestStructuredThroughDropoutKeepsMasksBitsAndNoBias(t *testing.T) {
	fc1 := dense("fc1", 2, 3, []float32{3, 2, 4, 0, 2, 4})
	fc1.W.Mask = []float32{1, 1, 0, 1, 0, 1}
	fc1.W.ApplyMask() // columns now (3, 0), (2, 0), (0, 4): L1 3, 2, 4
	fc2 := nn.NewDenseNoBias("fc2", 3, 2)
	copy(fc2.W.Value.Data, []float32{1, 2, 3, 4, 5, 6})
	fc2.W.Mask = []float32{1, 0, 1, 1, 0, 1}
	fc2.W.ApplyMask()
	fc2.Bits = 8
	m := &nn.Sequential{Layers: []nn.Layer{fc1, nn.NewDropout("drop", 0.5, 1), nn.NewReLU("relu"), fc2}}

	rep, err := Structured(m, 0.3, L1, []string{"fc1"}) // round(0.9) = 1 neuron
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Layers[0].Removed, []int{1}) {
		t.Fatalf("removed %v, want [1]", rep.Layers[0].Removed)
	}
	n1, n2 := m.Layers[0].(*nn.Dense), m.Layers[3].(*nn.Dense)
	checkMatrix(t, "fc1.W", n1.W.Value, matrix(2, 2, 3, 0, 0, 4))
	if !slices.Equal(n1.W.Mask, []float32{1, 0, 1, 1}) {
		t.Errorf("fc1 mask = %v, want [1 0 1 1]", n1.W.Mask)
	}
	checkMatrix(t, "fc2.W", n2.W.Value, matrix(2, 2, 1, 0, 0, 6))
	if !slices.Equal(n2.W.Mask, []float32{1, 0, 0, 1}) {
		t.Errorf("fc2 mask = %v, want [1 0 0 1]", n2.W.Mask)
	}
	if n2.HasBias() || n2.Bits != 8 || len(n2.Params()) != 1 {
		t.Errorf("fc2: HasBias %v Bits %d params %d, want false, 8, 1", n2.HasBias(), n2.Bits, len(n2.Params()))
	}
	if n1 == fc1 || n2 == fc2 {
		t.Error("the shrunk layers were not replaced by new ones")
	}
	if fc1.Out != 3 || len(fc1.W.Value.Data) != 6 {
		t.Error("the old layer was modified in place")
	}
}

// fc1 and fc2 are scored on the weights as they are before the call: fc2's
// neuron 0 gets all its weight from fc1's neuron 0, which goes, but it is
// still fc2's strongest neuron and stays.
func TestStructuredScoresAllLayersBeforeShrinking(t *testing.T) {
	m := &nn.Sequential{Layers: []nn.Layer{
		dense("fc1", 1, 3, []float32{1, 5, 6}),
		nn.NewReLU("relu1"),
		dense("fc2", 3, 3, []float32{
			10, 0, 0,
			0, 1, 2,
			0, 1, 2,
		}), // L1: 10, 2, 4
		nn.NewReLU("relu2"),
		dense("fc3", 3, 2, []float32{1, 2, 3, 4, 5, 6}),
	}}
	rep, err := Structured(m, 0.34, L1, nil) // round(1.02) = 1 per layer
	if err != nil {
		t.Fatal(err)
	}
	want := []LayerReport{
		{Layer: "fc1", Before: 3, After: 2, Removed: []int{0}},
		{Layer: "fc2", Before: 3, After: 2, Removed: []int{1}},
	}
	if !reflect.DeepEqual(rep.Layers, want) {
		t.Errorf("report = %+v, want %+v", rep.Layers, want)
	}
	checkMatrix(t, "fc2.W", m.Layers[2].(*nn.Dense).W.Value, matrix(2, 2, 0, 2, 0, 2))
	checkMatrix(t, "fc3.W", m.Layers[4].(*nn.Dense).W.Value, matrix(2, 2, 1, 2, 5, 6))
	if got := m.Forward(matrix(1, 1, 1), false); got.Cols != 2 {
		t.Errorf("forward gives %d columns, want 2", got.Cols)
	}
}

func TestStructuredKeepsAtLeastOneNeuronAndRatioZeroChangesNothing(t *testing.T) {
	m := &nn.Sequential{Layers: []nn.Layer{
		dense("fc1", 2, 2, []float32{1, 2, 3, 4}), nn.NewReLU("r"), dense("fc2", 2, 1, []float32{1, 1}),
	}}
	rep, err := Structured(m, 0.9, L2, nil) // round(1.8) = 2, clamped to 1
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Layers[0]; got.After != 1 || !slices.Equal(got.Removed, []int{0}) {
		t.Errorf("report %+v, want 1 neuron kept, neuron 0 removed", got)
	}

	m = neuronModel()
	fc1, fc2 := m.Layers[0], m.Layers[2]
	rep, err = Structured(m, 0.1, L1, nil) // round(0.3) = 0
	if err != nil {
		t.Fatal(err)
	}
	if rep.Removed() != 0 || m.Layers[0] != fc1 || m.Layers[2] != fc2 {
		t.Errorf("ratio 0.1 on 3 neurons: removed %d, layers replaced %v", rep.Removed(), m.Layers[0] != fc1)
	}
}

func TestStructuredShrinksLeNet(t *testing.T) {
	m := lenet300()
	before := m.Totals()
	rep, err := Structured(m, 0.5, L1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Layers) != 2 || rep.Layers[0].After != 150 || rep.Layers[1].After != 50 {
		t.Fatalf("report %+v, want fc1 → 150 and fc2 → 50 neurons", rep.Layers)
	}
	// 784·150 + 150 + 150·50 + 50 + 50·10 + 10 parameters.
	got := m.Totals()
	if got.Params != 125810 || got.FLOPs != 125600 {
		t.Errorf("params %d flops %d, want 125810 and 125600", got.Params, got.FLOPs)
	}
	if got.SizeBytes >= before.SizeBytes/2 {
		t.Errorf("SizeBytes %d, want under half of %d", got.SizeBytes, before.SizeBytes)
	}
	x := nn.NewMatrix(3, 784)
	if y := m.Forward(x, false); y.Rows != 3 || y.Cols != 10 {
		t.Errorf("forward gives %d×%d, want 3×10", y.Rows, y.Cols)
	}
}

func TestStructuredErrors(t *testing.T) {
	cases := []struct {
		name   string
		model  func() *nn.Sequential
		ratio  float64
		norm   Norm
		layers []string
		want   []string
	}{
		{"output layer", neuronModel, 0.5, L1, []string{"fc2"},
			[]string{`"fc2" is the output layer`, "hidden layers fc1"}},
		{"ratio 1", neuronModel, 1, L1, nil, []string{"allowed 0 ≤ ratio < 1"}},
		{"ratio NaN", neuronModel, math.NaN(), L1, nil, []string{"out of range"}},
		{"unknown norm", neuronModel, 0.5, Norm(7), nil, []string{"norm 7", "L1, L2"}},
		{"unknown layer", neuronModel, 0.5, L1, []string{"fc9"}, []string{`"fc9"`, "fc1, fc2"}},
		{"not Dense", neuronModel, 0.5, L1, []string{"relu1"}, []string{`"relu1"`, "not a weight layer"}},
		{"no hidden layer", func() *nn.Sequential {
			return &nn.Sequential{Layers: []nn.Layer{dense("fc", 2, 2, []float32{1, 2, 3, 4})}}
		}, 0.5, L1, nil, []string{"no hidden layer"}},
		{"blocked by another layer", func() *nn.Sequential {
			return &nn.Sequential{Layers: []nn.Layer{
				dense("fc1", 2, 3, seq(6)), nn.NewReLU("relu1"),
				opaque{dense("lr2", 3, 2, seq(6))},
			}}
		}, 0.5, L1, []string{"fc1"}, []string{`"fc1" is followed by layer "lr2"`, "cannot be shrunk"}},
	}
	for _, c := range cases {
		m := c.model()
		before := m.Clone()
		_, err := Structured(m, c.ratio, c.norm, c.layers)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", c.name, err, w)
			}
		}
		if !reflect.DeepEqual(Snapshot(m), Snapshot(before)) {
			t.Errorf("%s: a rejected call changed the model", c.name)
		}
	}
}

func TestNormNames(t *testing.T) {
	for _, n := range []Norm{L1, L2} {
		got, err := ParseNorm(n.String())
		if err != nil || got != n {
			t.Errorf("ParseNorm(%q) = %v, %v", n.String(), got, err)
		}
	}
	if L1.String() != "l1" || L2.String() != "l2" {
		t.Errorf("names %q %q, want l1 l2", L1, L2)
	}
	if _, err := ParseNorm("l3"); err == nil || !strings.Contains(err.Error(), "allowed l1, l2") {
		t.Errorf("ParseNorm(l3): err = %v", err)
	}
}

func checkMatrix(t *testing.T, name string, got, want nn.Matrix) {
	t.Helper()
	if got.Rows != want.Rows || got.Cols != want.Cols {
		t.Errorf("%s is %d×%d, want %d×%d", name, got.Rows, got.Cols, want.Rows, want.Cols)
		return
	}
	for i := range want.Data {
		if math.Abs(float64(got.Data[i]-want.Data[i])) > 1e-5 {
			t.Errorf("%s = %v, want %v", name, got.Data, want.Data)
			return
		}
	}
}
