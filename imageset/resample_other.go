//go:build !amd64 || noasm || purego

package imageset

func haveResampleKernels() bool { return false }

func hrow(dst *uint8, src *uint8, plan *byte, groups int, ks int) {
	panic("imageset: no resampling kernels on this platform")
}

func yccRow(dr, dg, db, y *uint8, sb, sr *int32, n int, tab *[52]int32, adv int) int {
	panic("imageset: no color kernels on this platform")
}

func vrowLUT(dst *float32, src *uint8, stride int, n int, w *int32, ks int, lut *[256]float32) {
	panic("imageset: no resampling kernels on this platform")
}
