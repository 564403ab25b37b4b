package prune

import (
	"cmp"
	"fmt"
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
	removed      bool // already masked out
	abs          float32
}

// removeSmallest masks out round(ratio·N) of the N weights of ds, taking
// already-removed weights first, then the smallest |w|, ties by position.
func removeSmallest(ds []*nn.Dense, ratio float64) {
	n := 0
	for _, d := range ds {
		n += len(d.W.Value.Data)
	}
	refs := make([]weightRef, 0, n)
	for l, d := range ds {
		for i, w := range d.W.Value.Data {
			removed := d.W.Mask != nil && d.W.Mask[i] == 0
			refs = append(refs, weightRef{layer: l, index: i, removed: removed, abs: float32(math.Abs(float64(w)))})
		}
	}
	slices.SortFunc(refs, func(a, b weightRef) int {
		if a.removed != b.removed {
			if a.removed {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.abs, b.abs), cmp.Compare(a.layer, b.layer), cmp.Compare(a.index, b.index))
	})
	// Already-removed weights sort first and stay removed even when they
	// outnumber round(ratio·N): pruning never regrows a weight.
	remove := int(math.Round(ratio * float64(len(refs))))
	for remove < len(refs) && refs[remove].removed {
		remove++
	}
	for _, r := range refs[:remove] {
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
