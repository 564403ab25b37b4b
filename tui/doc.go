// Package tui is pruner-tui's Bubble Tea program: it runs an experiment
// and shows it live — training curves, per-layer sizes, the result table —
// and lets the user turn three compression knobs (prune ratio, bit width,
// rank) on the trained baseline and watch accuracy and size respond.
//
// The root model (tui.go) handles global keys, routes each message to its
// owner and lays out the panes (view.go); each pane is a component in its
// own folder under components/, sharing styles and the one keymap from
// common/. The session (session.go) owns the run and the fine-tunes and
// turns their events into pane updates; background work reaches it through
// the channel bridge in bridge.go. knobcharts.go chooses the chart that
// takes the curves' place while a knob is selected and fetches its data.
//
// The calls into package experiments are in three places: session.go (run,
// fine-tune, load, export), knobcharts.go (spectrum and histograms) and
// components/controls/evaluation.go (the knob preview).
package tui
