// Package tui is pruner-tui's Bubble Tea program: it runs an experiment
// and shows it live — training curves, per-layer sizes, the result table —
// and lets the user turn three compression knobs (prune ratio, bit width,
// rank) on the trained baseline and watch accuracy and size respond.
//
// The root model (tui.go) handles global keys, routes messages and lays
// out the panes (view.go); each pane is a component in its own folder under
// components/, sharing styles and the one keymap from common/. Background
// work reaches the UI through the channel bridge in bridge.go.
package tui
