package gemm_test

import (
	"testing"

	"github.com/preconv/preconv/gemm"
	"github.com/preconv/preconv/gemm/gemmtest"
	"github.com/preconv/preconv/internal/cpu"
)

// paths runs f once for every kernel path this machine can take.
func paths(t *testing.T, f func(t *testing.T)) {
	t.Run("best", f)
	if cpu.HasAVX512() {
		t.Run("avx2", func(t *testing.T) {
			defer cpu.DisableAVX512()()
			f(t)
		})
	}
	t.Run("generic", func(t *testing.T) {
		defer cpu.DisableAVX2()()
		f(t)
	})
}

func TestSgemm(t *testing.T) {
	paths(t, func(t *testing.T) {
		t.Logf("kernel %s", gemm.Kernel())
		gemmtest.TestSgemm(t, gemm.Sgemm)
	})
}

func TestSgemmParallel(t *testing.T) {
	paths(t, func(t *testing.T) {
		for _, th := range []int{2, 3, 7} {
			gemmtest.TestSgemm(t, func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
				gemm.SgemmParallel(th, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
			})
		}
	})
}
