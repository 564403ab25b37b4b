// Package tui is pruner-tui's Bubble Tea program: it runs an experiment
// and shows it live — training curves, per-layer sizes, the result table —
// and lets the user turn three compression knobs (prune ratio, bit width,
// rank, with the prune scope and the rank's layer under them) on the
// trained baseline and watch accuracy and size respond.
//
// The root model (tui.go) routes each message to its owner; keys.go holds
// the keys that work everywhere (q, ?, esc) and mouse.go the mouse; view.go
// lays out the panes, in a compact layout with tabs in short windows. Each
// pane is a component in its own folder under components/, sharing styles
// and the one keymap from common/. The session (session.go) owns the run
// and the fine-tunes and turns their events into pane updates; background
// work reaches it through the channel bridge in bridge.go; latency.go
// measures the rows added with a. dialogs.go asks before work is lost
// and how to export. knobcharts.go chooses the chart that takes the
// curves' place while a knob is selected and fetches its data.
//
// The calls into package experiments are in four places: session.go (run,
// fine-tune, load, export), latency.go (Trained.Latency), knobcharts.go
// (spectrum and histograms) and components/controls/evaluation.go (the
// knob preview).
package tui
