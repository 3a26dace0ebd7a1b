//go:build !amd64 || noasm || purego

package imageset

func haveResampleKernels() bool { return false }

func hrow(dst *uint8, src *uint8, plan *byte, groups int, ks int) {
	panic("imageset: no resampling kernels on this platform")
}

func yccRowAVX512(dr, dg, db *uint8, y *uint8, sb, sr *int32, n16 int, tab *[52]int32, adv int) {
	panic("imageset: no color kernels on this platform")
}

func vrowLUTAVX512(dst *float32, src *uint8, stride int, n int, w *int32, ks int, lut *[256]float32) {
	panic("imageset: no resampling kernels on this platform")
}
