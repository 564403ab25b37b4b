// Package printable makes text that came from a file safe to show in a
// terminal. Escape is the one helper every place uses where such text
// meets the screen (a model file's layer names, a spec's names, error
// messages), so an escape sequence hidden in a name can neither retitle
// the terminal nor clear it, and a newline cannot break a table; Is is
// the check the readers of names use where names enter.
package printable
