package prune

import (
	"slices"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

func TestMagnitudePerLayer(t *testing.T) {
	m := threeLayerModel() // fc1, fc2: 1…20; fc3: 1…8
	if err := MagnitudePerLayer(m, map[string]float64{"fc1": 0.5, "fc3": 0.25}); err != nil {
		t.Fatal(err)
	}
	fc1, fc2, fc3 := m.Layers[0].(*nn.Dense), m.Layers[2].(*nn.Dense), m.Layers[4].(*nn.Dense)
	// fc1 loses 1…10, fc3 loses 1 and 2, fc2 is not named.
	if removedCount(fc1.W) != 10 || fc1.W.Value.Data[9] != 0 || fc1.W.Value.Data[10] != 11 {
		t.Errorf("fc1 W = %v, want 1…10 removed", fc1.W.Value.Data)
	}
	if want := []float32{0, 0, 3, 4, 5, 6, 7, 8}; !slices.Equal(fc3.W.Value.Data, want) {
		t.Errorf("fc3 W = %v, want %v", fc3.W.Value.Data, want)
	}
	if fc2.W.Mask != nil {
		t.Errorf("fc2 was not named but got mask %v", fc2.W.Mask)
	}
}

func TestMagnitudePerLayerErrors(t *testing.T) {
	cases := []struct {
		ratios map[string]float64
		want   []string
	}{
		{nil, []string{"no per-layer ratios"}},
		{map[string]float64{"fc1": 0.5, "fc3": 1}, []string{`layer "fc3"`, "prune ratio 1 is out of range"}},
		{map[string]float64{"fc1": 0.5, "fc9": 0.5}, []string{`"fc9"`, "fc1, fc2, fc3"}},
		{map[string]float64{"relu1": 0.5}, []string{`"relu1"`, "not a Dense layer"}},
	}
	for _, c := range cases {
		m := threeLayerModel()
		err := MagnitudePerLayer(m, c.ratios)
		if err == nil {
			t.Errorf("%v: no error", c.ratios)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not mention %q", c.ratios, err, w)
			}
		}
		if m.Layers[0].(*nn.Dense).W.Mask != nil {
			t.Errorf("%v: a rejected call pruned fc1", c.ratios)
		}
	}
}

func TestScopes(t *testing.T) {
	for _, s := range []Scope{ScopeLayer, ScopeGlobal} {
		got, err := ParseScope(s.String())
		if err != nil || got != s {
			t.Errorf("ParseScope(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseScope("row"); err == nil || !strings.Contains(err.Error(), "allowed layer, global") {
		t.Errorf("ParseScope(row): err = %v", err)
	}

	// At 0.5, layer scope halves each layer; global scope empties fc1,
	// whose weights are all below fc2's.
	m := twoLayerModel()
	if err := MagnitudeScope(m, 0.5, ScopeLayer, nil); err != nil {
		t.Fatal(err)
	}
	if Sparsity(m.Layers[0].(*nn.Dense)) != 0.5 || Sparsity(m.Layers[2].(*nn.Dense)) != 0.5 {
		t.Errorf("layer scope: sparsity %v %v, want 0.5 0.5", Sparsity(m.Layers[0].(*nn.Dense)), Sparsity(m.Layers[2].(*nn.Dense)))
	}
	m = twoLayerModel()
	if err := MagnitudeScope(m, 0.5, ScopeGlobal, nil); err != nil {
		t.Fatal(err)
	}
	if Sparsity(m.Layers[0].(*nn.Dense)) != 1 || Sparsity(m.Layers[2].(*nn.Dense)) != 0 {
		t.Errorf("global scope: sparsity %v %v, want 1 0", Sparsity(m.Layers[0].(*nn.Dense)), Sparsity(m.Layers[2].(*nn.Dense)))
	}
	if err := MagnitudeScope(twoLayerModel(), 0.5, Scope(5), nil); err == nil || !strings.Contains(err.Error(), "scope 5 is unknown") {
		t.Errorf("Scope(5): err = %v", err)
	}
}
