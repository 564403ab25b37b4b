package nn

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// factoredLayer stands in for a lowrank.Layer (which nn cannot import):
// two Dense factors run one after the other.
type factoredLayer struct {
	name string
	a, b *Dense
}

func (f *factoredLayer) Name() string      { return f.name }
func (f *factoredLayer) Factors() []*Dense { return []*Dense{f.a, f.b} }
func (f *factoredLayer) Forward(x Matrix, train bool) Matrix {
	return f.b.Forward(f.a.Forward(x, train), train)
}
func (f *factoredLayer) Backward(dy Matrix) Matrix { return f.a.Backward(f.b.Backward(dy)) }
func (f *factoredLayer) Params() []*Param          { return append(f.a.Params(), f.b.Params()...) }
func (f *factoredLayer) Clone() Layer {
	return &factoredLayer{name: f.name, a: f.a.Clone().(*Dense), b: f.b.Clone().(*Dense)}
}
func (f *factoredLayer) Stats() LayerStats { return LayerStats{Name: f.name, Kind: "lowrank"} }

var _ Factored = (*factoredLayer)(nil)

// weightModel is fc1 (factorized: fc1.A, fc1.B), relu1, fc2, relu2, fc3.
func weightModel() *Sequential {
	rng := rand.New(rand.NewPCG(1, 1))
	return &Sequential{Layers: []Layer{
		&factoredLayer{name: "fc1", a: NewDenseNoBias("fc1.A", 4, 2), b: NewDense("fc1.B", 2, 3, rng)},
		NewReLU("relu1"),
		NewDense("fc2", 3, 3, rng),
		NewReLU("relu2"),
		NewDense("fc3", 3, 2, rng),
	}}
}

func layerNames(ds []*Dense) []string {
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = d.LayerName
	}
	return names
}

func TestWeightLayers(t *testing.T) {
	m := weightModel()
	ds := WeightLayers(m)
	if got, want := layerNames(ds), []string{"fc1.A", "fc1.B", "fc2", "fc3"}; !slices.Equal(got, want) {
		t.Fatalf("WeightLayers = %v, want %v", got, want)
	}
	f := m.Layers[0].(*factoredLayer)
	if ds[0] != f.a || ds[1] != f.b || ds[2] != m.Layers[2] || ds[3] != m.Layers[4] {
		t.Error("WeightLayers returned copies, want the model's own layers")
	}
	if ds := WeightLayers(&Sequential{Layers: []Layer{NewReLU("relu")}}); len(ds) != 0 {
		t.Errorf("a model without weight layers: WeightLayers = %v, want none", layerNames(ds))
	}
}

func TestSelectWeightLayers(t *testing.T) {
	cases := []struct {
		names []string
		want  []string
	}{
		{nil, []string{"fc1.A", "fc1.B", "fc2", "fc3"}},
		{[]string{}, []string{"fc1.A", "fc1.B", "fc2", "fc3"}},
		{[]string{"fc3", "fc2"}, []string{"fc2", "fc3"}}, // model order, not the order given
		{[]string{"fc1"}, []string{"fc1.A", "fc1.B"}},    // a factorized layer: both factors
		{[]string{"fc1.B"}, []string{"fc1.B"}},
		{[]string{"fc3", "fc1.A"}, []string{"fc1.A", "fc3"}},
	}
	for _, c := range cases {
		ds, err := SelectWeightLayers(weightModel(), c.names)
		if err != nil {
			t.Errorf("%q: %v", c.names, err)
			continue
		}
		if got := layerNames(ds); !slices.Equal(got, c.want) {
			t.Errorf("%q: selected %v, want %v", c.names, got, c.want)
		}
	}
}

func TestSelectWeightLayersErrors(t *testing.T) {
	cases := []struct {
		names []string
		want  string // the whole message
	}{
		{[]string{"fc9"}, `layer "fc9" is not a weight layer of the model; weight layers are fc1.A, fc1.B, fc2, fc3`},
		{[]string{"relu1"}, `layer "relu1" is not a weight layer of the model; weight layers are fc1.A, fc1.B, fc2, fc3`},
		{[]string{"fc2", "fc2"}, `layer "fc2" is listed twice`},
		{[]string{"fc1", "fc1.B"}, `layer "fc1.B" is listed twice`},
		{[]string{"fc1.A", "fc1"}, `layer "fc1.A" is listed twice`},
	}
	for _, c := range cases {
		ds, err := SelectWeightLayers(weightModel(), c.names)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: err = %v, want %q", c.names, err, c.want)
		}
		if ds != nil {
			t.Errorf("%q: returned layers %v with the error", c.names, layerNames(ds))
		}
	}
	_, err := SelectWeightLayers(&Sequential{Layers: []Layer{NewReLU("relu")}}, nil)
	if err == nil || !strings.Contains(err.Error(), "no weight layers") {
		t.Errorf("a model without weight layers: err = %v", err)
	}
}

// DenseLayers is SelectWeightLayers for Dense layers only (a factorized
// layer is not one): pruning's sensitivity, budget and structured passes
// choose their layers with it.
func TestDenseLayers(t *testing.T) {
	m := weightModel()
	ds, err := m.DenseLayers(nil)
	if err != nil || !slices.Equal(layerNames(ds), []string{"fc2", "fc3"}) {
		t.Errorf("DenseLayers(nil) = %v, %v; want fc2, fc3", layerNames(ds), err)
	}
	ds, err = m.DenseLayers([]string{"fc3", "fc2"})
	if err != nil || !slices.Equal(layerNames(ds), []string{"fc2", "fc3"}) {
		t.Errorf("DenseLayers(fc3, fc2) = %v, %v; want fc2, fc3 in model order", layerNames(ds), err)
	}
	cases := []struct {
		names []string
		want  string // the whole message
	}{
		{[]string{"fc9"}, `layer "fc9" is not a Dense layer of the model; Dense layers are fc2, fc3`},
		{[]string{"relu1"}, `layer "relu1" is not a Dense layer of the model; Dense layers are fc2, fc3`},
		{[]string{"fc1"}, `layer "fc1" is not a Dense layer of the model; Dense layers are fc2, fc3`},
		{[]string{"fc3", "fc3"}, `layer "fc3" is listed twice`},
	}
	for _, c := range cases {
		ds, err := m.DenseLayers(c.names)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: err = %v, want %q", c.names, err, c.want)
		}
		if ds != nil {
			t.Errorf("%q: returned layers %v with the error", c.names, layerNames(ds))
		}
	}
	noDense := &Sequential{Layers: []Layer{NewReLU("relu")}}
	if _, err := noDense.DenseLayers(nil); err == nil || err.Error() != "the model has no Dense layers" {
		t.Errorf("a model without Dense layers: err = %v", err)
	}
}
