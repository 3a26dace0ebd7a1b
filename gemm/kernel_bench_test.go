package gemm

import "testing"

// BenchmarkKernel measures each micro-kernel on L1/L2-resident panels
// (k = kc), the ceiling the loop nest can reach.
func BenchmarkKernel(b *testing.B) {
	for _, kn := range allKernels() {
		b.Run(kn.name, func(b *testing.B) {
			k := kn.kc
			a := make([]float32, k*kn.mr+64) // rows at stride k
			bb := make([]float32, k*kn.nr+64)
			c := make([]float32, kn.mr*kn.nr)
			for i := range a {
				a[i] = 1e-3
			}
			for i := range bb {
				bb[i] = 1e-3
			}
			for b.Loop() {
				kn.fn(k, &a[0], k, &bb[0], kn.nr, &c[0], kn.nr, 1)
			}
			b.ReportMetric(2*float64(kn.mr*kn.nr*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkPackB measures packing a kc×nc block of B (not transposed).
func BenchmarkPackB(b *testing.B) {
	kn := pickKernel()
	n := 12544
	bm := make([]float32, kn.kc*n)
	dst := make([]float32, kn.kc*kn.nc)
	p := problem{m: 128, n: n, k: kn.kc, alpha: 1, b: bm, ldb: n}
	for b.Loop() {
		packB(dst, p, 0, kn.kc, 0, kn.nc, kn.nr)
	}
	b.SetBytes(int64(4 * kn.kc * kn.nc))
}
