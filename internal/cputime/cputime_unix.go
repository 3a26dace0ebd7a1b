//go:build unix

// Package cputime reads the process's CPU time, for benchmarks that report
// CPU seconds beside wall time.
package cputime

import (
	"syscall"
	"time"
)

// Process returns the user+system CPU time of the process so far.
func Process() time.Duration {
	var r syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &r) != nil {
		return 0
	}
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}
