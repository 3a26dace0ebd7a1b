package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/preconv/preconv/internal/cpu"
)

// TestMax2x2 checks the 2×2 stride-2 max kernel against the definition
// (float64 comparisons, NaN if any input is NaN) for lengths around the
// vector size, with a NaN or ±Inf planted in each of the four window
// positions, rows exactly 2n long and a guard after dst.
func TestMax2x2(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	for n := 0; n <= 70; n++ {
		for trial := 0; trial < 6; trial++ {
			r0 := make([]float32, 2*n)
			r1 := make([]float32, 2*n)
			for i := range r0 {
				r0[i], r1[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			}
			if n > 0 {
				j := rng.IntN(n)
				special := []float32{nan, inf, -inf}[trial%3]
				switch trial % 4 {
				case 0:
					r0[2*j] = special
				case 1:
					r0[2*j+1] = special
				case 2:
					r1[2*j] = special
				case 3:
					r1[2*j+1] = special
				}
			}
			for _, disable := range []func() func(){func() func() { return func() {} }, cpu.DisableAVX512} {
				dst := make([]float32, n+1)
				dst[n] = 7
				restore := disable()
				max2x2(dst[:n], r0, r1)
				restore()
				for j := 0; j < n; j++ {
					want := math.Inf(-1)
					isNaN := false
					for _, v := range []float32{r0[2*j], r0[2*j+1], r1[2*j], r1[2*j+1]} {
						isNaN = isNaN || v != v
						want = math.Max(want, float64(v))
					}
					got := dst[j]
					if isNaN != (got != got) || (!isNaN && float64(got) != want) {
						t.Fatalf("n %d trial %d: dst[%d] = %g, want %g (NaN %v)", n, trial, j, got, want, isNaN)
					}
				}
				if dst[n] != 7 {
					t.Fatalf("n %d: guard overwritten", n)
				}
			}
		}
	}
}
