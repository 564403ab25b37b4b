package prune

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// tiedLayers returns Dense layers of odd shapes whose weights come from a
// handful of values, so most magnitudes tie within and across layers
// (±0, ±w, NaN and ±Inf included), or in some layers mostly from a wide
// range of magnitudes; some layers already have masks with zeros (applied
// or not).
func tiedLayers(rng *rand.Rand) []*nn.Dense {
	values := []float32{0, float32(math.Copysign(0, -1)), 0.5, -0.5, 1, -1, 0.25, -2, 1e-40,
		float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	shapes := [][2]int{{7, 5}, {1, 33}, {16, 3}, {300, 2}}
	ds := make([]*nn.Dense, 1+rng.IntN(len(shapes)))
	for l := range ds {
		sh := shapes[rng.IntN(len(shapes))]
		d := nn.NewDenseNoBias(fmt.Sprintf("fc%d", l), sh[0], sh[1])
		distinct := 2 + rng.IntN(len(values)-1)
		continuous := rng.IntN(3) == 0 // most keys distinct, in all 32 bits
		for i := range d.W.Value.Data {
			d.W.Value.Data[i] = values[rng.IntN(distinct)]
			if continuous && rng.IntN(4) > 0 {
				d.W.Value.Data[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(60)-30)))
			}
		}
		switch rng.IntN(3) {
		case 1: // an applied mask
			d.W.Mask = make([]float32, len(d.W.Value.Data))
			for i := range d.W.Mask {
				if rng.IntN(3) > 0 {
					d.W.Mask[i] = 1
				}
			}
			d.W.ApplyMask()
		case 2: // a mask not applied yet, with no zeros sometimes
			d.W.Mask = make([]float32, len(d.W.Value.Data))
			for i := range d.W.Mask {
				if rng.IntN(5) > 0 || rng.IntN(2) == 0 {
					d.W.Mask[i] = 1
				}
			}
		}
		ds[l] = d
	}
	return ds
}

func cloneLayers(ds []*nn.Dense) []*nn.Dense {
	c := make([]*nn.Dense, len(ds))
	for i, d := range ds {
		c[i] = d.Clone().(*nn.Dense)
	}
	return c
}

// rankBySorting is the comparison sort the radix ranking replaced, kept
// as the reference: every weight with a float64 score, sorted
// already-removed first, then by score under cmp.Compare (NaN lowest),
// ties by layer then index.
func rankBySorting(ds []*nn.Dense, score func(layer, index int, w float32) float64) []weightRef {
	type scored struct {
		weightRef
		score float64
	}
	var all []scored
	for l, d := range ds {
		for i, w := range d.W.Value.Data {
			removed := d.W.Mask != nil && d.W.Mask[i] == 0
			all = append(all, scored{weightRef{layer: l, index: i, removed: removed}, score(l, i, w)})
		}
	}
	slices.SortFunc(all, func(a, b scored) int {
		if a.removed != b.removed {
			if a.removed {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.score, b.score), cmp.Compare(a.layer, b.layer), cmp.Compare(a.index, b.index))
	})
	refs := make([]weightRef, len(all))
	for i, a := range all {
		refs[i] = a.weightRef
	}
	return refs
}

// byMagnitude scores a weight by |w|, as pruning by magnitude did.
func byMagnitude(_, _ int, w float32) float64 { return math.Abs(float64(w)) }

// removeBySorting is the sort-based selection removeLowest replaced: rank
// every weight, then remove the first removalCount.
func removeBySorting(ds []*nn.Dense, ratio float64, score func(layer, index int, w float32) float64) {
	refs := rankBySorting(ds, score)
	removeFirst(ds, refs, removalCount(refs, ratio))
}

// sameLayers reports the first difference between two sets of layers in
// mask (nil or not, and every entry) or weight bits.
func sameLayers(got, want []*nn.Dense) error {
	for l := range want {
		g, w := got[l].W, want[l].W
		if (g.Mask == nil) != (w.Mask == nil) {
			return fmt.Errorf("layer %d: mask nil=%v, sorting gives nil=%v", l, g.Mask == nil, w.Mask == nil)
		}
		for i := range w.Value.Data {
			if g.Mask != nil && math.Float32bits(g.Mask[i]) != math.Float32bits(w.Mask[i]) {
				return fmt.Errorf("layer %d [%d]: mask %v, sorting gives %v", l, i, g.Mask[i], w.Mask[i])
			}
			if math.Float32bits(g.Value.Data[i]) != math.Float32bits(w.Value.Data[i]) {
				return fmt.Errorf("layer %d [%d]: weight %v, sorting gives %v", l, i, g.Value.Data[i], w.Value.Data[i])
			}
		}
	}
	return nil
}

// TestSelectionMatchesSorting compares the radix selection and the radix
// ranking with the comparison sort they replaced on random layers full of
// ties, for magnitude and random keys, at ratios from 0 to 0.99 (some
// below the fraction already masked): the rankings, masks and weights must
// be identical.
func TestSelectionMatchesSorting(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	ratios := []float64{0, 0.01, 0.1, 0.25, 1.0 / 3, 0.5, 0.6, 0.75, 0.9, 0.95, 0.99}
	for trial := 0; trial < 300; trial++ {
		ds := tiedLayers(rng)
		ratio := ratios[rng.IntN(len(ratios))]

		got, want := cloneLayers(ds), cloneLayers(ds)
		removeSmallest(got, ratio)
		removeBySorting(want, ratio, byMagnitude)
		if err := sameLayers(got, want); err != nil {
			t.Fatalf("trial %d, magnitude, ratio %v: %v", trial, ratio, err)
		}

		// The whole ranking, as ToBudget walks it.
		if got, want := rankWeights(ds, magnitudeKeys), rankBySorting(ds, byMagnitude); !slices.Equal(got, want) {
			t.Fatalf("trial %d: the radix ranking differs from sorting", trial)
		}

		// Random: the same permutation as keys and as scores.
		n := 0
		offsets := make([]int, len(ds))
		for l, d := range ds {
			offsets[l] = n
			n += len(d.W.Value.Data)
		}
		seed := rng.Uint64()
		got, want = cloneLayers(ds), cloneLayers(ds)
		removeRandom(got, ratio, rand.New(rand.NewPCG(seed, 1)))
		perm := rand.New(rand.NewPCG(seed, 1)).Perm(n)
		removeBySorting(want, ratio, func(l, i int, _ float32) float64 { return float64(perm[offsets[l]+i]) })
		if err := sameLayers(got, want); err != nil {
			t.Fatalf("trial %d, random, ratio %v: %v", trial, ratio, err)
		}
	}
}

// TestMagnitudeKeyOrdersAsScores: for pairs of special and ordinary
// values, comparing magnitudeKey gives what cmp.Compare gives on
// byMagnitude's float64 scores (NaN lowest, −0 = +0).
func TestMagnitudeKeyOrdersAsScores(t *testing.T) {
	values := []float32{0, float32(math.Copysign(0, -1)), 1e-45, -1e-45, 1e-38, 0.5, -0.5, 1, 3e38,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), math.Float32frombits(0xffc00001)}
	cmpScore := func(a, b float64) int {
		switch {
		case a != a && b != b:
			return 0
		case a != a:
			return -1
		case b != b:
			return 1
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	}
	for _, a := range values {
		for _, b := range values {
			ka, kb := magnitudeKey(a), magnitudeKey(b)
			got := 0
			if ka < kb {
				got = -1
			} else if ka > kb {
				got = 1
			}
			if want := cmpScore(byMagnitude(0, 0, a), byMagnitude(0, 0, b)); got != want {
				t.Errorf("keys of %v and %v compare %d, scores %d", a, b, got, want)
			}
		}
	}
}
