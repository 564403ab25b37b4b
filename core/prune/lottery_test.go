package prune

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

func TestSnapshotIsADeepCopy(t *testing.T) {
	m := twoLayerModel()
	w := Snapshot(m)
	if len(w) != 4 {
		t.Fatalf("snapshot has %d entries, want 4 (fc1.W fc1.b fc2.W fc2.b)", len(w))
	}
	m.Layers[0].(*nn.Dense).W.Value.Data[0] = 99
	if got := w["fc1.W"]; got.Rows != 2 || got.Cols != 2 || !slices.Equal(got.Data, []float32{0.1, -0.2, 0.3, 0.4}) {
		t.Errorf("fc1.W snapshot = %v %v, want 2×2 [0.1 -0.2 0.3 0.4]", got, got.Data)
	}
	if !slices.Equal(w["fc2.b"].Data, []float32{1, 2}) {
		t.Errorf("fc2.b snapshot = %v, want [1 2]", w["fc2.b"].Data)
	}
}

// The lottery-ticket round: snapshot, train (here: overwrite), prune, rewind.
// Survivors get their snapshot values back, pruned weights stay zero.
func TestRewindRestoresSurvivorsAndKeepsPrunedZero(t *testing.T) {
	m := twoLayerModel()
	w0 := Snapshot(m)
	for _, p := range m.Params() {
		for i := range p.Value.Data {
			p.Value.Data[i] = 7
		}
	}
	fc1 := m.Layers[0].(*nn.Dense)
	fc1.W.Mask = []float32{1, 0, 1, 0}
	fc1.W.ApplyMask()
	if err := Rewind(m, w0); err != nil {
		t.Fatal(err)
	}
	if want := []float32{0.1, 0, 0.3, 0}; !slices.Equal(fc1.W.Value.Data, want) {
		t.Errorf("fc1.W = %v, want %v", fc1.W.Value.Data, want)
	}
	if !slices.Equal(fc1.W.Mask, []float32{1, 0, 1, 0}) {
		t.Errorf("mask changed to %v", fc1.W.Mask)
	}
	fc2 := m.Layers[2].(*nn.Dense)
	if !slices.Equal(fc2.W.Value.Data, []float32{-5, 1, 2, 3}) || !slices.Equal(fc2.B.Value.Data, []float32{1, 2}) || !slices.Equal(fc1.B.Value.Data, []float32{1, 2}) {
		t.Errorf("fc2.W %v fc2.b %v fc1.b %v, want the snapshot", fc2.W.Value.Data, fc2.B.Value.Data, fc1.B.Value.Data)
	}
	// The snapshot itself is not tied to the model.
	fc2.W.Value.Data[0] = 42
	if w0["fc2.W"].Data[0] != -5 {
		t.Error("Rewind made the model share the snapshot's storage")
	}
}

func TestRewindErrors(t *testing.T) {
	w0 := Snapshot(neuronModel())

	shrunk := neuronModel()
	if _, err := Structured(shrunk, 0.34, L1, nil); err != nil {
		t.Fatal(err)
	}
	missing := Snapshot(neuronModel())
	delete(missing, "fc2.b")
	extra := Snapshot(neuronModel())
	extra["fc9.W"] = nn.NewMatrix(1, 1)
	dup := &nn.Sequential{Layers: []nn.Layer{dense("fc", 2, 2, seq(4)), nn.NewReLU("r"), dense("fc", 2, 2, seq(4))}}

	cases := []struct {
		name string
		m    *nn.Sequential
		w    Weights
		want string
	}{
		{"shrunk model", shrunk, w0, `"fc1.W" is 2×2 in the model but 2×3 in the snapshot`},
		{"missing", neuronModel(), missing, `"fc2.b" is not in the snapshot`},
		{"extra", neuronModel(), extra, `snapshot parameter "fc9.W" is not in the model`},
		{"duplicate names", dup, Snapshot(dup), `two parameters named "fc.W"`},
	}
	for _, c := range cases {
		before := paramValues(c.m)
		err := Rewind(c.m, c.w)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %s", c.name, err, c.want)
		}
		if !reflect.DeepEqual(paramValues(c.m), before) {
			t.Errorf("%s: a rejected rewind changed the model", c.name)
		}
	}
}

// Reinit draws exactly what nn.NewDense draws from the same stream, layer
// by layer in model order, then applies the masks.
func TestReinitMatchesNewDenseAndKeepsMasks(t *testing.T) {
	m := twoLayerModel()
	fc1, fc2 := m.Layers[0].(*nn.Dense), m.Layers[2].(*nn.Dense)
	fc1.W.Mask = []float32{0, 1, 1, 0}
	fc1.W.ApplyMask()
	if err := Reinit(m, rand.New(rand.NewPCG(11, 12))); err != nil {
		t.Fatal(err)
	}
	ref := rand.New(rand.NewPCG(11, 12))
	want1 := nn.NewDense("fc1", 2, 2, ref).W.Value.Data
	want2 := nn.NewDense("fc2", 2, 2, ref).W.Value.Data
	want1[0], want1[3] = 0, 0
	if !slices.Equal(fc1.W.Value.Data, want1) || !slices.Equal(fc2.W.Value.Data, want2) {
		t.Errorf("fc1 %v fc2 %v, want %v and %v", fc1.W.Value.Data, fc2.W.Value.Data, want1, want2)
	}
	if !slices.Equal(fc1.B.Value.Data, []float32{0, 0}) || !slices.Equal(fc2.B.Value.Data, []float32{0, 0}) {
		t.Errorf("biases %v %v, want zero", fc1.B.Value.Data, fc2.B.Value.Data)
	}
	if !slices.Equal(fc1.W.Mask, []float32{0, 1, 1, 0}) {
		t.Errorf("mask changed to %v", fc1.W.Mask)
	}
}

// He normal: std √(2/In). For a 200×100 layer the sample variance of 20 000
// draws is within 5% of 2/200 = 0.01 (its relative sd is √(2/20000) = 1%).
func TestReinitScale(t *testing.T) {
	d := dense("fc", 200, 100, make([]float32, 200*100))
	if err := Reinit(&nn.Sequential{Layers: []nn.Layer{d}}, rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	var s, s2 float64
	for _, w := range d.W.Value.Data {
		s += float64(w)
		s2 += float64(w) * float64(w)
	}
	n := float64(len(d.W.Value.Data))
	if v := s2/n - (s/n)*(s/n); math.Abs(v-0.01) > 0.0005 {
		t.Errorf("weight variance %v, want 0.01 ± 5%%", v)
	}
}

func TestReinitErrors(t *testing.T) {
	m := twoLayerModel()
	if err := Reinit(m, nil); err == nil || !strings.Contains(err.Error(), "rng is nil") {
		t.Errorf("nil rng: err = %v", err)
	}
	m = &nn.Sequential{Layers: []nn.Layer{dense("fc1", 2, 2, seq(4)), opaque{dense("lr", 2, 2, seq(4))}}}
	err := Reinit(m, rand.New(rand.NewPCG(1, 1)))
	if err == nil || !strings.Contains(err.Error(), `layer "lr"`) || !strings.Contains(err.Error(), "only Dense layers") {
		t.Errorf("opaque layer: err = %v", err)
	}
	if !slices.Equal(m.Layers[0].(*nn.Dense).W.Value.Data, []float32{1, 2, 3, 4}) {
		t.Error("a rejected Reinit changed the model")
	}
}

// paramValues copies every parameter value in order (Snapshot would merge
// parameters that share a name).
func paramValues(m *nn.Sequential) [][]float32 {
	var v [][]float32
	for _, p := range m.Params() {
		v = append(v, slices.Clone(p.Value.Data))
	}
	return v
}
