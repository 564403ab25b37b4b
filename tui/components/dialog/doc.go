// Package dialog is a small modal question drawn over the panes, as gum
// confirm and gum choose ask: a title, a few lines saying what is at
// stake, and options chosen by their key, by ←/→ and enter, or cancelled
// with esc. The root asks before work is lost (another preset, quitting
// while work runs) and asks the export's format.
package dialog
