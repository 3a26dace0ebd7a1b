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

// inputF4x16RowAVX512 is inputF4x16Go for 16 consecutive interior tiles of
// one tile row with every mask bit set: idx[k] = 4k, src pointing at tile
// 0's top-left input element (6 rows of 66 elements are read). It uses
// contiguous loads and permutes instead of gathers. Defined in
// group_amd64.s.
//
//go:noescape
func inputF4x16RowAVX512(v *float32, vs int, src *float32, w int)

// outputF4x16RowAVX512 is outputF4x16Go for 16 consecutive full tiles of
// one tile row with every mask bit set: idx[k] = 4k, dst pointing at tile
// 0's top-left output (4 rows of 64 elements are written). Defined in
// group_amd64.s.
//
//go:noescape
func outputF4x16RowAVX512(dst *float32, ow int, m *float32, ms int, bias, lo float32)

// inputF4x16Row is inputF4x16RowAVX512 with slices; src must hold 5*w+66
// elements.
func inputF4x16Row(v []float32, vs int, src []float32, w int) {
	_ = src[5*w+65]
	_ = v[35*vs+15]
	inputF4x16RowAVX512(&v[0], vs, &src[0], w)
}

// outputF4x16Row is outputF4x16RowAVX512 with slices; dst must hold
// 3*ow+64 elements.
func outputF4x16Row(dst []float32, ow int, m []float32, ms int, bias, lo float32) {
	_ = dst[3*ow+63]
	_ = m[35*ms+15]
	outputF4x16RowAVX512(&dst[0], ow, &m[0], ms, bias, lo)
}

// gemm8x32AVX512 and gemm8x16AVX512 are gemm8xNGo for n = 32 and 16.
// Defined in group_amd64.s.
//
//go:noescape
func gemm8x32AVX512(k int, u, v *float32, ldv int, m *float32, ldm int)

//go:noescape
func gemm8x16AVX512(k int, u, v *float32, ldv int, m *float32, ldm int)

// gemm8xN runs the AVX-512 kernel for n = 16 or 32 tile columns; u must
// hold 8k elements, v (k-1)*ldv+n and m 7*ldm+n.
func gemm8xN(n, k int, u, v []float32, ldv int, m []float32, ldm int) {
	_ = u[8*k-1]
	_ = v[(k-1)*ldv+n-1]
	_ = m[7*ldm+n-1]
	switch {
	case !cpu.HasAVX512(): // weights packed earlier, flag since disabled (tests)
		gemm8xNGo(n, k, u, v, ldv, m, ldm)
	case n == 32:
		gemm8x32AVX512(k, &u[0], &v[0], ldv, &m[0], ldm)
	case n == 16:
		gemm8x16AVX512(k, &u[0], &v[0], ldv, &m[0], ldm)
	default:
		panic("winograd: gemm8xN n must be 16 or 32")
	}
}

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

// gemmCol8AVX512 is gemmColGo for np ≤ 8 panels (k ≥ 1), one ymm
// accumulator per panel, FMAs in gemm8x16AVX512's order (the same bits).
// Panels q ≥ np are read as panel 0 and not stored. Defined in
// group_amd64.s.
//
//go:noescape
func gemmCol8AVX512(np, k int, u *float32, us int, v *float32, ldv int, m *float32, ldm int)

// gemmCol runs gemmColGo's computation with the AVX-512 kernel, 8 panels
// per call; u must hold (np-1)*us + 8k elements, v (k-1)*ldv+1 and m
// (8np-1)*ldm+1.
func gemmCol(np, k int, u []float32, us int, v []float32, ldv int, m []float32, ldm int) {
	if np <= 0 || k <= 0 {
		gemmColGo(np, k, u, us, v, ldv, m, ldm)
		return
	}
	_ = u[(np-1)*us+8*k-1]
	_ = v[(k-1)*ldv]
	_ = m[(8*np-1)*ldm]
	if !cpu.HasAVX512() {
		gemmColGo(np, k, u, us, v, ldv, m, ldm)
		return
	}
	for q := 0; q < np; q += 8 {
		gemmCol8AVX512(min(8, np-q), k, &u[q*us], us, &v[0], ldv, &m[8*q*ldm], ldm)
	}
}
