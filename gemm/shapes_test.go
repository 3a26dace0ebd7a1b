package gemm_test

import (
	"math/rand/v2"
	"os"
	"testing"

	"github.com/preconv/preconv/gemm"
	"github.com/preconv/preconv/gemm/gemmtest"
)

// TestNetworkShapes checks full-size VGG16 conv and classifier GEMMs
// (sampled against float64 dot products). The default tier runs a few
// shapes on the best kernel; PRECONV_HEAVY=1 runs all of them on every
// kernel path, serial and with 2 threads (about a minute on 2 cores).
func TestNetworkShapes(t *testing.T) {
	all := append(append([]gemmtest.Shape(nil), gemmtest.VGG16...), gemmtest.VGG16Linear...)
	heavy := os.Getenv("PRECONV_HEAVY") != ""
	check := func(t *testing.T, shapes []gemmtest.Shape) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, s := range shapes {
			for _, th := range []int{1, 2} {
				fn := func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
					gemm.SgemmParallel(th, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
				}
				if err := gemmtest.CheckShape(fn, s, 200, rng); err != nil {
					t.Errorf("threads %d, kernel %s: %v", th, gemm.Kernel(), err)
				}
			}
		}
	}
	if !heavy {
		var few []gemmtest.Shape
		for _, s := range all {
			if s.Name == "conv1_1" || s.Name == "conv5_x" || s.Name == "fc7_b8" {
				few = append(few, s)
			}
		}
		check(t, few)
		return
	}
	paths(t, func(t *testing.T) {
		if gemm.Kernel() == "generic4x8" {
			// The portable kernel is ~100× slower: check the smaller shapes.
			var small []gemmtest.Shape
			for _, s := range all {
				if s.FLOPs() < 2e9 {
					small = append(small, s)
				}
			}
			check(t, small)
			return
		}
		check(t, all)
	})
}
