//go:build !amd64 || noasm || purego

package nn

// max2x2 is max2x2Go (no assembly in this build).
func max2x2(dst, r0, r1 []float32) { max2x2Go(dst, r0, r1) }
