package gemm_test

import (
	"testing"

	"github.com/preconv/preconv/gemm"
	"github.com/preconv/preconv/gemm/gemmtest"
	"github.com/preconv/preconv/gemm/openblas"
)

// BenchmarkSgemm_VGG16 measures the VGG16 im2col shapes (A = weights M×K,
// B = columns K×N, both non-transposed) for the native kernels and, when the
// library loads, OpenBLAS; run with OPENBLAS_CORETYPE=SkylakeX. Sub-benchmark
// names: <shape>/<backend>/t<threads>.
func BenchmarkSgemm_VGG16(b *testing.B) {
	backends := []gemm.Backend{gemm.Native{}}
	if l, err := openblas.Open(""); err == nil {
		backends = append(backends, l)
	} else {
		b.Logf("OpenBLAS skipped: %v", err)
	}
	for _, s := range gemmtest.VGG16 {
		a := make([]float32, s.M*s.K)
		bm := make([]float32, s.K*s.N)
		c := make([]float32, s.M*s.N)
		for i := range a {
			a[i] = float32(i%7) - 3
		}
		for i := range bm {
			bm[i] = float32(i%5) - 2
		}
		b.Run(s.String(), func(b *testing.B) {
			for _, be := range backends {
				name := "ours"
				if _, ok := be.(*openblas.Lib); ok {
					name = "openblas"
				}
				for _, th := range []int{1, 2} {
					b.Run(name+"/t"+string(rune('0'+th)), func(b *testing.B) {
						b.ReportAllocs()
						b.ResetTimer()
						for b.Loop() {
							be.SgemmParallel(th, false, false, s.M, s.N, s.K, 1, a, s.K, bm, s.N, 0, c, s.N)
						}
						b.ReportMetric(s.FLOPs()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				}
			}
		})
	}
}
