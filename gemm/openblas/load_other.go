//go:build !((linux || darwin) && (amd64 || arm64))

package openblas

import (
	"fmt"
	"runtime"
)

// Open always fails here: purego cannot load libraries on this platform.
func Open(path string) (*Lib, error) {
	return nil, fmt.Errorf("%w: no run-time loader on %s/%s", ErrNotFound, runtime.GOOS, runtime.GOARCH)
}
