// Package chart is the curves pane: the smoothed training loss per step and
// the train/test accuracy per epoch of one training phase (the baseline, or
// a fine-tuning run), drawn with ntcharts line charts. It also keeps the
// latest sensitivity analysis of each kind (pruning, bit width) and draws
// one in their place; NextView cycles curves → pruning → bit width.
package chart
