// Package plot draws a sweep's results as images with gonum.org/v1/plot:
// the Pareto frontier of test accuracy against the model file's size
// (pruner-tui sweep --plot FILE.png|.svg).
package plot
