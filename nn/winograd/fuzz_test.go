package winograd_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/preconv/preconv/internal/cpu"
	"github.com/preconv/preconv/nn/winograd"
)

// FuzzConvPaths runs Conv on fuzzer-chosen shapes, padding and block sizes
// through the dispatched kernels (AVX-512 group kernels and packed GEMM where
// available), with guards around dst, and compares the result with the
// per-tile Go path (AVX-512 disabled) and with the float64 reference.
// Property: no panic, guards intact, both paths within 2e-5 of refConv,
// relative to max |ref| or, where the output cancels (tiny shapes that
// see mostly padding), to the largest Σ|w|·|x|+|b| of an output (the scale
// Winograd's rounding error is proportional to; see magnitudeScale).
func FuzzConvPaths(f *testing.F) {
	f.Add(uint64(1), uint8(1), uint8(3), uint8(5), uint8(9), uint8(70), uint8(0x55), uint8(0), false)
	f.Add(uint64(2), uint8(2), uint8(17), uint8(16), uint8(12), uint8(67), uint8(0x11), uint8(16), true)
	f.Add(uint64(3), uint8(3), uint8(1), uint8(1), uint8(1), uint8(3), uint8(0x00), uint8(3), false)
	f.Add(uint64(4), uint8(1), uint8(8), uint8(33), uint8(30), uint8(30), uint8(0x9c), uint8(40), true)
	f.Fuzz(func(t *testing.T, seed uint64, n, cin, cout, h, w, pads, bt uint8, relu bool) {
		c := convCase{
			n: 1 + int(n)%3, cin: 1 + int(cin)%24, cout: 1 + int(cout)%40,
			h: 1 + int(h)%40, w: 1 + int(w)%140,
			pt: int(pads) & 3, pl: int(pads) >> 2 & 3, pb: int(pads) >> 4 & 3, pr: int(pads) >> 6 & 3,
			bias: seed%2 == 0, relu: relu, threads: 1 + int(seed>>1)%3,
		}
		if c.h+c.pt+c.pb < 3 || c.w+c.pl+c.pr < 3 {
			return
		}
		blockTiles := int(bt) % 70
		rng := rand.New(rand.NewPCG(seed, 99))
		e := runCase(t, rng, c, winograd.F4x4, blockTiles) * magnitudeScale(c, seed)
		if e > 2e-5 || math.IsNaN(e) {
			t.Fatalf("%v bt=%d: dispatched path rel err %.3g", c, blockTiles, e)
		}
		if cpu.HasAVX512() {
			defer cpu.DisableAVX512()()
			rng = rand.New(rand.NewPCG(seed, 99))
			if e := runCase(t, rng, c, winograd.F4x4, blockTiles) * magnitudeScale(c, seed); e > 2e-5 || math.IsNaN(e) {
				t.Fatalf("%v bt=%d: Go path rel err %.3g", c, blockTiles, e)
			}
		}
	})
}

// magnitudeScale returns max|ref| / max(max|ref|, max_out Σ|w|·|x|+|b|) for
// the data runCase draws for c from seed (same generator, same order), so
// that runCase's error relative to max|ref| times it is the error relative
// to the larger of the two. It is 1 unless the output cancels.
func magnitudeScale(c convCase, seed uint64) float64 {
	rng := rand.New(rand.NewPCG(seed, 99))
	x := to64(uniform(rng, c.n*c.cin*c.h*c.w, -1, 1))
	wts := to64(uniform(rng, c.cout*c.cin*9, -1, 1))
	var bias []float64
	if c.bias {
		bias = to64(uniform(rng, c.cout, -1, 1))
	}
	ref := refConv(x, c.n, c.cin, c.h, c.w, wts, c.cout, bias, c.pt, c.pl, c.pb, c.pr, c.relu)
	for _, s := range [][]float64{x, wts, bias} {
		for i := range s {
			s[i] = math.Abs(s[i])
		}
	}
	mag := refConv(x, c.n, c.cin, c.h, c.w, wts, c.cout, bias, c.pt, c.pl, c.pb, c.pr, false)
	var r, m float64
	for i := range ref {
		r, m = math.Max(r, math.Abs(ref[i])), math.Max(m, mag[i])
	}
	if r == 0 || m <= r {
		return 1
	}
	return r / m
}
