//go:build amd64 && !noasm && !purego

package imageset

import "github.com/preconv/preconv/internal/cpu"

// haveResampleKernels reports whether the AVX-512 resampling passes may run
// (F and BW; the horizontal pass uses VPERMB where VBMI is present too).
func haveResampleKernels() bool { return cpu.HasAVX512BW() }

// hrow runs the horizontal pass over one planar row (see hrowAVX512).
func hrow(dst *uint8, src *uint8, plan *byte, groups int, ks int) {
	if cpu.HasAVX512VBMI() {
		hrowAVX512(dst, src, plan, groups, ks)
		return
	}
	hrowAVX512BW(dst, src, plan, groups, ks)
}

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
