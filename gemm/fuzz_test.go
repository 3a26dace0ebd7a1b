package gemm_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/preconv/preconv/gemm"
	"github.com/preconv/preconv/gemm/gemmtest"
	"github.com/preconv/preconv/internal/cpu"
)

// FuzzSgemmPaths checks that the fastest kernel on this machine, the AVX2
// kernel and the portable kernel agree with each other (and with the float64
// reference through gemmtest.Check) on fuzzed shapes, transposes, strides,
// alpha/beta and thread counts.
func FuzzSgemmPaths(f *testing.F) {
	f.Add(uint8(7), uint8(33), uint8(17), uint8(0), uint8(1), uint8(0), uint64(1))
	f.Add(uint8(67), uint8(67), uint8(67), uint8(3), uint8(2), uint8(5), uint64(2))
	f.Add(uint8(1), uint8(1), uint8(1), uint8(1), uint8(0), uint8(2), uint64(3))
	f.Add(uint8(72), uint8(100), uint8(9), uint8(0), uint8(3), uint8(1), uint64(4))
	f.Fuzz(func(t *testing.T, m, n, k, flags, ab, pad uint8, seed uint64) {
		cs := gemmtest.Case{
			TransA: flags&1 != 0, TransB: flags&2 != 0,
			M: int(m % 130), N: int(n % 130), K: int(k % 130),
			Alpha: []float32{1, -1, 0.5, 0, 2}[ab%5], Beta: []float32{0, 1, -0.5, 2}[(ab/5)%4],
			PadA: int(pad % 3), PadB: int(pad/3) % 3, PadC: int(pad/9) % 3,
		}
		threads := 1 + int(flags>>2)%3
		fn := func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
			gemm.SgemmParallel(threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		}
		// Same inputs for every path: record the outputs through a wrapper.
		var outs [][]float32
		record := func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
			fn(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
			outs = append(outs, append([]float32(nil), c...))
		}
		run := func(name string) {
			if err := gemmtest.Check(record, cs, rand.New(rand.NewPCG(seed, 0))); err != nil {
				t.Fatalf("%s kernel (%s): %v", name, gemm.Kernel(), err)
			}
		}
		run("best")
		if cpu.HasAVX512() {
			restore := cpu.DisableAVX512()
			run("avx2")
			restore()
		}
		restore := cpu.DisableAVX2()
		run("generic")
		restore()
		for i := 1; i < len(outs); i++ {
			for j := range outs[0] {
				x, y := float64(outs[0][j]), float64(outs[i][j])
				if math.IsNaN(x) != math.IsNaN(y) || math.Abs(x-y) > 1e-4*(1+math.Abs(x))*float64(cs.K+1) {
					t.Fatalf("%v: path %d differs from best kernel at %d: %g vs %g", cs, i, j, y, x)
				}
			}
		}
	})
}
