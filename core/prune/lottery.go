package prune

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// Weights is a copy of a model's parameter values keyed by Param name
// ("fc1.W", "fc1.b"), for the lottery-ticket experiments (Frankle & Carbin
// 2019): take a Snapshot at initialization (or, for late rewinding, after a
// few hundred steps), train, prune, Rewind the survivors to their snapshot
// values and train again.
type Weights map[string]nn.Matrix

// Snapshot deep-copies the value of every Param of m. Masks are not part of
// it: Rewind keeps whatever masks the model has by then.
func Snapshot(m *nn.Sequential) Weights {
	w := Weights{}
	for _, p := range m.Params() {
		w[p.Name] = p.Value.Clone()
	}
	return w
}

// Rewind sets every Param of m to its value in w and re-applies its mask,
// so surviving weights restart from their snapshot values and pruned ones
// stay zero. The model must have the same parameters, by name and shape, as
// when w was taken; if not, nothing is changed and the error names the
// first that differs. Start fine-tuning with a new optimizer: momentum and
// Adam moments belong to the run being rewound.
func Rewind(m *nn.Sequential, w Weights) error {
	params := m.Params()
	seen := map[string]bool{}
	for _, p := range params {
		if seen[p.Name] {
			return fmt.Errorf("rewind: the model has two parameters named %q, so a snapshot cannot tell them apart", p.Name)
		}
		seen[p.Name] = true
		v, ok := w[p.Name]
		if !ok {
			return fmt.Errorf("rewind: parameter %q is not in the snapshot: the model changed since it was taken", p.Name)
		}
		if v.Rows != p.Value.Rows || v.Cols != p.Value.Cols || len(v.Data) != len(p.Value.Data) {
			return fmt.Errorf("rewind: parameter %q is %d×%d in the model but %d×%d in the snapshot (was the model shrunk or factorized since?)",
				p.Name, p.Value.Rows, p.Value.Cols, v.Rows, v.Cols)
		}
	}
	if len(w) != len(params) {
		for _, name := range slices.Sorted(maps.Keys(w)) {
			if !seen[name] {
				return fmt.Errorf("rewind: snapshot parameter %q is not in the model: the model changed since it was taken", name)
			}
		}
	}
	for _, p := range params {
		copy(p.Value.Data, w[p.Name].Data)
		p.ApplyMask()
	}
	return nil
}

// Reinit draws every Dense layer's weights afresh, He-normal with std
// √(2/In) as nn.NewDense does, sets trained biases to zero, and re-applies
// the masks: the lottery-ticket control, which keeps the pruned structure
// but not the winning initial values. Layers are drawn in model order,
// weights row by row, so a given rng state always gives the same model.
// A model with parameters outside Dense layers (e.g. a factorized layer)
// is an error, since Reinit does not know how to initialize them; nothing
// is changed then.
func Reinit(m *nn.Sequential, rng *rand.Rand) error {
	if rng == nil {
		return errors.New("reinit needs a random source: rng is nil")
	}
	var ds []*nn.Dense
	for _, l := range m.Layers {
		if d, ok := l.(*nn.Dense); ok {
			ds = append(ds, d)
			continue
		}
		if len(l.Params()) > 0 {
			return fmt.Errorf("reinit: layer %q (%T) has parameters but is not a Dense layer; only Dense layers can be re-initialized", l.Name(), l)
		}
	}
	for _, d := range ds {
		std := math.Sqrt(2 / float64(d.In))
		for i := range d.W.Value.Data {
			d.W.Value.Data[i] = float32(rng.NormFloat64() * std)
		}
		d.W.ApplyMask()
		clear(d.B.Value.Data)
	}
	return nil
}
