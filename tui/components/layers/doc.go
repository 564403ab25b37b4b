// Package layers is the layers pane: one row per weight layer of the model
// being looked at (the baseline, a compression step, or the knob preview)
// with its shape, weight count, non-zeros, sparsity, bit width and rank,
// and a total row.
package layers
