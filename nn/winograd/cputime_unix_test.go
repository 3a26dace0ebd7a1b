//go:build unix

package winograd_test

import (
	"syscall"
	"time"
)

// cpuTime returns the process's user+system CPU time. Benchmarks report
// FLOPs per CPU second beside FLOPs per wall second: on a shared, busy
// machine the CPU-time figure is the stable one (1-thread runs only).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
