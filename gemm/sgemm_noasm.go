//go:build !amd64 || noasm || purego

package gemm

// pickKernel returns the portable kernel: this build has no assembly.
func pickKernel() kernel { return genericKernel }
