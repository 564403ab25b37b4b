// Package controls is the knobs pane: prune ratio, bit width and rank, and
// a live preview of what the current setting does to the trained baseline.
//
// knobs.go is the knob model, pure data: the steps of each knob (the rank
// from the largest rank that saves bytes down), the two lines under them
// — the prune scope (layer or global) and the dense layer the rank knob
// factorizes — and the experiments.Setting they make.
// evaluation.go is the preview's life: every knob change bumps a generation
// number, cancels the evaluation in flight and starts Trained.Preview at
// once in a tea.Cmd; the accuracies come first, then the model file's exact
// size. Answers carry their generation; an answer from an older generation
// is dropped, so the preview always matches the knobs on screen.
package controls
