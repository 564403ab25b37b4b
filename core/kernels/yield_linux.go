package kernels

import "syscall"

// yieldCPU gives the processor to another runnable thread, if one is
// waiting for it (sched_yield): a helper polling for work must not slow
// an owner that the OS placed on the same core. It is a raw system call:
// one that the Go scheduler saw block for long would hand this thread's P
// to another thread.
func yieldCPU() {
	syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
}
