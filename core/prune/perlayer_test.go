package prune

import (
	"slices"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// Per-layer ratios are one Prune call per layer at its own ratio; layers
// not named are left alone.
func TestPerLayerRatios(t *testing.T) {
	m := threeLayerModel() // fc1, fc2: 1…20; fc3: 1…8
	fc1, fc2, fc3 := m.Layers[0].(*nn.Dense), m.Layers[2].(*nn.Dense), m.Layers[4].(*nn.Dense)
	for _, c := range []struct {
		d     *nn.Dense
		ratio float64
	}{{fc1, 0.5}, {fc3, 0.25}} {
		if err := Prune(one(c.d), c.ratio, Options{}); err != nil {
			t.Fatal(err)
		}
	}
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

func TestScopesAndCriteria(t *testing.T) {
	for _, s := range []Scope{ScopeLayer, ScopeGlobal} {
		got, err := ParseScope(s.String())
		if err != nil || got != s {
			t.Errorf("ParseScope(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseScope("row"); err == nil || err.Error() != `prune scope "row" is unknown: allowed layer, global` {
		t.Errorf("ParseScope(row): err = %v", err)
	}
	if s := Scope(5).String(); s != "Scope(5)" {
		t.Errorf("Scope(5).String() = %q", s)
	}
	for c, name := range map[Criterion]string{Magnitude: "magnitude", Random: "random"} {
		if c.String() != name {
			t.Errorf("%d.String() = %q, want %q", int(c), c.String(), name)
		}
		got, err := ParseCriterion(name)
		if err != nil || got != c {
			t.Errorf("ParseCriterion(%q) = %v, %v", name, got, err)
		}
	}
	if _, err := ParseCriterion("gradient"); err == nil || err.Error() != `prune criterion "gradient" is unknown: allowed magnitude, random` {
		t.Errorf("ParseCriterion(gradient): err = %v", err)
	}
	if s := Criterion(7).String(); s != "Criterion(7)" {
		t.Errorf("Criterion(7).String() = %q", s)
	}
	if o := (Options{}); o.Criterion != Magnitude || o.Scope != ScopeLayer {
		t.Errorf("zero Options = %+v, want magnitude, layer by layer", o)
	}

	// At 0.5, layer scope halves each layer; global scope empties fc1,
	// whose weights are all below fc2's.
	m := twoLayerModel()
	fc1, fc2 := fc12(m)
	if err := Prune([]*nn.Dense{fc1, fc2}, 0.5, Options{Scope: ScopeLayer}); err != nil {
		t.Fatal(err)
	}
	if Sparsity(fc1) != 0.5 || Sparsity(fc2) != 0.5 {
		t.Errorf("layer scope: sparsity %v %v, want 0.5 0.5", Sparsity(fc1), Sparsity(fc2))
	}
	m = twoLayerModel()
	fc1, fc2 = fc12(m)
	if err := Prune([]*nn.Dense{fc1, fc2}, 0.5, global); err != nil {
		t.Fatal(err)
	}
	if Sparsity(fc1) != 1 || Sparsity(fc2) != 0 {
		t.Errorf("global scope: sparsity %v %v, want 1 0", Sparsity(fc1), Sparsity(fc2))
	}
	if err := Prune([]*nn.Dense{fc1}, 0.5, Options{Scope: 5}); err == nil || !strings.Contains(err.Error(), "scope 5 is unknown") {
		t.Errorf("Scope(5): err = %v", err)
	}
}
