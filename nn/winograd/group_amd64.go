//go:build amd64 && !noasm && !purego

package winograd

import "github.com/preconv/preconv/internal/cpu"

// haveGroupKernels reports whether the AVX-512 group kernels may run.
func haveGroupKernels() bool { return cpu.HasAVX512() }

// inputF4x16AVX512 is inputF4x16Go with v, src as pointers to their first
// element (src may be indexed at negative offsets idx[k] in masked-off
// lanes only: those are never read). Defined in group_amd64.s.
//
//go:noescape
func inputF4x16AVX512(v *float32, vs int, src *float32, w int, idx *[16]int32, mask *[36]uint16)

// outputF4x16AVX512 is outputF4x16Go with dst, m as pointers. Defined in
// group_amd64.s.
//
//go:noescape
func outputF4x16AVX512(dst *float32, ow int, m *float32, ms int, idx *[16]int32, mask *[16]uint16, bias, lo float32)

// inputF4x16 runs the AVX-512 kernel; v must hold 35*vs+16 elements from
// its start and every unmasked src element must be in range (the caller
// checks both once per Conv).
func inputF4x16(v []float32, vs int, src []float32, w int, idx *[16]int32, mask *[36]uint16) {
	inputF4x16AVX512(&v[0], vs, &src[0], w, idx, mask)
}

// outputF4x16 runs the AVX-512 kernel (see inputF4x16 for the contract).
func outputF4x16(dst []float32, ow int, m []float32, ms int, idx *[16]int32, mask *[16]uint16, bias, lo float32) {
	outputF4x16AVX512(&dst[0], ow, &m[0], ms, idx, mask, bias, lo)
}
