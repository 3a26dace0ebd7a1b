package gemm

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/preconv/preconv/gemm/gemmtest"
)

// TestTune compares blockings of the kernels on the VGG16 shapes, interleaved;
// PRECONV_GEMMTUNE=1 only (a development aid, prints a table).
func TestTune(t *testing.T) {
	if os.Getenv("PRECONV_GEMMTUNE") == "" {
		t.Skip("set PRECONV_GEMMTUNE=1")
	}
	var cands []kernel
	for _, kn := range allKernels() {
		if kn.mr*kn.nr < 256 {
			continue
		}
		for _, kc := range []int{128, 256, 384} {
			for _, jo := range []bool{false, true} {
				for _, nc := range []int{kn.nr * 8, kn.nr * 32} {
					k := kn
					k.kc, k.jrOuter, k.nc = kc, jo, nc
					k.mc = roundUp(512, k.mr)
					k.name = fmt.Sprintf("%s/kc%d/nc%d/jo%v", kn.name, kc, nc, jo)
					cands = append(cands, k)
				}
			}
		}
	}
	for _, s := range gemmtest.VGG16[1:] {
		a := make([]float32, s.M*s.K)
		b := make([]float32, s.K*s.N)
		c := make([]float32, s.M*s.N)
		best := make([]float64, len(cands))
		for round := 0; round < 2; round++ {
			for i, kn := range cands {
				p := problem{m: s.M, n: s.N, k: s.K, alpha: 1, a: a, lda: s.K, b: b, ldb: s.N, c: c, ldc: s.N}
				run(kn, p)
				n := 0
				st := time.Now()
				for time.Since(st) < 60*time.Millisecond {
					run(kn, p)
					n++
				}
				best[i] = max(best[i], s.FLOPs()*float64(n)/time.Since(st).Seconds()/1e9)
			}
		}
		for i, kn := range cands {
			t.Logf("%-24s %-40s %6.1f", s.Name, kn.name, best[i])
		}
	}
}
