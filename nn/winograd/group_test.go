package winograd

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestGroupKernels checks the dispatched group kernels (AVX-512 where
// available) against their Go reference semantics on random data, random
// masks, scattered lane offsets, and with NaN guards around the outputs.
// Data are U(-1,1); the tolerances (2e-5 input, 1e-4 output, absolute) cover
// float32 rounding in a different order (FMA) over intermediates of size up
// to ~100 (input) and ~400 (output), and are far below the O(1) errors a
// wrong lane, mask bit or offset would cause.
func TestGroupKernels(t *testing.T) {
	if !haveGroupKernels() {
		t.Skip("no AVX-512 group kernels on this CPU/build; Conv uses the per-tile Go path")
	}
	rng := rand.New(rand.NewPCG(9, 10))
	const w, h = 23, 19
	for iter := 0; iter < 200; iter++ {
		src := make([]float32, w*h)
		for i := range src {
			src[i] = rng.Float32()*2 - 1
		}
		var idx [16]int32
		var mask [36]uint16
		for k := range idx {
			y, x := rng.IntN(h-5), rng.IntN(w-5)
			idx[k] = int32(y*w + x)
		}
		for i := range mask {
			mask[i] = uint16(rng.Uint32())
		}
		if iter == 0 {
			mask = [36]uint16{}
		}
		if iter == 1 {
			for i := range mask {
				mask[i] = 0xffff
			}
		}
		vs := 16*3 + 5 + iter%7
		got := make([]float32, 35*vs+16+8)
		want := make([]float32, len(got))
		for i := range got {
			got[i], want[i] = float32(math.NaN()), float32(math.NaN())
		}
		inputF4x16(got, vs, src, w, &idx, &mask)
		inputF4x16Go(want, vs, src, w, &idx, &mask)
		for i := range got {
			g, e := got[i], want[i]
			if (g != g) != (e != e) || (e == e && math.Abs(float64(g-e)) > 2e-5) {
				t.Fatalf("input iter %d: v[%d] = %v, want %v", iter, i, g, e)
			}
		}

		// Output kernel: M from the input result (NaN-free region).
		ms := vs
		m := make([]float32, 35*ms+16)
		for i := range m {
			m[i] = rng.Float32()*2 - 1
		}
		const ow = 29
		dg := make([]float32, ow*24)
		dw := make([]float32, len(dg))
		for i := range dg {
			dg[i], dw[i] = -7, -7
		}
		var oidx [16]int32
		var omask [16]uint16
		perm := rng.Perm(5 * 7)
		for k := range oidx {
			ty, tx := perm[k]/7, perm[k]%7 // distinct tiles: no overlapping writes
			oidx[k] = int32(ty*4*ow + tx*4)
		}
		for i := range omask {
			omask[i] = uint16(rng.Uint32())
		}
		bias, lo := rng.Float32()-0.5, float32(0)
		if iter%2 == 1 {
			lo = float32(math.Inf(-1))
		}
		outputF4x16(dg, ow, m, ms, &oidx, &omask, bias, lo)
		outputF4x16Go(dw, ow, m, ms, &oidx, &omask, bias, lo)
		for i := range dg {
			if math.Abs(float64(dg[i]-dw[i])) > 1e-4 {
				t.Fatalf("output iter %d: dst[%d] = %v, want %v", iter, i, dg[i], dw[i])
			}
		}
	}
}

// TestRowKernels checks the contiguous-row kernels (16 consecutive full
// tiles, permutes instead of gathers) against the Go reference with the
// equivalent offsets and full masks; tolerances as in TestGroupKernels.
func TestRowKernels(t *testing.T) {
	if !haveGroupKernels() {
		t.Skip("no AVX-512 group kernels on this CPU/build")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for iter := 0; iter < 50; iter++ {
		w := 66 + iter%9
		src := make([]float32, w*7+3)
		for i := range src {
			src[i] = rng.Float32()*2 - 1
		}
		base := iter % (w - 65)
		vs := 16*2 + 3 + iter%5
		got := make([]float32, 35*vs+16+8)
		want := make([]float32, len(got))
		for i := range got {
			got[i], want[i] = float32(math.NaN()), float32(math.NaN())
		}
		inputF4x16Row(got, vs, src[base:], w)
		inputF4x16Go(want, vs, src[base:], w, &rowIdx, &allIn)
		for i := range got {
			g, e := got[i], want[i]
			if (g != g) != (e != e) || (e == e && math.Abs(float64(g-e)) > 2e-5) {
				t.Fatalf("input iter %d: v[%d] = %v, want %v", iter, i, g, e)
			}
		}

		ms := vs
		m := make([]float32, 35*ms+16)
		for i := range m {
			m[i] = rng.Float32()*2 - 1
		}
		ow := w
		dg := make([]float32, ow*5)
		dw := make([]float32, len(dg))
		for i := range dg {
			dg[i], dw[i] = -7, -7
		}
		bias, lo := rng.Float32()-0.5, float32(0)
		if iter%2 == 1 {
			lo = float32(math.Inf(-1))
		}
		outputF4x16Row(dg[base:], ow, m, ms, bias, lo)
		outputF4x16Go(dw[base:], ow, m, ms, &rowIdx, &allOut, bias, lo)
		for i := range dg {
			if math.Abs(float64(dg[i]-dw[i])) > 1e-4 {
				t.Fatalf("output iter %d: dst[%d] = %v, want %v", iter, i, dg[i], dw[i])
			}
		}
	}
}

// TestGemm8xN checks the micro-kernel (n = 16, 32; dispatched and Go)
// against a float64 dot product (independent of gemm8xNGo) on random data
// with padded strides and NaN guards.
func TestGemm8xN(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, n := range []int{16, 32} {
		for _, k := range []int{1, 2, 3, 17, 64, 301} {
			ldv, ldm := n+k%5, n+3
			u := make([]float32, 8*k)
			v := make([]float32, (k-1)*ldv+n)
			for i := range u {
				u[i] = rng.Float32()*2 - 1
			}
			for i := range v {
				v[i] = rng.Float32()*2 - 1
			}
			for _, impl := range []struct {
				name string
				f    func(n, k int, u, v []float32, ldv int, m []float32, ldm int)
			}{{"dispatch", gemm8xN}, {"go", gemm8xNGo}} {
				m := make([]float32, 7*ldm+n+3)
				for i := range m {
					m[i] = float32(math.NaN())
				}
				impl.f(n, k, u, v, ldv, m, ldm)
				for i := 0; i < 8; i++ {
					for tt := 0; tt < n; tt++ {
						var want float64
						for p := 0; p < k; p++ {
							want += float64(u[p*8+i]) * float64(v[p*ldv+tt])
						}
						// float32 accumulation of k products of U(-1,1) values.
						if got := float64(m[i*ldm+tt]); math.Abs(got-want) > 1e-6*float64(k)+1e-6 {
							t.Fatalf("%s n=%d k=%d: m[%d][%d] = %v, want %v", impl.name, n, k, i, tt, got, want)
						}
					}
					for j := i*ldm + n; j < (i+1)*ldm && j < len(m); j++ {
						if m[j] == m[j] {
							t.Fatalf("%s n=%d k=%d: wrote outside the tile at %d", impl.name, n, k, j)
						}
					}
				}
			}
		}
	}
}

// TestGemmCol checks the last-columns kernel against a float64 dot
// product, and that it gives exactly the bits gemm8xN gives for the same
// column (a tile's result must not depend on whether it ends up in a
// block's tail), for 1 to 19 panels (partial groups of 8), with padded
// strides and NaN guards around every stored element.
func TestGemmCol(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	for _, np := range []int{1, 2, 3, 7, 8, 9, 16, 19} {
		for _, k := range []int{1, 2, 17, 301} {
			us := 8*k + 5 // panels not adjacent
			ldv, ldm := 16+k%3, 19
			u := make([]float32, (np-1)*us+8*k)
			v := make([]float32, (k-1)*ldv+16)
			for i := range u {
				u[i] = rng.Float32()*2 - 1
			}
			for i := range v {
				v[i] = rng.Float32()*2 - 1
			}
			const col = 5 // the column of v used
			// Reference bits: gemm8xN on all 16 columns, panel by panel.
			ref := make([]float32, 8*ldm)
			for _, impl := range []struct {
				name string
				f    func(np, k int, u []float32, us int, v []float32, ldv int, m []float32, ldm int)
			}{{"dispatch", gemmCol}, {"go", gemmColGo}} {
				m := make([]float32, 8*np*ldm)
				for i := range m {
					m[i] = float32(math.NaN())
				}
				impl.f(np, k, u, us, v[col:], ldv, m, ldm)
				for q := 0; q < np; q++ {
					up := u[q*us : q*us+8*k]
					if impl.name == "dispatch" {
						gemm8xN(16, k, up, v, ldv, ref, ldm)
					} else {
						gemm8xNGo(16, k, up, v, ldv, ref, ldm)
					}
					for i := 0; i < 8; i++ {
						var want float64
						for p := 0; p < k; p++ {
							want += float64(up[p*8+i]) * float64(v[p*ldv+col])
						}
						got := m[(8*q+i)*ldm]
						// float32 accumulation of k products of U(-1,1) values.
						if math.Abs(float64(got)-want) > 1e-6*float64(k)+1e-6 {
							t.Fatalf("%s np=%d k=%d: panel %d row %d = %v, want %v", impl.name, np, k, q, i, got, want)
						}
						if math.Float32bits(got) != math.Float32bits(ref[i*ldm+col]) {
							t.Fatalf("%s np=%d k=%d: panel %d row %d = %v, gemm8xN gives %v", impl.name, np, k, q, i, got, ref[i*ldm+col])
						}
					}
				}
				for j := range m {
					if j%ldm != 0 && m[j] == m[j] {
						t.Fatalf("%s np=%d k=%d: wrote outside the column at %d", impl.name, np, k, j)
					}
				}
			}
		}
	}
}
