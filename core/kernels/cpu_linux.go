package kernels

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The helpers' dealings with the OS scheduler. All are raw system calls:
// one that the Go scheduler saw block for long would hand the thread's P
// to another thread.

// yieldCPU gives the processor to another runnable thread, if one is
// waiting for it (sched_yield): a helper polling for work must not slow an
// owner that the OS placed on the same core.
func yieldCPU() {
	unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
}

// currentCPU returns the CPU the calling thread runs on, or -1.
func currentCPU() int {
	var cpu uint32
	if _, _, e := unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&cpu)), 0, 0); e != 0 {
		return -1
	}
	return int(cpu)
}

// moveOff moves the calling thread, which must be locked to its goroutine,
// to a CPU other than cpu among those it may run on, then allows it all of
// them again. On a machine with other load the OS sometimes wakes a helper
// on its owner's CPU, the other one being busy with another process, and
// leaves the two sharing one CPU for tens of milliseconds (measured: a
// third of the rounds of a 64×300·300×100 benchmark after an idle gap ran
// at one thread's speed or slower); a move settles it at once.
func moveOff(cpu int) {
	var allowed unix.CPUSet
	if cpu < 0 || unix.SchedGetaffinity(0, &allowed) != nil || !allowed.IsSet(cpu) {
		return
	}
	others := allowed
	others.Clear(cpu)
	if others.Count() == 0 {
		return
	}
	if unix.SchedSetaffinity(0, &others) == nil {
		unix.SchedSetaffinity(0, &allowed)
	}
}
