// Package statusbar is the one-line status: what the run is doing, how long
// it has been running, and the last log line, note or error.
package statusbar
