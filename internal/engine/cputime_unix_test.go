//go:build unix

package engine_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time used by the whole process so far, on every core
// and thread, the garbage collector's included.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
