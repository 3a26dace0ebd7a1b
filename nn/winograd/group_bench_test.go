package winograd

import (
	"fmt"
	"testing"
)

// BenchmarkGroupKernels times one call of each 16-tile group kernel (all
// lanes active, 16 consecutive interior tiles of a 224-wide image) next to
// 16 calls of the per-tile Go transforms, per tile-channel.
func BenchmarkGroupKernels(b *testing.B) {
	const w = 230
	src := make([]float32, w*8)
	var idx [16]int32
	var mask [36]uint16
	var omask [16]uint16
	for k := range idx {
		idx[k] = int32(4 * k)
	}
	for i := range mask {
		mask[i] = 0xffff
	}
	for i := range omask {
		omask[i] = 0xffff
	}
	vs := 16 * 65
	v := make([]float32, 36*vs)
	dst := make([]float32, w*8)
	b.Run("input_group", func(b *testing.B) {
		for b.Loop() {
			inputF4x16(v, vs, src, w, &idx, &mask)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/16, "ns/tile")
	})
	b.Run("output_group", func(b *testing.B) {
		for b.Loop() {
			outputF4x16(dst, w, v, vs, &idx, &omask, 0.5, 0)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/16, "ns/tile")
	})
	b.Run("input_row", func(b *testing.B) {
		for b.Loop() {
			inputF4x16Row(v, vs, src, w)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/16, "ns/tile")
	})
	b.Run("output_row", func(b *testing.B) {
		for b.Loop() {
			outputF4x16Row(dst, w, v, vs, 0.5, 0)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/16, "ns/tile")
	})
	b.Run("input_tile_go", func(b *testing.B) {
		var d [36]float32
		for b.Loop() {
			for k := 0; k < 16; k++ {
				inputF4(v[k:], vs, &d)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/16, "ns/tile")
	})
	b.Run("output_tile_go", func(b *testing.B) {
		var y [16]float32
		for b.Loop() {
			for k := 0; k < 16; k++ {
				outputF4(&y, v[k:], vs, 0.5, true)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/16, "ns/tile")
	})
}

// BenchmarkGemm8xN measures the micro-kernel alone (operands in cache).
func BenchmarkGemm8xN(b *testing.B) {
	for _, n := range []int{16, 32} {
		for _, k := range []int{64, 256, 512} {
			b.Run(fmt.Sprintf("n%d_k%d", n, k), func(b *testing.B) {
				u := make([]float32, 8*k)
				v := make([]float32, k*n)
				m := make([]float32, 8*n)
				for b.Loop() {
					gemm8xN(n, k, u, v, n, m, n)
				}
				b.ReportMetric(2*8*float64(n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
