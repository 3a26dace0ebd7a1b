//go:build !amd64 || noasm || purego

package gemm

// pickKernel returns the portable kernel: this build has no assembly.
func pickKernel() kernel { return genericKernel }

// allKernels lists every kernel this build can run, for tests and benchmarks.
func allKernels() []kernel { return []kernel{genericKernel} }

// pickDot: no dot-product kernel in this build; A·Bᵀ packs B instead.
func pickDot() (dotKernel, bool) { return dotKernel{}, false }

// packBRows copies kb rows of panels*nr floats of src (row stride ldb) into
// nr-column panels of dst (panel s at s*nr*kb, row q at q*nr).
func packBRows(dst, src []float32, ldb, kb, panels, nr int) {
	packBRowsGeneric(dst, src, ldb, kb, panels, nr)
}
