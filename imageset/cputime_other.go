//go:build !unix

package imageset

import "time"

// processCPU is not available here: 0.
func processCPU() time.Duration { return 0 }
