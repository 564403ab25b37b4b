package prune

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// Magnitude removes the fraction ratio (0 ≤ ratio < 1) of d's weights with
// the smallest |w|: round(ratio·n) of its n weights. It sets d.W.Mask and
// applies it; the bias is never pruned.
//
// Weights already masked out count as removed and stay removed, so pruning
// an already sparser layer to a lower ratio changes nothing. Equal
// magnitudes are removed lowest index first, so the result is deterministic.
func Magnitude(d *nn.Dense, ratio float64) error {
	if err := checkRatio(ratio); err != nil {
		return err
	}
	removeSmallest([]*nn.Dense{d}, ratio)
	return nil
}

// MagnitudeLayers runs Magnitude on each Dense layer of m named in layers
// (nil or empty: every Dense layer), so each loses the same fraction.
func MagnitudeLayers(m *nn.Sequential, ratio float64, layers []string) error {
	if err := checkRatio(ratio); err != nil {
		return err
	}
	ds, err := m.DenseLayers(layers)
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	for _, d := range ds {
		removeSmallest([]*nn.Dense{d}, ratio)
	}
	return nil
}

// Global removes round(ratio·N) of the N weights of the chosen Dense layers
// (nil or empty: every Dense layer) under one magnitude threshold shared by
// all of them, so layers with many small weights lose more than others.
func Global(m *nn.Sequential, ratio float64, layers []string) error {
	if err := checkRatio(ratio); err != nil {
		return err
	}
	ds, err := m.DenseLayers(layers)
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	removeSmallest(ds, ratio)
	return nil
}

// MagnitudePerLayer prunes each Dense layer named in ratios by magnitude at
// its own ratio, as Magnitude does; layers not named are left alone. It is
// how per-layer overrides are applied (e.g. a gentler ratio for the output
// layer, which sensitivity analysis usually shows to be the most fragile).
// Every name and ratio is checked before any layer is touched.
func MagnitudePerLayer(m *nn.Sequential, ratios map[string]float64) error {
	if len(ratios) == 0 {
		return errors.New("prune: no per-layer ratios given: name at least one Dense layer")
	}
	names := slices.Sorted(maps.Keys(ratios))
	for _, name := range names {
		if err := checkRatio(ratios[name]); err != nil {
			return fmt.Errorf("layer %q: %w", name, err)
		}
	}
	ds, err := m.DenseLayers(names)
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	for _, d := range ds {
		removeSmallest([]*nn.Dense{d}, ratios[d.LayerName])
	}
	return nil
}

// Scope says how one prune ratio is spread over the chosen layers.
type Scope int

const (
	// ScopeLayer prunes every layer by the same fraction (MagnitudeLayers).
	ScopeLayer Scope = iota
	// ScopeGlobal uses one magnitude threshold across the layers (Global).
	ScopeGlobal
)

// String is the scope's name in experiment specs: "layer" or "global".
func (s Scope) String() string {
	switch s {
	case ScopeLayer:
		return "layer"
	case ScopeGlobal:
		return "global"
	}
	return fmt.Sprintf("Scope(%d)", int(s))
}

// ParseScope turns "layer" or "global" into a Scope.
func ParseScope(name string) (Scope, error) {
	switch name {
	case "layer":
		return ScopeLayer, nil
	case "global":
		return ScopeGlobal, nil
	}
	return 0, fmt.Errorf("prune scope %q is unknown: allowed layer, global", name)
}

// MagnitudeScope prunes the chosen layers (nil: every Dense layer) to ratio
// by magnitude, layer by layer or globally as scope says.
func MagnitudeScope(m *nn.Sequential, ratio float64, scope Scope, layers []string) error {
	switch scope {
	case ScopeLayer:
		return MagnitudeLayers(m, ratio, layers)
	case ScopeGlobal:
		return Global(m, ratio, layers)
	}
	return fmt.Errorf("prune scope %d is unknown: allowed ScopeLayer, ScopeGlobal", int(scope))
}

// Sparsity is the fraction of d's weights (not biases) that are zero.
func Sparsity(d *nn.Dense) float64 {
	n := len(d.W.Value.Data)
	if n == 0 {
		return 0
	}
	return 1 - float64(d.W.NonZero())/float64(n)
}

func checkRatio(ratio float64) error {
	if !(ratio >= 0 && ratio < 1) { // also rejects NaN
		return fmt.Errorf("prune ratio %g is out of range: allowed 0 ≤ ratio < 1", ratio)
	}
	return nil
}

// weightRef names one weight: layer index into the pruned set, then flat
// index into that layer's W.
type weightRef struct {
	layer, index int
	removed      bool    // already masked out
	score        float64 // lower is removed first
}

// rankWeights lists every weight of ds in removal order: already-removed
// weights first, then by score (lowest first), ties by layer then index, so
// every criterion is deterministic. score is called with each layer's index
// in ds, the flat index and the value.
func rankWeights(ds []*nn.Dense, score func(layer, index int, w float32) float64) []weightRef {
	n := 0
	for _, d := range ds {
		n += len(d.W.Value.Data)
	}
	refs := make([]weightRef, 0, n)
	for l, d := range ds {
		for i, w := range d.W.Value.Data {
			removed := d.W.Mask != nil && d.W.Mask[i] == 0
			refs = append(refs, weightRef{layer: l, index: i, removed: removed, score: score(l, i, w)})
		}
	}
	slices.SortFunc(refs, func(a, b weightRef) int {
		if a.removed != b.removed {
			if a.removed {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.score, b.score), cmp.Compare(a.layer, b.layer), cmp.Compare(a.index, b.index))
	})
	return refs
}

// byMagnitude scores a weight by |w|.
func byMagnitude(_, _ int, w float32) float64 { return math.Abs(float64(w)) }

// removalCount is how many of the ranked refs a prune ratio removes:
// round(ratio·N), or more when more are already removed, since pruning never
// regrows a weight.
func removalCount(refs []weightRef, ratio float64) int {
	remove := int(math.Round(ratio * float64(len(refs))))
	for remove < len(refs) && refs[remove].removed {
		remove++
	}
	return remove
}

// removeFirst masks out the first k ranked weights of ds and zeroes them.
// A layer that loses nothing keeps a nil (dense) mask.
func removeFirst(ds []*nn.Dense, refs []weightRef, k int) {
	for _, r := range refs[:k] {
		p := ds[r.layer].W
		if p.Mask == nil {
			p.Mask = make([]float32, len(p.Value.Data))
			for i := range p.Mask {
				p.Mask[i] = 1
			}
		}
		p.Mask[r.index] = 0
	}
	for _, d := range ds {
		d.W.ApplyMask()
	}
}

// removeSmallest masks out round(ratio·N) of the N weights of ds, taking
// already-removed weights first, then the smallest |w|, ties by position.
func removeSmallest(ds []*nn.Dense, ratio float64) {
	refs := rankWeights(ds, byMagnitude)
	removeFirst(ds, refs, removalCount(refs, ratio))
}
