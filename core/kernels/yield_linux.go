package kernels

import "syscall"

// yieldCPU gives the processor to another runnable thread, if one is
// waiting for it (sched_yield): a helper polling for work must not slow
// an owner that the OS placed on the same core.
func yieldCPU() {
	syscall.Syscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
}
