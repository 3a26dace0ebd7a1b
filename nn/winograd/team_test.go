package winograd_test

import (
	"math/rand/v2"
	"testing"

	"github.com/preconv/preconv/internal/cpu"
	"github.com/preconv/preconv/nn/winograd"
)

// TestConvTeam covers the team path (fewer blocks than threads: the
// threads split one block's input transform by channel chunks, its GEMMs
// by position ξ and its output transform by output-channel chunks) against
// the float64 direct convolution: channel counts below, at and past the
// 32-channel chunk (odd, not multiples of 8), batch 1 and 3, one block or
// two blocks on three threads, 1, 2 and 3 threads, both variants, with and
// without the AVX-512 kernels.
func TestConvTeam(t *testing.T) {
	t.Run(cpu.Summary(), testConvTeam)
	if cpu.HasAVX512() {
		t.Run("noavx512", func(t *testing.T) {
			defer cpu.DisableAVX512()()
			testConvTeam(t)
		})
	}
}

func testConvTeam(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	shapes := []struct{ n, cin, cout, h, w int }{
		{1, 70, 97, 14, 14}, // VGG16 conv5-like map, 3 input and 4 output chunks
		{1, 33, 31, 28, 9},
		{3, 5, 65, 11, 13}, // one input chunk, several images in one block
		{3, 97, 40, 7, 6},
	}
	for _, v := range []winograd.Variant{winograd.F4x4, winograd.F2x2} {
		for _, sh := range shapes {
			for _, threads := range []int{1, 2, 3} {
				for _, bt := range []int{1024, 0} {
					c := convCase{n: sh.n, cin: sh.cin, cout: sh.cout, h: sh.h, w: sh.w,
						pt: 1, pl: 1, pb: 1, pr: 1, bias: true, relu: threads != 2, threads: threads}
					if bt == 0 {
						// Two blocks: the team path on 3 threads, one
						// block per thread on 2.
						m := 4
						if v == winograd.F2x2 {
							m = 2
						}
						bt = (c.n*((c.h+m-1)/m)*((c.w+m-1)/m) + 1) / 2
					}
					e := runCase(t, rng, c, v, bt)
					// Same bound and source as TestConvSmall (these
					// channel counts, up to 97, measured 1.2e-6 at most).
					if e > 2e-5 {
						t.Errorf("%v %v bt=%d: rel err %.3g > 2e-5", v, c, bt, e)
					}
				}
			}
		}
	}
}

// TestConvTeamMatchesSerial: the team path computes every output element
// with the same operations in the same order as one thread does, and a
// tile's result does not depend on the block it falls in (block sizes
// change with the thread count and BlockTiles; a block's last columns may
// go through the one-column kernel), so the results are bit-identical for
// any thread count and BlockTiles.
func TestConvTeamMatchesSerial(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	const n, cin, cout, h, w = 2, 45, 67, 26, 26 // 2×7×7 = 98 tiles: blocks of 98 or 49 have 2 or 1 tail columns
	x := uniform(rng, n*cin*h*w, -1, 1)
	wts := uniform(rng, cout*cin*9, -1, 1)
	bias := uniform(rng, cout, -1, 1)
	want := make([]float32, n*cout*h*w)
	wt := winograd.PrepareWeights(wts, cout, cin)
	wt.BlockTiles = 1024
	winograd.Conv(want, x, n, cin, h, w, wt, bias, 1, 1, 1, 1, true, 1)
	for _, bt := range []int{1024, 64, 49, 17, 5} {
		wt := winograd.PrepareWeights(wts, cout, cin)
		wt.BlockTiles = bt
		for _, threads := range []int{1, 2, 3, 4} {
			got := make([]float32, len(want))
			winograd.Conv(got, x, n, cin, h, w, wt, bias, 1, 1, 1, 1, true, threads)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("BlockTiles %d threads %d: dst[%d] = %g, one block on one thread gives %g", bt, threads, i, got[i], want[i])
				}
			}
		}
	}
}
