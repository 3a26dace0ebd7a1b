//go:build amd64 && !noasm && !purego

package nn

import "github.com/preconv/preconv/internal/cpu"

// max2x2AVX512 is max2x2Go with pointers to the first elements and n =
// len(dst) ≥ 1; it reads r0[:2n] and r1[:2n] only (masked loads at the
// end). Defined in maxpool2_amd64.s.
//
//go:noescape
func max2x2AVX512(dst, r0, r1 *float32, n int)

// max2x2 computes max2x2Go's result, with the AVX-512 kernel when the CPU
// has it.
func max2x2(dst, r0, r1 []float32) {
	if len(dst) == 0 {
		return
	}
	_, _ = r0[2*len(dst)-1], r1[2*len(dst)-1]
	if !cpu.HasAVX512() {
		max2x2Go(dst, r0, r1)
		return
	}
	max2x2AVX512(&dst[0], &r0[0], &r1[0], len(dst))
}
