//go:build race

package main

// raceEnabled: the race detector slows the numerics several times over.
const raceEnabled = true
