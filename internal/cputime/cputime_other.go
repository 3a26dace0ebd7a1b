//go:build !unix

// Package cputime reads the process's CPU time, for benchmarks that report
// CPU seconds beside wall time.
package cputime

import "time"

// Process returns 0: the platform does not report CPU time here.
func Process() time.Duration { return 0 }
