// Package magnitudes is the prune knob's chart: how the weights of the
// trained model (one layer, or all layers pooled) spread by magnitude
// before pruning, as an ntcharts bar chart, with the threshold the prune
// knob cuts at drawn across it: the bars left of it are the weights it
// zeroes.
package magnitudes
