//go:build amd64 && !noasm && !purego

package nn

import "github.com/preconv/preconv/internal/cpu"

// dwRowsAVX512 is dwRowsGo with pointers to the first elements of dst,
// src, off and w, and ntaps = len(off) ≥ 1. It reads and writes no
// element outside the ranges dwRowsGo indexes (the row tail uses masked
// loads and stores). With one tap at offset 0, dst may be src (each
// vector is loaded before it is stored). Defined in depthwise_amd64.s.
//
//go:noescape
func dwRowsAVX512(dst *float32, ldd int, src *float32, rs, oh, ow int, off *int, ntaps int, w *float32, bias, lo, hi float32)

// dwRows computes dwRowsGo's result, with the AVX-512 kernel when the CPU
// has it. It panics (as the Go loop would) when an index is out of range.
func dwRows(dst []float32, ldd int, src []float32, rs, oh, ow int, off []int, w []float32, bias, lo, hi float32) {
	if !cpu.HasAVX512() || oh <= 0 || ow <= 0 || len(off) == 0 {
		dwRowsGo(dst, ldd, src, rs, oh, ow, off, w, bias, lo, hi)
		return
	}
	if ldd < ow || rs < 0 || len(w) < len(off) || len(dst) < (oh-1)*ldd+ow {
		panic("nn: dwRows: dst or weights too short")
	}
	for _, o := range off {
		if o < 0 || (oh-1)*rs+o+ow > len(src) {
			panic("nn: dwRows: tap offset out of range")
		}
	}
	dwRowsAVX512(&dst[0], ldd, &src[0], rs, oh, ow, &off[0], len(off), &w[0], bias, lo, hi)
}

// biasClamp sets v[i] = clamp(v[i] + bias, lo, hi) (see biasClampGo).
func biasClamp(v []float32, bias, lo, hi float32) {
	if !cpu.HasAVX512() || len(v) == 0 {
		biasClampGo(v, bias, lo, hi)
		return
	}
	off, w := [1]int{0}, [1]float32{1}
	dwRowsAVX512(&v[0], len(v), &v[0], 0, 1, len(v), &off[0], 1, &w[0], bias, lo, hi)
}

// evensAVX512 sets dst[j] = src[2j] for j in [0, n), reading src[:2n−1]
// only. Defined in depthwise_amd64.s.
//
//go:noescape
func evensAVX512(dst, src *float32, n int)

// evens sets dst[j] = src[2j] for every j in dst; src needs 2·len(dst)−1
// elements.
func evens(dst, src []float32) {
	if len(dst) == 0 {
		return
	}
	_ = src[2*len(dst)-2]
	if !cpu.HasAVX512() {
		evensGo(dst, src)
		return
	}
	evensAVX512(&dst[0], &src[0], len(dst))
}
