package prune

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// Criterion is how unstructured pruning ranks the weights it removes.
type Criterion int

const (
	// Magnitude removes the weights with the smallest |w| (Han et al.
	// 2015); equal magnitudes go lowest index first, layers in the order
	// given.
	Magnitude Criterion = iota
	// Random removes weights chosen uniformly at random: the control every
	// pruning paper reports, since a criterion is only worth something if it
	// beats chance at the same sparsity.
	Random
)

// String is the criterion's name in experiment specs: "magnitude" or
// "random".
func (c Criterion) String() string {
	switch c {
	case Magnitude:
		return "magnitude"
	case Random:
		return "random"
	}
	return fmt.Sprintf("Criterion(%d)", int(c))
}

// ParseCriterion turns "magnitude" or "random" into a Criterion.
func ParseCriterion(name string) (Criterion, error) {
	switch name {
	case "magnitude":
		return Magnitude, nil
	case "random":
		return Random, nil
	}
	return 0, fmt.Errorf("prune criterion %q is unknown: allowed magnitude, random", name)
}

// Scope says how one prune ratio is spread over the chosen layers.
type Scope int

const (
	// ScopeLayer prunes every layer by the same fraction.
	ScopeLayer Scope = iota
	// ScopeGlobal ranks the weights of all the layers together: one
	// magnitude threshold across them, or one random draw from their pool.
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

// Options choose how Prune ranks and spreads the weights it removes. The
// zero value prunes by magnitude, layer by layer.
type Options struct {
	Criterion Criterion
	// Scope is ScopeLayer (the default: each layer loses ratio of its
	// weights) or ScopeGlobal (one ranking across all the layers, so layers
	// with many small weights lose more than others).
	Scope Scope
	// Rand is the random source of the Random criterion (an error if nil);
	// Magnitude does not use it.
	Rand *rand.Rand
}

// Prune removes the fraction ratio (0 ≤ ratio < 1) of the weights of
// layers, ranked by o.Criterion: round(ratio·n) of the n weights of each
// layer (ScopeLayer, the layers in the order given, sharing o.Rand in that
// order), or round(ratio·N) of all their N weights under one ranking
// (ScopeGlobal; at random each layer loses about ratio of its weights, not
// exactly). It sets and applies each layer's W.Mask; biases are never
// pruned. A layer that loses nothing keeps a nil (dense) mask.
//
// Weights already masked out count as removed and stay removed (the extra
// ones come from the survivors), so pruning an already sparser layer to a
// lower ratio changes nothing. The result depends only on the weights, the
// masks, the order of layers and, for Random, o.Rand's state: the same seed
// gives the same masks. Bad options, a bad ratio or a layer listed twice
// are errors, and then no layer is changed; no layers is nothing to do.
func Prune(layers []*nn.Dense, ratio float64, o Options) error {
	if err := checkRatio(ratio); err != nil {
		return err
	}
	switch o.Criterion {
	case Magnitude:
	case Random:
		if o.Rand == nil {
			return errors.New("random pruning needs a random source: Options.Rand is nil")
		}
	default:
		return fmt.Errorf("prune criterion %d is unknown: allowed Magnitude, Random", int(o.Criterion))
	}
	if o.Scope != ScopeLayer && o.Scope != ScopeGlobal {
		return fmt.Errorf("prune scope %d is unknown: allowed ScopeLayer, ScopeGlobal", int(o.Scope))
	}
	seen := make(map[*nn.Dense]bool, len(layers))
	for _, d := range layers {
		if seen[d] {
			return fmt.Errorf("prune: layer %q is listed twice", d.LayerName)
		}
		seen[d] = true
	}
	remove := func(ds []*nn.Dense) {
		if o.Criterion == Random {
			removeRandom(ds, ratio, o.Rand)
		} else {
			removeSmallest(ds, ratio)
		}
	}
	if o.Scope == ScopeGlobal {
		remove(layers)
		return nil
	}
	for _, d := range layers {
		remove([]*nn.Dense{d})
	}
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

// Ranking. Every criterion gives each weight a uint32 key; weights are
// removed already-masked first, then lowest key first, ties by layer then
// index, so every criterion is deterministic. Keys rather than float
// scores let the ranking be found by counting instead of comparing: a
// radix sort for the whole ranking (ToBudget walks it), a radix selection
// of the cut when only the first k matter (removeLowest). For LeNet-300-100's
// 266 200 weights a comparison sort took about 60 ms, which a knob change
// in the TUI waited for; the selection takes about 2 ms.

// keyFunc writes the keys of the weights w of layer ds[layer] (lower is
// removed first).
type keyFunc func(layer int, keys []uint32, w []float32)

// magnitudeKeys keys weights by |w|: the bits of |w| order non-negative
// floats as integers do. They are shifted up by one so that NaN can take 0
// and go first, as it did when weights were sorted by math.Abs under
// cmp.Compare. −0 and +0 get the same key.
func magnitudeKeys(_ int, keys []uint32, w []float32) {
	for i, v := range w {
		keys[i] = magnitudeKey(v)
	}
}

func magnitudeKey(w float32) uint32 {
	b := math.Float32bits(w) & 0x7fffffff
	if b > 0x7f800000 {
		return 0 // NaN
	}
	return b + 1
}

// weightRef names one weight: layer index into the pruned set, then flat
// index into that layer's W.
type weightRef struct {
	layer, index int
	removed      bool // already masked out
}

// weightKeys returns the keys of every weight of ds, layer after layer,
// and where each layer starts among them.
func weightKeys(ds []*nn.Dense, fill keyFunc) (keys []uint32, offsets []int) {
	offsets = make([]int, len(ds)+1)
	for l, d := range ds {
		offsets[l+1] = offsets[l] + len(d.W.Value.Data)
	}
	keys = make([]uint32, offsets[len(ds)])
	for l, d := range ds {
		fill(l, keys[offsets[l]:offsets[l+1]], d.W.Value.Data)
	}
	return keys, offsets
}

func isRemoved(p *nn.Param, i int) bool { return p.Mask != nil && p.Mask[i] == 0 }

// rankWeights lists every weight of ds in removal order: already-removed
// weights first, then by key (lowest first), ties by layer then index.
// Both groups are put in key order by a stable radix sort (two passes of
// 16 bits) of their positions, which keeps ties in position order.
func rankWeights(ds []*nn.Dense, fill keyFunc) []weightRef {
	keys, offsets := weightKeys(ds, fill)
	n := len(keys)
	var removed, live []int32
	for l, d := range ds {
		for i := range d.W.Value.Data {
			pos := int32(offsets[l] + i)
			if isRemoved(d.W, i) {
				removed = append(removed, pos)
			} else {
				live = append(live, pos)
			}
		}
	}
	refs := make([]weightRef, 0, n)
	for g, group := range [][]int32{removed, live} {
		for _, pos := range sortByKey(group, keys) {
			l, _ := slices.BinarySearch(offsets, int(pos)+1) // offsets[l-1] ≤ pos < offsets[l]
			refs = append(refs, weightRef{layer: l - 1, index: int(pos) - offsets[l-1], removed: g == 0})
		}
	}
	return refs
}

// sortByKey sorts positions by keys[pos], stably, in two counting passes
// over 16-bit digits (low, then high).
func sortByKey(pos []int32, keys []uint32) []int32 {
	tmp := make([]int32, len(pos))
	counts := make([]int, 1<<16)
	for shift := 0; shift < 32; shift += 16 {
		clear(counts)
		for _, p := range pos {
			counts[keys[p]>>shift&0xffff]++
		}
		sum := 0
		for d, c := range counts {
			counts[d] = sum
			sum += c
		}
		for _, p := range pos {
			d := keys[p] >> shift & 0xffff
			tmp[counts[d]] = p
			counts[d]++
		}
		pos, tmp = tmp, pos
	}
	return pos
}

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
	removeLowest(ds, ratio, magnitudeKeys)
}

// removeLowest masks out what removeFirst(ds, rankWeights(ds, fill), k)
// would with k = removalCount(ratio): the weights already masked out, then
// the lowest keys among the rest, ties by layer then index, up to
// round(ratio·N) in all. It finds them in O(N) by a radix selection of the
// cut key instead of ranking every weight.
func removeLowest(ds []*nn.Dense, ratio float64, fill keyFunc) {
	keys, offsets := weightKeys(ds, fill)
	removed := 0
	for _, d := range ds {
		for i := range d.W.Value.Data {
			if isRemoved(d.W, i) {
				removed++
			}
		}
	}
	// removalCount: round(ratio·N), or all already removed when more.
	k := max(int(math.Round(ratio*float64(len(keys)))), removed)
	cut, ties := selectCut(ds, keys, offsets, k-removed)
	for l, d := range ds {
		p := d.W
		for i, key := range keys[offsets[l]:offsets[l+1]] {
			if isRemoved(p, i) || key > cut || (key == cut && ties == 0) {
				continue
			}
			if key == cut {
				ties--
			}
			if p.Mask == nil {
				p.Mask = make([]float32, len(p.Value.Data))
				for j := range p.Mask {
					p.Mask[j] = 1
				}
			}
			p.Mask[i] = 0
		}
	}
	for _, d := range ds {
		d.W.ApplyMask()
	}
}

// selectCut finds how to remove the want lowest-keyed weights not yet
// masked out: all with a key below cut, and the first ties of those with
// key cut, in position order. With want 0 it returns cut 0 and ties 0, so
// nothing goes. It counts the keys by their high 16 bits, then, within the
// bucket holding the want-th, by their low 16 bits.
func selectCut(ds []*nn.Dense, keys []uint32, offsets []int, want int) (cut uint32, ties int) {
	if want <= 0 {
		return 0, 0
	}
	counts := make([]int, 1<<16)
	countLive := func(high uint32, byHigh bool) {
		for l, d := range ds {
			for i, key := range keys[offsets[l]:offsets[l+1]] {
				if isRemoved(d.W, i) {
					continue
				}
				if byHigh {
					counts[key>>16]++
				} else if key>>16 == high {
					counts[key&0xffff]++
				}
			}
		}
	}
	countLive(0, true)
	high, below := bucketOf(counts, want)
	clear(counts)
	countLive(high, false)
	low, below2 := bucketOf(counts, want-below)
	return high<<16 | low, want - below - below2
}

// bucketOf returns the bucket holding the want-th smallest (from 1) of the
// counted keys, and how many keys lie in buckets below it.
func bucketOf(counts []int, want int) (bucket uint32, below int) {
	for b, c := range counts {
		if below+c >= want {
			return uint32(b), below
		}
		below += c
	}
	panic("prune: selection asked for more weights than there are")
}
