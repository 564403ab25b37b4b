package prune

import (
	"math/rand/v2"

	"github.com/prunerlab/pruner-tui/core/nn"
)

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
