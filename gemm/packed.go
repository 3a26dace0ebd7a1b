package gemm

import "fmt"

// PackedB is a k×n matrix op(B) copied once into the micro-kernel's panel
// layout, for many products with different A: the frozen weights of a
// network layer. SgemmPacked then skips packing B on every call, which is
// what dominates a product whose A has few rows (a mini-batch) and whose B
// is large (VGG16's 25088×4096 classifier weight: 411 MB per call).
//
// Layout: for each depth block pc (kc rows of B, the last one shorter), a
// region at pc·N' (N' = n rounded up to the kernel's nr) holding N'/nr
// panels of kb×nr floats, element (q, j) of panel s at s·nr·kb + q·nr + j;
// columns past n are zero. A PackedB is tied to the kernel of the machine
// that packed it (it is a cache, not a file format) and is safe for
// concurrent use by many SgemmPacked calls.
type PackedB struct {
	k, n int
	kn   kernel
	np   int // n rounded up to kn.nr
	data []float32
}

// PackB packs op(B) (k×n; B is n×k when transB) for SgemmPacked. It panics
// with a "gemm:" message on inconsistent sizes, like Sgemm.
func PackB(transB bool, k, n int, b []float32, ldb int) *PackedB {
	if k < 0 || n < 0 {
		panic(fmt.Sprintf("gemm: negative size k=%d n=%d", k, n))
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if ldb < max(1, bc) {
		panic(fmt.Sprintf("gemm: ldb=%d < %d", ldb, bc))
	}
	if br > 0 && bc > 0 && len(b) < (br-1)*ldb+bc {
		panic("gemm: b too short")
	}
	kn := pickKernel()
	pb := &PackedB{k: k, n: n, kn: kn, np: roundUp(n, kn.nr)}
	pb.data = make([]float32, pb.np*k)
	if k == 0 || n == 0 {
		return pb
	}
	p := problem{transB: transB, k: k, n: n, alpha: 1, b: b, ldb: ldb}
	for pc := 0; pc < k; pc += kn.kc {
		kb := min(kn.kc, k-pc)
		packB(pb.data[pc*pb.np:pc*pb.np+pb.np*kb], p, pc, kb, 0, n, kn.nr)
	}
	return pb
}

// K and N are the packed matrix's sizes.
func (pb *PackedB) K() int { return pb.k }
func (pb *PackedB) N() int { return pb.n }

// Bytes is the memory the packed copy holds.
func (pb *PackedB) Bytes() int64 { return int64(len(pb.data)) * 4 }

// block returns the panels of depth block pc (kb rows) from column col on
// (a multiple of nr).
func (pb *PackedB) block(pc, kb, col int) []float32 {
	return pb.data[pc*pb.np+col*kb:]
}

// SgemmPacked computes C = op(A)·B + beta·C (A is m×k, or k×m when transA)
// with B packed by PackB, split over up to threads goroutines like
// SgemmParallel. When beta == 0, C is not read. Results equal
// SgemmParallel's with alpha = 1 up to the last bits.
func SgemmPacked(threads int, transA bool, m int, a []float32, lda int, pb *PackedB, beta float32, c []float32, ldc int) {
	k, n := pb.k, pb.n
	if m < 0 {
		panic(fmt.Sprintf("gemm: negative size m=%d", m))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	if lda < max(1, ac) {
		panic(fmt.Sprintf("gemm: lda=%d < %d", lda, ac))
	}
	if ldc < max(1, n) {
		panic(fmt.Sprintf("gemm: ldc=%d < %d", ldc, n))
	}
	if m > 0 && n > 0 {
		if ar > 0 && ac > 0 && len(a) < (ar-1)*lda+ac {
			panic("gemm: a too short")
		}
		if len(c) < (m-1)*ldc+n {
			panic("gemm: c too short")
		}
	}
	kn := pickKernel()
	if kn.name != pb.kn.name {
		panic("gemm: PackedB was packed for kernel " + pb.kn.name + ", this machine runs " + kn.name)
	}
	parallel(kn, threads, problem{transA: transA, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, beta: beta, c: c, ldc: ldc, pb: pb})
}
