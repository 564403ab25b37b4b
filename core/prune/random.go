package prune

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// Random removes round(ratio·n) of d's n weights chosen uniformly at random:
// the control every pruning paper reports, since a criterion is only worth
// something if it beats chance at the same sparsity. Like Magnitude it sets
// and applies d.W.Mask, never prunes the bias, and counts weights already
// masked out as removed (the extra ones are drawn from the survivors).
//
// The choice depends only on rng's state and the layer's shape and mask:
// the same seed gives the same mask.
func Random(d *nn.Dense, ratio float64, rng *rand.Rand) error {
	if err := checkRandom(ratio, rng); err != nil {
		return err
	}
	removeRandom([]*nn.Dense{d}, ratio, rng)
	return nil
}

// RandomLayers runs Random on each Dense layer of m named in layers (nil or
// empty: every Dense layer), in model order, so each loses the same
// fraction: the control for MagnitudeLayers.
func RandomLayers(m *nn.Sequential, ratio float64, layers []string, rng *rand.Rand) error {
	if err := checkRandom(ratio, rng); err != nil {
		return err
	}
	ds, err := m.DenseLayers(layers)
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	for _, d := range ds {
		removeRandom([]*nn.Dense{d}, ratio, rng)
	}
	return nil
}

// RandomGlobal removes round(ratio·N) of the N weights of the chosen Dense
// layers (nil or empty: every Dense layer) drawn uniformly from all of them
// together, so each layer loses about ratio of its weights, not exactly: the
// control for Global.
func RandomGlobal(m *nn.Sequential, ratio float64, layers []string, rng *rand.Rand) error {
	if err := checkRandom(ratio, rng); err != nil {
		return err
	}
	ds, err := m.DenseLayers(layers)
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	removeRandom(ds, ratio, rng)
	return nil
}

func checkRandom(ratio float64, rng *rand.Rand) error {
	if err := checkRatio(ratio); err != nil {
		return err
	}
	if rng == nil {
		return errors.New("random pruning needs a random source: rng is nil")
	}
	return nil
}

// removeRandom ranks the weights of ds by a random permutation of their
// positions, then removes the lowest round(ratio·N), already-removed first.
func removeRandom(ds []*nn.Dense, ratio float64, rng *rand.Rand) {
	offsets := make([]int, len(ds))
	n := 0
	for l, d := range ds {
		offsets[l] = n
		n += len(d.W.Value.Data)
	}
	perm := rng.Perm(n)
	removeLowest(ds, ratio, func(l int, keys []uint32, _ []float32) {
		for i := range keys {
			keys[i] = uint32(perm[offsets[l]+i])
		}
	})
}
