package prune

import (
	"errors"
	"fmt"
	"math"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// MaxBudgetRatio is the highest prune ratio ToBudget will use.
const MaxBudgetRatio = 0.99

// Budget is a size target for ToBudget. Set exactly one field.
type Budget struct {
	// MaxNonZero caps the non-zero weights (not biases) of the chosen layers.
	MaxNonZero int
	// MaxBytes caps the whole model's stored size, m.Totals().SizeBytes.
	MaxBytes int64
}

func (b Budget) check() error {
	switch {
	case b.MaxNonZero < 0:
		return fmt.Errorf("budget MaxNonZero %d is negative: allowed 1 or more weights", b.MaxNonZero)
	case b.MaxBytes < 0:
		return fmt.Errorf("budget MaxBytes %d is negative: allowed 1 or more bytes", b.MaxBytes)
	case b.MaxNonZero > 0 && b.MaxBytes > 0:
		return errors.New("budget sets both MaxNonZero and MaxBytes: set exactly one")
	case b.MaxNonZero == 0 && b.MaxBytes == 0:
		return errors.New("budget sets neither MaxNonZero nor MaxBytes: set exactly one")
	}
	return nil
}

// ToBudget prunes the chosen weight layers (nil: every one; see
// nn.SelectWeightLayers) globally
// by magnitude, as Prune with ScopeGlobal does, just far enough to meet the budget, and
// returns the ratio it used: k/N when it removed k of the N chosen weights
// (weights masked before the call count among the k), at most
// MaxBudgetRatio. A model that already meets the budget gets no new zeros.
//
// It ranks the weights once, as Prune would, and walks down the ranking
// counting what each removal saves, so the answer is exact: one fewer
// weight removed would miss the budget. Stored bytes are not monotone in
// the ratio everywhere (a dense 1-bit layer needs a zero level once it has
// a zero), which the walk handles.
//
// When even MaxBudgetRatio cannot meet the budget it returns an error
// saying the least that can be reached, and leaves m untouched.
func ToBudget(m *nn.Sequential, b Budget, layers []string) (ratio float64, err error) {
	if err := b.check(); err != nil {
		return 0, err
	}
	ds, err := nn.SelectWeightLayers(m, layers)
	if err != nil {
		return 0, fmt.Errorf("prune: %w", err)
	}
	refs := rankWeights(ds, magnitudeKeys)
	n := len(refs)
	if n == 0 {
		return 0, errors.New("prune: the chosen layers have no weights")
	}

	// Walk k (weights removed) from those already masked up to the most
	// MaxBudgetRatio removes, tracking the non-zeros per layer and the
	// model's stored bytes, in which only the chosen layers' weight terms
	// change: bytes(k) = other + Σ_l WeightBytes(In_l, Out_l, nnz_l(k), bits_l).
	nnz := make([]int, len(ds))
	bits := make([]int, len(ds))
	bytes := m.Totals().SizeBytes
	total := 0
	for l, d := range ds {
		nnz[l] = d.W.NonZero()
		bits[l] = d.Stats().Bits
		total += nnz[l]
	}
	weightBytes := func(l int) int64 { return nn.WeightBytes(ds[l].In, ds[l].Out, nnz[l], bits[l]) }
	meets := func() bool {
		if b.MaxNonZero > 0 {
			return total <= b.MaxNonZero
		}
		return bytes <= b.MaxBytes
	}

	remove := func(r weightRef) {
		if ds[r.layer].W.Value.Data[r.index] != 0 {
			before := weightBytes(r.layer)
			nnz[r.layer]--
			total--
			bytes += weightBytes(r.layer) - before
		}
	}
	// Weights masked before the call stay removed; their values are zero
	// already unless the mask was set without being applied.
	k := removalCount(refs, 0)
	for _, r := range refs[:k] {
		remove(r)
	}
	kMax := max(k, removalCount(refs, MaxBudgetRatio))
	least, leastK := int64(math.MaxInt64), k
	for !meets() {
		if bytes < least {
			least, leastK = bytes, k
		}
		if k == kMax {
			return 0, budgetError(b, total, least, min(float64(leastK)/float64(n), MaxBudgetRatio))
		}
		remove(refs[k])
		k++
	}

	removeFirst(ds, refs, k)
	ratio = min(float64(k)/float64(n), MaxBudgetRatio)
	// The walk mirrors Dense.Stats; if the two ever disagree, say so rather
	// than claim a budget that is not met.
	if got := m.Totals().SizeBytes; got != bytes {
		return ratio, fmt.Errorf("prune: internal error: ToBudget expected %d stored bytes after pruning, the model reports %d", bytes, got)
	}
	return ratio, nil
}

func budgetError(b Budget, fewest int, least int64, at float64) error {
	if b.MaxNonZero > 0 {
		return fmt.Errorf("budget of %d non-zero weights cannot be met: prune ratio %.2f (the highest allowed) leaves %d, the fewest reachable",
			b.MaxNonZero, MaxBudgetRatio, fewest)
	}
	return fmt.Errorf("budget of %d bytes cannot be met: the smallest stored size reachable with prune ratios up to %.2f is %d bytes (at ratio %.4f)",
		b.MaxBytes, MaxBudgetRatio, least, at)
}
