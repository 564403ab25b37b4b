package controls

import (
	"math"

	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments"
)

// The knob model: what the three knobs are set to and how a key press
// moves them. Pure data and functions, no Bubble Tea.

// Knob is one of the three compression knobs.
type Knob int

const (
	KnobPruneRatio Knob = iota
	KnobBitWidth
	KnobRank
	knobCount
)

// Steps of the knobs.
const (
	PruneCoarse   = 0.05
	PruneFine     = 0.01
	MaxPruneRatio = 0.99
	FloatBits     = 32 // bit width shown when quantization is off
)

// bitWidths is the bit-width knob from off to most compressed.
var bitWidths = []int{FloatBits, 8, 7, 6, 5, 4, 3, 2, 1}

// RankTarget is the dense layer the rank knob factorizes.
type RankTarget struct {
	Layer   string // "" when the model has no dense layer
	In, Out int
}

// FullRank is the layer's rank unfactorized, 0 without a layer.
func (r RankTarget) FullRank() int { return min(r.In, r.Out) }

// rankTarget picks the dense layer with the most weights: the one where a
// low rank can save the most. The first of equals wins.
func rankTarget(m *nn.Sequential) RankTarget {
	var t RankTarget
	if m == nil {
		return t
	}
	for _, l := range m.Layers {
		if d, ok := l.(*nn.Dense); ok && d.In*d.Out > t.In*t.Out {
			t = RankTarget{Layer: d.LayerName, In: d.In, Out: d.Out}
		}
	}
	return t
}

// Knobs is where the three knobs stand and which one the arrows turn.
type Knobs struct {
	Selected   Knob
	PruneRatio float64    // 0 when off
	Bits       int        // FloatBits when off
	Rank       int        // 0 when off
	Target     RankTarget // the layer Rank factorizes
}

// offKnobs is every knob off, the prune ratio selected.
func offKnobs(target RankTarget) Knobs { return Knobs{Bits: FloatBits, Target: target} }

// Select moves the selection dir knobs down (up when negative), wrapping.
func (k Knobs) Select(dir int) Knobs {
	n := int(knobCount)
	k.Selected = Knob(((int(k.Selected)+dir)%n + n) % n)
	return k
}

// Turn moves the selected knob one step towards more (dir > 0) or less
// compression, a fine step when fine.
func (k Knobs) Turn(dir int, fine bool) Knobs {
	switch k.Selected {
	case KnobPruneRatio:
		k.PruneRatio = nextPrune(k.PruneRatio, dir, fine)
	case KnobBitWidth:
		k.Bits = nextBits(k.Bits, dir)
	case KnobRank:
		k.Rank = nextRank(k.Rank, k.Target.FullRank(), dir, fine)
	}
	return k
}

// Setting is what the knobs ask of the trained baseline.
func (k Knobs) Setting() experiments.Setting {
	s := experiments.Setting{PruneRatio: k.PruneRatio, Rank: k.Rank}
	if k.Bits != FloatBits {
		s.Bits = k.Bits
	}
	if k.Rank > 0 {
		s.RankLayer = k.Target.Layer
	}
	return s
}

// nextPrune moves the prune ratio a coarse or fine step, kept on whole
// hundredths in [0, MaxPruneRatio].
func nextPrune(ratio float64, dir int, fine bool) float64 {
	step := PruneCoarse
	if fine {
		step = PruneFine
	}
	r := math.Round((ratio+float64(dir)*step)*100) / 100
	return math.Min(math.Max(r, 0), MaxPruneRatio)
}

// nextBits moves one rung along bitWidths, stopping at either end. A
// width not on the ladder counts as off.
func nextBits(bits, dir int) int {
	i := 0
	for j, b := range bitWidths {
		if b == bits {
			i = j
		}
	}
	return bitWidths[min(max(i+dir, 0), len(bitWidths)-1)]
}

// RankStep is the coarse step of the rank knob: about 16 steps over the
// full rank.
func RankStep(fullRank int) int { return max(fullRank/16, 1) }

// nextRank moves the rank knob. Its scale runs off → full rank → … → 1:
// more compression means a lower rank. Coarse steps snap to multiples of
// RankStep.
func nextRank(rank, fullRank, dir int, fine bool) int {
	if fullRank <= 0 {
		return 0
	}
	step := 1
	if !fine {
		step = RankStep(fullRank)
	}
	if dir > 0 { // lower rank
		switch {
		case rank == 0:
			return fullRank
		case step == 1:
			return max(rank-1, 1)
		default:
			return max((rank-1)/step*step, 1)
		}
	}
	if rank == 0 {
		return 0
	}
	if step > 1 {
		rank = (rank/step + 1) * step
	} else {
		rank++
	}
	if rank > fullRank {
		return 0
	}
	return rank
}
