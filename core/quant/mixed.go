package quant

import (
	"context"
	"errors"
	"fmt"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// BitSensitivityRow is one point of a layer's bit-width sensitivity curve:
// the accuracy of the model with only Layer quantized at Bits.
type BitSensitivityRow struct {
	Layer    string
	Bits     int
	Accuracy float64
}

// BitSensitivity quantizes each chosen weight layer (nil: every Dense layer
// and factor) alone, at each bit width, with the other choices of o
// (o.Bits is ignored), on a clone of m, and records what eval says of the
// clone — the curves that show which layers tolerate few bits, to choose
// per-layer widths (see PickBits). m is not changed.
// Rows come layer by layer in model order, widths in the order given. eval
// gets a fresh clone each time and may change it.
func BitSensitivity(m *nn.Sequential, layers []string, bitWidths []int, o Options, eval func(*nn.Sequential) float64) ([]BitSensitivityRow, error) {
	return BitSensitivityContext(context.Background(), m, layers, bitWidths, o, eval)
}

// BitSensitivityContext is BitSensitivity that stops between evaluations
// when ctx is done, returning the rows so far and ctx's error.
func BitSensitivityContext(ctx context.Context, m *nn.Sequential, layers []string, bitWidths []int, o Options, eval func(*nn.Sequential) float64) ([]BitSensitivityRow, error) {
	if eval == nil {
		return nil, errors.New("bit-width sensitivity needs an eval function: eval is nil")
	}
	if len(bitWidths) == 0 {
		return nil, errors.New("bit-width sensitivity needs at least one bit width")
	}
	for _, b := range bitWidths {
		o.Bits = b
		if err := o.Check(); err != nil {
			return nil, fmt.Errorf("bit-width sensitivity: %w", err)
		}
	}
	ds, err := nn.SelectWeightLayers(m, layers)
	if err != nil {
		return nil, fmt.Errorf("bit-width sensitivity: %w", err)
	}
	// Find each chosen layer in a clone by its position among the weight
	// layers, not by name, so repeated names still work.
	all := nn.WeightLayers(m)
	var positions []int
	for i, d := range all {
		for _, c := range ds {
			if d == c {
				positions = append(positions, i)
			}
		}
	}
	rows := make([]BitSensitivityRow, 0, len(positions)*len(bitWidths))
	for _, i := range positions {
		for _, b := range bitWidths {
			if err := ctx.Err(); err != nil {
				return rows, err
			}
			c := m.Clone()
			d := nn.WeightLayers(c)[i]
			o.Bits = b
			if _, err := Quantize(d, o); err != nil {
				return rows, err
			}
			rows = append(rows, BitSensitivityRow{Layer: d.LayerName, Bits: b, Accuracy: eval(c)})
		}
	}
	return rows, nil
}

// PickBits chooses each layer's bit width from sensitivity rows: the
// smallest width whose accuracy is at least baseline − maxDrop, or 32
// (float32) when no width tried is good enough: quantize each layer with
// Quantize at its width for mixed precision. Accuracies are in whatever
// unit eval returned.
func PickBits(rows []BitSensitivityRow, baseline, maxDrop float64) map[string]int {
	bits := map[string]int{}
	for _, r := range rows {
		if _, ok := bits[r.Layer]; !ok {
			bits[r.Layer] = Float32Bits
		}
		if r.Accuracy >= baseline-maxDrop && r.Bits < bits[r.Layer] {
			bits[r.Layer] = r.Bits
		}
	}
	return bits
}
