package gemm

import "fmt"

// Sgemm computes C = alpha*op(A)*op(B) + beta*C on the calling goroutine.
// When beta == 0, C is not read (NaNs in C are overwritten).
// It panics with a "gemm:" message on inconsistent sizes or strides.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	SgemmParallel(1, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmParallel is Sgemm split over up to threads goroutines: by column
// blocks of C, or by row blocks when C is narrow. threads <= 1, and products
// of under 2^20 multiply-adds, run on the calling goroutine. Results can
// differ from Sgemm's in the last bits (a part may take a different kernel).
func SgemmParallel(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	parallel(pickKernel(), threads, problem{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc})
}

// CheckArgs panics with a "gemm:" message when the sizes, strides or slice
// lengths of an Sgemm call are inconsistent. Other SGEMM backends call it so
// that every implementation rejects the same calls.
func CheckArgs(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
}

// Backend is an SGEMM implementation with the semantics of Sgemm and
// SgemmParallel. Native is this package's; gemm/openblas provides one backed
// by a system OpenBLAS.
type Backend interface {
	Name() string
	Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	SgemmParallel(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}

// Native is the pure-Go/assembly Backend of this package.
type Native struct{}

// Name returns "native/" plus the kernel in use, e.g. "native/avx512-8x32".
func (Native) Name() string { return "native/" + Kernel() }

// Sgemm calls the package-level Sgemm.
func (Native) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmParallel calls the package-level SgemmParallel.
func (Native) SgemmParallel(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	SgemmParallel(threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

var _ Backend = Native{}

func checkArgs(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative size m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if lda < max(1, ac) {
		panic(fmt.Sprintf("gemm: lda=%d < %d", lda, ac))
	}
	if ldb < max(1, bc) {
		panic(fmt.Sprintf("gemm: ldb=%d < %d", ldb, bc))
	}
	if ldc < max(1, n) {
		panic(fmt.Sprintf("gemm: ldc=%d < %d", ldc, n))
	}
	if m == 0 || n == 0 {
		return
	}
	if ar > 0 && ac > 0 && len(a) < (ar-1)*lda+ac {
		panic("gemm: a too short")
	}
	if br > 0 && bc > 0 && len(b) < (br-1)*ldb+bc {
		panic("gemm: b too short")
	}
	if len(c) < (m-1)*ldc+n {
		panic("gemm: c too short")
	}
}
