package controls

import (
	"math"
	"slices"

	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments"
)

// The knob model: what the knobs are set to and how a key press moves
// them. Pure data and functions, no Bubble Tea.

// Knob is one line of the knobs pane: the three compression knobs, and
// under two of them what they act on (the prune scope, the rank's layer).
type Knob int

const (
	KnobPruneRatio Knob = iota
	KnobPruneScope      // layer or global: under the prune ratio
	KnobBitWidth
	KnobRank
	KnobRankLayer // the dense layer the rank knob factorizes: under the rank
	knobCount
)

// Sub reports whether k sets what another knob acts on (drawn indented
// under it) rather than how hard it compresses.
func (k Knob) Sub() bool { return k == KnobPruneScope || k == KnobRankLayer }

// Of is the compression knob k belongs to: itself, or the knob it sits
// under.
func (k Knob) Of() Knob {
	switch k {
	case KnobPruneScope:
		return KnobPruneRatio
	case KnobRankLayer:
		return KnobRank
	}
	return k
}

// Steps of the knobs.
const (
	PruneCoarse   = 0.05
	PruneFine     = 0.01
	MaxPruneRatio = 0.99
	FloatBits     = 32 // bit width shown when quantization is off
)

// bitWidths is the bit-width knob from off to most compressed.
var bitWidths = []int{FloatBits, 8, 7, 6, 5, 4, 3, 2, 1}

// RankTarget is a layer the rank knob can factorize: a dense layer, or a
// convolution's filter matrix.
type RankTarget struct {
	Layer   string // "" when the model has no dense layer
	In, Out int
}

// FullRank is the layer's rank unfactorized, 0 without a layer.
func (r RankTarget) FullRank() int { return min(r.In, r.Out) }

// MaxRank is the largest rank whose two factors take fewer bytes than the
// layer: the rank knob's first step, since a higher one saves nothing.
func (r RankTarget) MaxRank() int { return lowrank.MaxSavingRank(r.In, r.Out) }

// rankTargets lists the dense layers and convolutions of m in model order, and the one the
// rank knob starts on: the layer with the most weights, where a low rank
// can save the most (the first of equals).
func rankTargets(m *nn.Sequential) (targets []RankTarget, start int) {
	if m == nil {
		return nil, 0
	}
	for _, l := range m.Layers {
		var t RankTarget
		switch l := l.(type) {
		case *nn.Dense:
			t = RankTarget{Layer: l.LayerName, In: l.In, Out: l.Out}
		case *nn.Conv2D:
			// Its filters as a matrix: in·k·k rows, a column per filter.
			t = RankTarget{Layer: l.LayerName, In: l.Kernel.In, Out: l.Kernel.Out}
		default:
			continue
		}
		targets = append(targets, t)
		if s := targets[start]; t.In*t.Out > s.In*s.Out {
			start = len(targets) - 1
		}
	}
	return targets, start
}

// Knobs is where the knobs stand and which one the arrows turn.
type Knobs struct {
	Selected   Knob
	PruneRatio float64  // 0 when off
	Scope      string   // the prune scope: "layer", "global", "filters" or "neurons"
	Scopes     []string // the scopes the model allows, in the knob's order
	Bits       int      // FloatBits when off
	Rank       int      // 0 when off
	Targets    []RankTarget
	Target     int // index into Targets: the layer Rank factorizes
}

// offKnobs is every knob off, the prune ratio selected, the rank knob on
// the layer start of targets.
func offKnobs(targets []RankTarget, start int) Knobs {
	return Knobs{Bits: FloatBits, Targets: targets, Target: start, Scope: "layer", Scopes: []string{"layer", "global"}}
}

// pruneScopes are the prune scopes m allows: a cut per layer, one for all,
// and whole filters when it has convolutions, whole neurons when it has a
// hidden dense layer.
func pruneScopes(m *nn.Sequential) []string {
	scopes := []string{"layer", "global"}
	if m == nil {
		return scopes
	}
	ws := nn.WeightLayers(m)
	conv, hidden := false, false
	for _, l := range m.Layers {
		switch l := l.(type) {
		case *nn.Conv2D:
			conv = true
		case *nn.Dense:
			hidden = hidden || l != ws[len(ws)-1]
		}
	}
	if conv {
		scopes = append(scopes, "filters")
	}
	if hidden {
		scopes = append(scopes, "neurons")
	}
	return scopes
}

// RankTarget is the layer the rank knob acts on (zero without one).
func (k Knobs) RankTarget() RankTarget {
	if k.Target < 0 || k.Target >= len(k.Targets) {
		return RankTarget{}
	}
	return k.Targets[k.Target]
}

// Select moves the selection dir lines down (up when negative), wrapping.
func (k Knobs) Select(dir int) Knobs {
	n := int(knobCount)
	k.Selected = Knob(((int(k.Selected)+dir)%n + n) % n)
	return k
}

// Turn moves the selected knob one step towards more (dir > 0) or less
// compression, a fine step when fine. The scope steps through the
// model's scopes (layer, global, filters, neurons); the layer line steps through the dense
// layers in model order, keeping the rank where the new layer allows it.
func (k Knobs) Turn(dir int, fine bool) Knobs {
	switch k.Selected {
	case KnobPruneRatio:
		k.PruneRatio = nextPrune(k.PruneRatio, dir, fine)
	case KnobPruneScope:
		i := max(slices.Index(k.Scopes, k.Scope), 0) + sign(dir)
		k.Scope = k.Scopes[min(max(i, 0), len(k.Scopes)-1)]
	case KnobBitWidth:
		k.Bits = nextBits(k.Bits, dir)
	case KnobRank:
		k.Rank = nextRank(k.Rank, k.RankTarget().MaxRank(), dir, fine)
	case KnobRankLayer:
		k.Target = min(max(k.Target+sign(dir), 0), max(len(k.Targets)-1, 0))
		if k.Rank > 0 {
			k.Rank = min(k.Rank, k.RankTarget().MaxRank())
		}
	}
	return k
}

func sign(x int) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// Setting is what the knobs ask of the trained baseline.
func (k Knobs) Setting() experiments.Setting {
	s := experiments.Setting{PruneRatio: k.PruneRatio, Rank: k.Rank}
	if k.Scope != "layer" && k.PruneRatio > 0 {
		s.PruneScope = k.Scope
	}
	if k.Bits != FloatBits {
		s.Bits = k.Bits
	}
	if k.Rank > 0 {
		s.RankLayer = k.RankTarget().Layer
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
// ranks that save bytes.
func RankStep(maxRank int) int { return max(maxRank/16, 1) }

// nextRank moves the rank knob. Its scale runs off → maxRank (the largest
// rank that saves bytes) → … → 1: more compression means a lower rank.
// Coarse steps snap to multiples of RankStep; up from maxRank is off.
func nextRank(rank, maxRank, dir int, fine bool) int {
	if maxRank <= 0 {
		return 0
	}
	step := 1
	if !fine {
		step = RankStep(maxRank)
	}
	if dir > 0 { // lower rank
		switch {
		case rank == 0 || rank > maxRank:
			return maxRank
		case step == 1:
			return max(rank-1, 1)
		default:
			return max((rank-1)/step*step, 1)
		}
	}
	if rank == 0 || rank >= maxRank {
		return 0
	}
	if step > 1 {
		return min((rank/step+1)*step, maxRank)
	}
	return rank + 1
}
