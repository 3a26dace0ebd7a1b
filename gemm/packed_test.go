package gemm_test

import (
	"testing"

	"github.com/preconv/preconv/gemm"
	"github.com/preconv/preconv/gemm/gemmtest"
)

// SgemmPacked runs the whole conformance table (float64 reference, NaN
// guards, strides, every kernel path, 1–3 threads). alpha is applied to the
// copy of B before packing, as the packing of Sgemm itself does.
func TestSgemmPacked(t *testing.T) {
	paths(t, func(t *testing.T) {
		for _, th := range []int{1, 3} {
			gemmtest.TestSgemm(t, func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
				bs := b
				if alpha != 1 {
					bs = make([]float32, len(b))
					for i, v := range b {
						bs[i] = alpha * v
					}
				}
				pb := gemm.PackB(transB, k, n, bs, ldb)
				if pb.K() != k || pb.N() != n {
					t.Fatalf("PackB sizes %d×%d, want %d×%d", pb.K(), pb.N(), k, n)
				}
				gemm.SgemmPacked(th, transA, m, a, lda, pb, beta, c, ldc)
			})
		}
	})
}

func TestPackBRejectsShortB(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("PackB accepted a B slice too short for its sizes")
		}
	}()
	gemm.PackB(false, 4, 4, make([]float32, 15), 4)
}

// The seed's frozen VGG16 classifier layer: a mini-batch of 64 times the
// 25088×4096 weight, packed once versus packed on every call.
func BenchmarkFrozenLinear(b *testing.B) {
	const m, n, k = 64, 4096, 25088
	x := make([]float32, m*k)
	w := make([]float32, k*n)
	y := make([]float32, m*n)
	for i := range x {
		x[i] = float32(i%7) * 0.1
	}
	for i := range w {
		w[i] = float32(i%5) * 0.01
	}
	b.Run("sgemm", func(b *testing.B) {
		b.SetBytes(0)
		for i := 0; i < b.N; i++ {
			gemm.Sgemm(false, false, m, n, k, 1, x, k, w, n, 0, y, n)
		}
		b.ReportMetric(2*m*n*k*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	pb := gemm.PackB(false, k, n, w, n)
	b.Run("packed", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			gemm.SgemmPacked(1, false, m, x, k, pb, 0, y, n)
		}
		b.ReportMetric(2*m*n*k*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}
