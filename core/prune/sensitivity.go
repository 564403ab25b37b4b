package prune

import (
	"context"
	"errors"
	"fmt"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// SensitivityRow is one point of a layer's sensitivity curve: the accuracy
// of the model with only Layer pruned by magnitude at Ratio.
type SensitivityRow struct {
	Layer    string
	Ratio    float64
	Accuracy float64
}

// Sensitivity prunes each chosen Dense layer (nil: every Dense layer) alone,
// by magnitude, at each ratio, on a clone of m, and records what eval says
// of the clone (Han et al. 2015): the curves show which layers tolerate
// pruning, to pick per-layer ratios (each layer then pruned by Prune at
// its own ratio). m is not changed. Rows come layer by layer in model order, ratios in the order
// given. eval gets a fresh clone each time and may change it.
func Sensitivity(m *nn.Sequential, layers []string, ratios []float64, eval func(*nn.Sequential) float64) ([]SensitivityRow, error) {
	return SensitivityContext(context.Background(), m, layers, ratios, eval)
}

// SensitivityContext is Sensitivity that stops between evaluations when ctx
// is done, returning the rows so far and ctx's error.
func SensitivityContext(ctx context.Context, m *nn.Sequential, layers []string, ratios []float64, eval func(*nn.Sequential) float64) ([]SensitivityRow, error) {
	if eval == nil {
		return nil, errors.New("sensitivity needs an eval function: eval is nil")
	}
	if len(ratios) == 0 {
		return nil, errors.New("sensitivity needs at least one prune ratio")
	}
	for _, r := range ratios {
		if err := checkRatio(r); err != nil {
			return nil, fmt.Errorf("sensitivity: %w", err)
		}
	}
	ds, err := nn.SelectWeightLayers(m, layers)
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	// Find each chosen layer in a clone by its position among the weight
	// layers, not by name, so models with repeated layer names still work.
	var positions []int
	for i, w := range nn.WeightLayers(m) {
		for _, d := range ds {
			if w == d {
				positions = append(positions, i)
			}
		}
	}
	rows := make([]SensitivityRow, 0, len(positions)*len(ratios))
	for _, i := range positions {
		for _, r := range ratios {
			if err := ctx.Err(); err != nil {
				return rows, err
			}
			c := m.Clone()
			d := nn.WeightLayers(c)[i]
			removeSmallest([]*nn.Dense{d}, r)
			rows = append(rows, SensitivityRow{Layer: d.LayerName, Ratio: r, Accuracy: eval(c)})
		}
	}
	return rows, nil
}
