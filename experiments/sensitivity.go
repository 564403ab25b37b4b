package experiments

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/prune"
	"github.com/prunerlab/pruner-tui/core/quant"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

// A sensitivity analysis changes each layer of the baseline alone at each
// value of a sweep — pruned by magnitude at each ratio (Han et al. 2015),
// or quantized at each bit width — and records the test accuracy without
// fine-tuning. It adds no result rows: its table goes out in
// SensitivityEvents (one per point, so a chart can grow as it runs) and in
// the report, and a later step takes per-layer settings from it
// (ratios_from, bits_from).

// NamesClasses reports whether s's dataset names its classes in words
// (Fashion-MNIST: T-shirt/top … Ankle boot), so that a run adds the
// per-class accuracy table; MNIST's digits name themselves.
func NamesClasses(s spec.Spec) bool { return s.Dataset.Name == "fashion-mnist" }

// TableKinds lists the side tables a run of s reports, each kind once:
// the per-class accuracies (when the dataset names its classes), then the
// sensitivity tables in the order its steps make them. What goes beside
// an export.
func TableKinds(s spec.Spec) []results.Kind {
	var kinds []results.Kind
	if NamesClasses(s) {
		kinds = append(kinds, results.PerClass)
	}
	for _, st := range s.Compress {
		var k results.Kind
		switch st.(type) {
		case spec.Sensitivity:
			k = results.Pruning
		case spec.BitSensitivity:
			k = results.Bits
		default:
			continue
		}
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

// sweep scores one layer at every value of an analysis, calling eval on
// the baseline with the layer changed.
type sweep func(ctx context.Context, layer string, eval func(*nn.Sequential) float64) error

// analysePruning runs a pruning sensitivity step.
func (r *runner) analysePruning(i int, st spec.Sensitivity) error {
	layers := st.Layers
	if len(layers) == 0 {
		layers = r.spec.WeightNames()
	}
	return r.analyse(i, spec.Phase(st), results.Pruning, layers, st.Ratios,
		func(ctx context.Context, layer string, eval func(*nn.Sequential) float64) error {
			_, err := prune.SensitivityContext(ctx, r.baseline, []string{layer}, st.Ratios, eval)
			return err
		})
}

// analyseBits runs a bit-width sensitivity step, with the step's quantizer.
func (r *runner) analyseBits(i int, st spec.BitSensitivity) error {
	ds, err := nn.SelectWeightLayers(r.baseline, st.Layers)
	if err != nil {
		return fmt.Errorf("%s: %w", spec.Phase(st), err)
	}
	var layers []string
	values := make([]float64, len(st.BitWidths))
	for _, d := range ds {
		layers = append(layers, d.LayerName)
	}
	for j, b := range st.BitWidths {
		values[j] = float64(b)
	}
	return r.analyse(i, spec.Phase(st), results.Bits, layers, values,
		func(ctx context.Context, layer string, eval func(*nn.Sequential) float64) error {
			_, err := quant.BitSensitivityContext(ctx, r.baseline, []string{layer}, st.BitWidths, quantOptions(st.Quantizer, 0), eval)
			return err
		})
}

// analyse runs the sweep over each layer (in model order), collecting the
// points, and keeps the table for later steps and the report.
func (r *runner) analyse(i int, phase string, kind results.Kind, layers []string, values []float64, run sweep) error {
	r.stage(StageSensitivity, phase)
	order := nn.WeightLayers(r.baseline)
	at := func(name string) int {
		return slices.IndexFunc(order, func(d *nn.Dense) bool { return d.LayerName == name })
	}
	layers = slices.Clone(layers)
	slices.SortStableFunc(layers, func(a, b string) int { return at(a) - at(b) })
	var points []results.Point
	event := func(done bool) SensitivityEvent {
		return SensitivityEvent{Phase: phase, Layers: slices.Clone(layers), Values: slices.Clone(values),
			Table: results.Sensitivity{Kind: kind, Points: slices.Clone(points)}, BaseTestAcc: r.base.TestAcc, Done: done}
	}
	for _, layer := range layers {
		j := 0
		err := run(r.ctx, layer, func(c *nn.Sequential) float64 {
			_, acc, err := evaluate(r.ctx, c, r.test, 0)
			if err != nil {
				return math.NaN() // cancelled: the analysis stops before the next point
			}
			points = append(points, results.Point{Layer: layer, Value: values[j], TestAcc: 100 * acc})
			j++
			r.emit(event(false))
			return acc
		})
		if err := r.ctx.Err(); err != nil {
			return err
		}
		if err != nil {
			return fmt.Errorf("%s: %w", phase, err)
		}
	}
	if r.analyses == nil {
		r.analyses = map[int]results.Sensitivity{}
	}
	r.analyses[i] = results.Sensitivity{Kind: kind, Points: points}
	r.report.Add(kind, points...)
	r.emit(event(true))
	return nil
}

// lastAnalysis is the table of the last analysis of kind before step i,
// nil when there is none.
func (r *runner) lastAnalysis(i int, kind results.Kind) *results.Sensitivity {
	for j := i - 1; j >= 0; j-- {
		if t, ok := r.analyses[j]; ok && t.Kind == kind {
			return &t
		}
	}
	return nil
}

// bitTableFor is the bit-sensitivity table a quantize step at i with
// bits_from reads.
func (r *runner) bitTableFor(i int, st spec.Quantize) *results.Sensitivity {
	if st.BitsFrom == "" {
		return nil
	}
	return r.lastAnalysis(i, results.Bits)
}

// RatiosWithin picks a prune ratio per layer from a pruning sensitivity
// table: the largest ratio tried at which, and at every smaller ratio
// tried, the test accuracy with that layer pruned alone stays at or above
// minTestAcc (percent). A layer that misses it even at its smallest ratio
// gets 0. This is how Han et al. chose per-layer thresholds: the curve's
// knee.
func RatiosWithin(t results.Sensitivity, minTestAcc float64) map[string]float64 {
	out := map[string]float64{}
	for _, name := range t.Layers() {
		points := t.Of(name)
		slices.SortStableFunc(points, func(a, b results.Point) int {
			switch {
			case a.Value < b.Value:
				return -1
			case a.Value > b.Value:
				return 1
			}
			return 0
		})
		out[name] = 0
		for _, p := range points {
			if !(p.TestAcc >= minTestAcc) {
				break
			}
			out[name] = p.Value
		}
	}
	return out
}

// PickBits chooses each layer's bit width from a bit-width sensitivity
// table: the fewest bits at which the test accuracy with that layer
// quantized alone stays at or above baseTestAcc − maxLossPP (percent), or
// 32 (float32) when no width tried does — how mixed precision spends bits
// where they matter.
func PickBits(t results.Sensitivity, baseTestAcc, maxLossPP float64) map[string]int {
	rows := make([]quant.BitSensitivityRow, len(t.Points))
	for i, p := range t.Points {
		rows[i] = quant.BitSensitivityRow{Layer: p.Layer, Bits: int(p.Value), Accuracy: p.TestAcc}
	}
	return quant.PickBits(rows, baseTestAcc, maxLossPP)
}
