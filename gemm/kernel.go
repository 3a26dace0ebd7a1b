package gemm

// kernel is one register-blocked micro-kernel and the cache blocking that
// suits it. fn computes an mr×nr tile of C:
//
//	acc[i][j] = sum_{p<k} a[i*lda+p] * b[p*ldb+j]
//	c[i*ldc+j] = acc[i][j] + beta*c[i*ldc+j]   (c not read when beta == 0)
//
// a holds mr rows of k floats at stride lda, b k rows of nr floats at
// stride ldb (read in place or packed), and c an mr×nr tile with row
// stride ldc. Kernels check nothing.
type kernel struct {
	name   string
	mr, nr int
	kc     int // depth of a packed block (k steps)
	mc     int // rows of op(A) packed at once
	nc     int // columns of op(B) packed at once
	// jrOuter loops over B micro-panels outside A micro-panels (the B
	// micro-panel stays in L1 and A streams from L2); the default keeps the
	// A micro-panel in L1.
	jrOuter bool
	// packB copies B into nr-column panels even when it is not transposed
	// (otherwise the kernel reads its rows in place).
	packB bool
	fn    func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32)
	// fnEdge, when set, is an mr×nrEdge kernel for right-edge tiles at most
	// nrEdge columns wide, so narrow remainders waste fewer FLOPs.
	nrEdge int
	fnEdge func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32)
}

// genericKernel is the portable 4×8 kernel, used when no assembly kernel
// can run (other architectures, -tags noasm/purego, or old x86 CPUs).
var genericKernel = kernel{name: "generic4x8", mr: 4, nr: 8, kc: 256, mc: 256, nc: 512, fn: kernelGeneric4x8}

// Kernel names the micro-kernel Sgemm uses on this machine right now
// ("avx512-8x32", "avx2-6x16" or "generic4x8"), for logs and benchmarks.
func Kernel() string { return pickKernel().name }
