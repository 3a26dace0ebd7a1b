package openblas_test

import (
	"errors"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/preconv/preconv/gemm"
	"github.com/preconv/preconv/gemm/gemmtest"
	"github.com/preconv/preconv/gemm/openblas"
)

func open(t *testing.T) *openblas.Lib {
	t.Helper()
	l, err := openblas.Open("")
	if err != nil {
		t.Skipf("OpenBLAS not installed (Debian libopenblas0-pthread): %v", err)
	}
	t.Logf("%s from %s", l.Name(), l.Path())
	return l
}

func TestConformance(t *testing.T) {
	l := open(t)
	gemmtest.TestSgemm(t, l.Sgemm)
	gemmtest.TestSgemm(t, func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		l.SgemmParallel(2, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	})
}

func TestOpenMissing(t *testing.T) {
	_, err := openblas.Open("/nonexistent/libopenblas.so.0")
	if !errors.Is(err, openblas.ErrNotFound) {
		t.Fatalf("Open(missing) = %v, want ErrNotFound", err)
	}
}

func TestSelect(t *testing.T) {
	b, err := openblas.Select("", "")
	if err != nil || b.Name() != (gemm.Native{}).Name() {
		t.Fatalf("Select(\"\") = %v, %v; want native", b, err)
	}
	if _, err := openblas.Select("mkl", ""); !errors.Is(err, openblas.ErrUnknownBackend) {
		t.Fatalf("Select(mkl) = %v, want ErrUnknownBackend", err)
	}
	if _, err := openblas.Select("openblas", "/nonexistent.so"); !errors.Is(err, openblas.ErrNotFound) {
		t.Fatalf("Select(openblas, missing) = %v, want ErrNotFound", err)
	}
}

// TestVGG16Shapes checks OpenBLAS on the full-size VGG16 GEMMs (sampled
// against float64 dot products); PRECONV_HEAVY=1 only.
func TestVGG16Shapes(t *testing.T) {
	if os.Getenv("PRECONV_HEAVY") == "" {
		t.Skip("set PRECONV_HEAVY=1 for full-size shapes")
	}
	l := open(t)
	rng := rand.New(rand.NewPCG(7, 8))
	for _, s := range append(append([]gemmtest.Shape(nil), gemmtest.VGG16...), gemmtest.VGG16Linear...) {
		if err := gemmtest.CheckShape(l.Sgemm, s, 100, rng); err != nil {
			t.Error(err)
		}
	}
}
