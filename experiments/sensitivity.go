package experiments

import (
	"slices"

	"github.com/prunerlab/pruner-tui/core/quant"
	"github.com/prunerlab/pruner-tui/experiments/results"
)

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
