// Package histogram is the bit-width knob's chart: the weights of the knob
// preview (one layer, or all layers pooled) as an ntcharts bar chart, with
// the levels the quantizer snaps them to marked under it.
package histogram
