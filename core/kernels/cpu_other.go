//go:build !linux

package kernels

// Elsewhere a polling helper yields to goroutines only, and is never moved.

func yieldCPU() {}

func currentCPU() int { return -1 }

func moveOff(cpu int) {}
