// Package common holds what every pane of the TUI shares: the Component
// interface, the central keymap, the styles and a few number formatters.
package common
