//go:build !linux

package gemmbench

import "time"

// threadCPU is not available on this system; measurements use wall time.
func threadCPU() (time.Duration, bool) { return 0, false }
