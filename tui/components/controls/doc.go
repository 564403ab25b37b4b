// Package controls is the knobs pane: prune ratio, bit width and rank, and
// a live preview of what the current setting does to the trained baseline.
//
// Every knob change bumps a generation number, cancels the evaluation in
// flight and, after a short debounce, starts Trained.Apply in a tea.Cmd.
// Answers carry their generation; an answer from an older generation is
// dropped, so the preview always matches the knobs on screen.
package controls
