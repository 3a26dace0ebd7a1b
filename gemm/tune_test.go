//go:build linux

package gemm

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/preconv/preconv/gemm/gemmtest"
	"golang.org/x/sys/unix"
)

// TestTune compares blockings of the kernels on the VGG16 shapes, interleaved;
// PRECONV_GEMMTUNE=1 only (a development aid, prints a table).
func TestTune(t *testing.T) {
	if os.Getenv("PRECONV_GEMMTUNE") == "" {
		t.Skip("set PRECONV_GEMMTUNE=1")
	}
	var cands []kernel
	for _, kn := range allKernels() {
		if kn.name != pickKernel().name {
			continue
		}
		for _, kc := range []int{256, 384} {
			for _, jo := range []bool{false, true} {
				for _, pb := range []bool{false, true} {
					k := kn
					k.kc, k.jrOuter, k.packB = kc, jo, pb
					k.name = fmt.Sprintf("%s/kc%d/jo%v/pb%v", kn.name, kc, jo, pb)
					cands = append(cands, k)
				}
			}
		}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, s := range gemmtest.VGG16[1:] {
		a := make([]float32, s.M*s.K)
		b := make([]float32, s.K*s.N)
		c := make([]float32, s.M*s.N)
		best := make([]float64, len(cands))
		for round := 0; round < 3; round++ {
			for i, kn := range cands {
				p := problem{m: s.M, n: s.N, k: s.K, alpha: 1, a: a, lda: s.K, b: b, ldb: s.N, c: c, ldc: s.N}
				run(kn, p)
				n := 0
				st := time.Now()
				c0 := threadCPU()
				for time.Since(st) < 60*time.Millisecond {
					run(kn, p)
					n++
				}
				best[i] = max(best[i], s.FLOPs()*float64(n)/(threadCPU()-c0).Seconds()/1e9)
			}
		}
		for i, kn := range cands {
			t.Logf("%-24s %-40s %6.1f", s.Name, kn.name, best[i])
		}
	}
}

func threadCPU() time.Duration {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_THREAD, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
