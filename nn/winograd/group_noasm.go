//go:build !amd64 || noasm || purego

package winograd

// haveGroupKernels is false without the assembly kernels: Conv then uses
// the per-tile Go transforms, which are faster than the Go group versions.
func haveGroupKernels() bool { return false }

func inputF4x16(v []float32, vs int, src []float32, w int, idx *[16]int32, mask *[36]uint16) {
	inputF4x16Go(v, vs, src, w, idx, mask)
}

func outputF4x16(dst []float32, ow int, m []float32, ms int, idx *[16]int32, mask *[16]uint16, bias, lo float32) {
	outputF4x16Go(dst, ow, m, ms, idx, mask, bias, lo)
}

func inputF4x16Row(v []float32, vs int, src []float32, w int) {
	inputF4x16Go(v, vs, src, w, &rowIdx, &allIn)
}

func outputF4x16Row(dst []float32, ow int, m []float32, ms int, bias, lo float32) {
	outputF4x16Go(dst, ow, m, ms, &rowIdx, &allOut, bias, lo)
}

func gemm8xN(n, k int, u, v []float32, ldv int, m []float32, ldm int) {
	gemm8xNGo(n, k, u, v, ldv, m, ldm)
}

func gemmCol(np, k int, u []float32, us int, v []float32, ldv int, m []float32, ldm int) {
	gemmColGo(np, k, u, us, v, ldv, m, ldm)
}
