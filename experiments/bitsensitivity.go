package experiments

import (
	"fmt"
	"math"
	"slices"

	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/quant"
	"github.com/prunerlab/pruner-tui/experiments/results"
)

// runBitSensitivity quantizes each chosen layer of the baseline alone at
// each of the step's widths, with the step's quantizer, and records the
// test accuracy without fine-tuning. Like a pruning sensitivity step it
// adds no rows: its table goes out in BitSensitivityEvents and DoneEvent,
// and a later quantize step takes its widths from it with bits_from.
func (r *runner) runBitSensitivity(env stepEnv) error {
	st := env.st
	phase := st.Phase()
	r.stage(StageSensitivity, phase)
	layers, err := expandNames(env.baseline, st.Layers)
	if err != nil {
		return fmt.Errorf("%s: %w", phase, err)
	}
	order := weightLayerNames(env.baseline)
	slices.SortStableFunc(layers, func(a, b string) int { return slices.Index(order, a) - slices.Index(order, b) })
	var points []results.Point
	values := make([]float64, len(st.BitWidths))
	for i, b := range st.BitWidths {
		values[i] = float64(b)
	}
	event := func(done bool) SensitivityEvent {
		return SensitivityEvent{Phase: phase, Layers: slices.Clone(layers), Values: values,
			Table: results.Sensitivity{Kind: results.Bits, Points: slices.Clone(points)}, BaseTestAcc: env.base.TestAcc, Done: done}
	}
	for _, layer := range layers {
		i := 0
		_, err := quant.BitSensitivityContext(r.ctx, env.baseline, []string{layer}, st.BitWidths, st.quantOptions(0), func(c *nn.Sequential) float64 {
			_, acc, err := evaluate(r.ctx, c, env.test, 0)
			if err != nil {
				return math.NaN() // cancelled: the analysis stops before the next point
			}
			points = append(points, results.Point{Layer: layer, Value: float64(st.BitWidths[i]), TestAcc: 100 * acc})
			i++
			r.emit(event(false))
			return acc
		})
		if err != nil {
			if r.ctx.Err() != nil {
				return r.ctx.Err()
			}
			return fmt.Errorf("%s: %w", phase, err)
		}
	}
	if err := r.ctx.Err(); err != nil {
		return err
	}
	if r.bitSens == nil {
		r.bitSens = map[int]results.Sensitivity{}
	}
	r.bitSens[env.index] = results.Sensitivity{Kind: results.Bits, Points: points}
	r.report.Add(results.Bits, points...)
	r.emit(event(true))
	return nil
}

// lastBitSensitivity is the table of the last bit-sensitivity step before
// step index.
func (r *runner) lastBitSensitivity(index int) (results.Sensitivity, bool) {
	for i := index - 1; i >= 0; i-- {
		if t, ok := r.bitSens[i]; ok {
			return t, true
		}
	}
	return results.Sensitivity{}, false
}
