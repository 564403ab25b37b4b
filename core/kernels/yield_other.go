//go:build !linux

package kernels

// yieldCPU: without sched_yield a polling helper yields to goroutines only.
func yieldCPU() {}
