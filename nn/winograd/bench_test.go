package winograd_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/preconv/preconv/gemm"
	"github.com/preconv/preconv/nn/winograd"
)

// benchLayers are VGG16's 3×3 convs by distinct shape (conv1_1, with 3 input
// channels, is left to im2col by the caller and measured for reference only).
func benchName(l struct {
	name            string
	cin, cout, size int
}) string {
	return fmt.Sprintf("%s_c%d_k%d_%d", l.name, l.cin, l.cout, l.size)
}

// report sets the "GFLOP/s" (wall) and "GFLOP/cpu-s" metrics for b.N runs
// of flops each, given the CPU time at the start of the loop.
func report(b *testing.B, flops float64, cpu0 time.Duration) {
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if c := (cpuTime() - cpu0).Seconds(); c > 0 && cpu0 > 0 {
		b.ReportMetric(flops*float64(b.N)/c/1e9, "GFLOP/cpu-s")
	}
}

// directFLOPs is the FLOP count of the direct convolution (2·multiply-adds),
// the numerator of "effective GFLOP/s" for every method.
func directFLOPs(n, cin, cout, size int) float64 {
	return 2 * 9 * float64(n) * float64(cin) * float64(cout) * float64(size) * float64(size)
}

func benchData(n, cin, cout, size int) (x, wts, bias []float32) {
	rng := rand.New(rand.NewPCG(7, 8))
	x = uniform(rng, n*cin*size*size, 0, 1)
	wts = heInit(rng, cout, cin)
	bias = uniform(rng, cout, -0.1, 0.1)
	return
}

// BenchmarkWinograd_VGG16 measures Conv (F(4×4,3×3), 1 thread) on VGG16's
// layer shapes at batch 1 and 8; "GFLOP/s" is the effective rate (direct
// convolution FLOPs / time). Compare with BenchmarkIm2col_VGG16 in the same
// run.
func BenchmarkWinograd_VGG16(b *testing.B) {
	benchConv(b, winograd.F4x4)
}

// BenchmarkWinogradF2_VGG16 is BenchmarkWinograd_VGG16 for F(2×2,3×3).
func BenchmarkWinogradF2_VGG16(b *testing.B) {
	benchConv(b, winograd.F2x2)
}

func benchConv(b *testing.B, v winograd.Variant) {
	for _, l := range vggLayers {
		for _, n := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/b%d", benchName(l), n), func(b *testing.B) {
				x, wts, bias := benchData(n, l.cin, l.cout, l.size)
				wt := winograd.PrepareWeightsVariant(wts, l.cout, l.cin, v)
				dst := make([]float32, n*l.cout*l.size*l.size)
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := cpuTime()
				for b.Loop() {
					winograd.Conv(dst, x, n, l.cin, l.size, l.size, wt, bias, 1, 1, 1, 1, true, 1)
				}
				report(b, directFLOPs(n, l.cin, l.cout, l.size), cpu0)
			})
		}
	}
}

// BenchmarkIm2col_VGG16 is the reference: im2col + gemm.Sgemm + bias/ReLU
// pass, 1 thread, same shapes and metric as BenchmarkWinograd_VGG16.
func BenchmarkIm2col_VGG16(b *testing.B) {
	for _, l := range vggLayers {
		for _, n := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/b%d", benchName(l), n), func(b *testing.B) {
				x, wts, bias := benchData(n, l.cin, l.cout, l.size)
				dst := make([]float32, n*l.cout*l.size*l.size)
				cols := make([]float32, l.cin*9*l.size*l.size)
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := cpuTime()
				for b.Loop() {
					directConv(dst, x, n, l.cin, l.size, l.size, wts, l.cout, bias, true, cols)
				}
				report(b, directFLOPs(n, l.cin, l.cout, l.size), cpu0)
			})
		}
	}
}

// BenchmarkGemmOnly_VGG16 times just the 36 GEMMs Winograd F(4×4) does for
// one image when they go through gemm.Sgemm (the path without AVX-512; with
// it, Conv uses its own packed-weight micro-kernel instead); "GFLOP/s" is
// again the effective rate.
func BenchmarkGemmOnly_VGG16(b *testing.B) {
	for _, l := range vggLayers {
		b.Run(benchName(l)+"/b1", func(b *testing.B) {
			wt := winograd.PrepareWeights(make([]float32, l.cout*l.cin*9), l.cout, l.cin)
			t := (l.size + 3) / 4
			tiles := t * t
			bt := min(wt.BlockTiles, tiles)
			u := make([]float32, l.cout*l.cin)
			v := make([]float32, l.cin*bt)
			m := make([]float32, l.cout*bt)
			b.ResetTimer()
			cpu0 := cpuTime()
			for b.Loop() {
				for t0 := 0; t0 < tiles; t0 += bt {
					for range 36 {
						gemm.Sgemm(false, false, l.cout, bt, l.cin, 1, u, l.cin, v, bt, 0, m, bt)
					}
				}
			}
			report(b, directFLOPs(1, l.cin, l.cout, l.size), cpu0)
		})
	}
}

// BenchmarkBlockTiles sweeps Weights.BlockTiles (the GEMM N) on the deep
// VGG16 layers at batch 8, 1 thread, to pick PrepareWeights' default.
func BenchmarkBlockTiles(b *testing.B) {
	for _, l := range vggLayers[1:] {
		for _, bt := range []int{32, 64, 128, 256} {
			b.Run(fmt.Sprintf("%s/bt%d", benchName(l), bt), func(b *testing.B) {
				const n = 8
				x, wts, bias := benchData(n, l.cin, l.cout, l.size)
				wt := winograd.PrepareWeights(wts, l.cout, l.cin)
				wt.BlockTiles = bt
				dst := make([]float32, n*l.cout*l.size*l.size)
				cpu0 := cpuTime()
				for b.Loop() {
					winograd.Conv(dst, x, n, l.cin, l.size, l.size, wt, bias, 1, 1, 1, 1, true, 1)
				}
				report(b, directFLOPs(n, l.cin, l.cout, l.size), cpu0)
			})
		}
	}
}
