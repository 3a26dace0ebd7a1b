//go:build amd64 && !noasm && !purego

package imageset

import "github.com/preconv/preconv/internal/cpu"

// haveResampleKernels reports whether the planar resampling kernels may
// run: AVX-512 (F and BW; VPERMB where VBMI is present too) or AVX2.
func haveResampleKernels() bool { return cpu.HasAVX512BW() || cpu.HasAVX2FMA() }

// hrow runs the horizontal pass over one planar row (see hrowAVX512).
func hrow(dst *uint8, src *uint8, plan *byte, groups int, ks int) {
	switch {
	case cpu.HasAVX512VBMI():
		hrowAVX512(dst, src, plan, groups, ks)
	case cpu.HasAVX512BW():
		hrowAVX512BW(dst, src, plan, groups, ks)
	default:
		hrowAVX2(dst, src, plan, groups, ks)
	}
}

// yccRow converts the whole vector groups of a row (see
// ycbcrReader.rowPlanar) and returns how many pixels it did.
func yccRow(dr, dg, db, y *uint8, sb, sr *int32, n int, tab *[52]int32, adv int) int {
	if cpu.HasAVX512BW() {
		yccRowAVX512(dr, dg, db, y, sb, sr, n/16, tab, adv)
		return n / 16 * 16
	}
	yccRowAVX2(dr, dg, db, y, sb, sr, n/8, tab, adv)
	return n / 8 * 8
}

// vrowLUT runs the vertical pass and the lookup table for one output row
// (see vrowLUTAVX512).
func vrowLUT(dst *float32, src *uint8, stride int, n int, w *int32, ks int, lut *[256]float32) {
	if cpu.HasAVX512BW() {
		vrowLUTAVX512(dst, src, stride, n, w, ks, lut)
		return
	}
	vrowLUTAVX2(dst, src, stride, n, w, ks, lut)
}

// hrowAVX2, yccRowAVX2 and vrowLUTAVX2 are the AVX2 kernels (8 lanes,
// gathers). Defined in resample_amd64.s.
//
//go:noescape
func hrowAVX2(dst *uint8, src *uint8, plan *byte, groups int, ks int)

//go:noescape
func yccRowAVX2(dr, dg, db *uint8, y *uint8, sb, sr *int32, n8 int, tab *[52]int32, adv int)

//go:noescape
func vrowLUTAVX2(dst *float32, src *uint8, stride int, n int, w *int32, ks int, lut *[256]float32)

// hrowAVX512BW is hrowAVX512 without VBMI (VPERMI2W on widened words).
// Defined in resample_amd64.s.
//
//go:noescape
func hrowAVX512BW(dst *uint8, src *uint8, plan *byte, groups int, ks int)

// hrowAVX512 runs the horizontal pass over one planar row with a plan built
// by buildHPlan. Defined in resample_amd64.s.
//
//go:noescape
func hrowAVX512(dst *uint8, src *uint8, plan *byte, groups int, ks int)

// yccRowAVX512 upsamples chroma and converts 16*n16 pixels of a row (see
// ycbcrReader.rowPlanar). Defined in resample_amd64.s.
//
//go:noescape
func yccRowAVX512(dr, dg, db *uint8, y *uint8, sb, sr *int32, n16 int, tab *[52]int32, adv int)

// vrowLUTAVX512 runs the vertical pass for one output row of n columns
// and maps the bytes through lut into dst. Defined in resample_amd64.s.
//
//go:noescape
func vrowLUTAVX512(dst *float32, src *uint8, stride int, n int, w *int32, ks int, lut *[256]float32)
