package experiments

import (
	"slices"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// Filters are the first convolution's filters as the prune knob's chart
// draws them, a small image each: their weights before the prune stage
// and after it, so a user sees which weights, or which whole filters, it
// removed.
type Filters struct {
	Layer string
	K, C  int // the K×K window, over C input channels
	// Before holds each filter's K·K·C weights before pruning, the window
	// row by row, each pixel's channels in order: (ky·K + kx)·C + c.
	Before [][]float32
	// After holds the same weights after pruning; nil for a filter
	// removed whole.
	After [][]float32
}

// Removed is how many filters the prune stage removed whole.
func (f *Filters) Removed() int {
	n := 0
	for _, a := range f.After {
		if a == nil {
			n++
		}
	}
	return n
}

// Zeroed is how many weights of the kept filters are zero after pruning
// and were not before, of all the kept filters' weights.
func (f *Filters) Zeroed() (zeroed, kept int) {
	for i, a := range f.After {
		for j, w := range a {
			if w == 0 && f.Before[i][j] != 0 {
				zeroed++
			}
		}
		kept += len(a)
	}
	return zeroed, kept
}

// firstConv is m's first layer when it is a convolution.
func firstConv(m *nn.Sequential) *nn.Conv2D {
	if len(m.Layers) == 0 {
		return nil
	}
	c, _ := m.Layers[0].(*nn.Conv2D)
	return c
}

// filterWeights copies each filter of c: column f of its [in·k·k, out]
// filter matrix.
func filterWeights(c *nn.Conv2D) [][]float32 {
	w, in, out := c.Kernel.W.Value.Data, c.Kernel.In, c.Kernel.Out
	fs := make([][]float32, out)
	for f := range fs {
		fs[f] = make([]float32, in)
		for p := range in {
			fs[f][p] = w[p*out+f]
		}
	}
	return fs
}

// filtersOf pairs the filters of the first convolution before pruning
// with after's: filter by filter when none was removed, otherwise each of
// after's filters with the next equal one of before (removing filters
// keeps the others, in order, unchanged).
func filtersOf(c *nn.Conv2D, before [][]float32, after *nn.Sequential) *Filters {
	f := &Filters{Layer: c.LayerName, K: c.K, C: c.In.C, Before: before, After: make([][]float32, len(before))}
	ac := firstConv(after)
	if ac == nil {
		return f
	}
	kept := filterWeights(ac)
	if len(kept) == len(before) {
		copy(f.After, kept)
		return f
	}
	j := 0
	for _, k := range kept {
		for j < len(before) && !slices.Equal(before[j], k) {
			j++
		}
		if j < len(before) {
			f.After[j] = k
			j++
		}
	}
	return f
}
