// Package gemmbench measures SGEMM backends on network GEMM shapes,
// interleaving the backends so that both see the same machine load (the
// numbers are meant as ratios on shared, noisy machines). It backs
// `preconv bench gemm` and the package benchmarks.
package gemmbench

import (
	"context"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/preconv/preconv/gemm"
	"github.com/preconv/preconv/gemm/gemmtest"
)

// Config says what to measure. Zero values are documented defaults.
type Config struct {
	Shapes  []gemmtest.Shape // default gemmtest.VGG16
	Threads []int            // default {1, 2}
	// MinTime is the least time spent per backend, shape and thread count
	// (default 300ms); Rounds interleaved rounds split it (default 5), and
	// the best round counts.
	MinTime time.Duration
	Rounds  int
}

// Result is one shape at one thread count: GFLOP/s for each backend, in the
// order the backends were given (the best of the interleaved rounds).
type Result struct {
	Shape   gemmtest.Shape
	Threads int
	GFLOPS  []float64
}

// Run measures each backend on each shape and thread count, alternating
// backends round by round. Single-thread figures use the thread's CPU time
// (Linux), so they hold up on a busy machine; multi-thread figures are wall
// time and vary with load. It stops early with ctx's error.
func Run(ctx context.Context, cfg Config, backends ...gemm.Backend) ([]Result, error) {
	if len(cfg.Shapes) == 0 {
		cfg.Shapes = gemmtest.VGG16
	}
	if len(cfg.Threads) == 0 {
		cfg.Threads = []int{1, 2}
	}
	if cfg.MinTime <= 0 {
		cfg.MinTime = 300 * time.Millisecond
	}
	if cfg.Rounds <= 0 {
		cfg.Rounds = 5
	}
	rng := rand.New(rand.NewPCG(1, 1))
	var out []Result
	for _, s := range cfg.Shapes {
		a := randSlice(rng, s.M*s.K) // same size either way round
		b := randSlice(rng, s.K*s.N)
		c := make([]float32, s.M*s.N)
		for _, th := range cfg.Threads {
			r := Result{Shape: s, Threads: th, GFLOPS: make([]float64, len(backends))}
			per := cfg.MinTime / time.Duration(cfg.Rounds)
			for round := 0; round < cfg.Rounds; round++ {
				for i, be := range backends {
					if err := ctx.Err(); err != nil {
						return out, err
					}
					g := measure(per, s, th, be, a, b, c)
					r.GFLOPS[i] = max(r.GFLOPS[i], g)
				}
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// measure runs be on s for at least d (at least one call after a warm-up
// call) and returns GFLOP/s. With one thread (and on Linux) the time is the
// calling thread's CPU time, which does not count time spent waiting for a
// busy shared CPU; with more threads it is wall time.
func measure(d time.Duration, s gemmtest.Shape, threads int, be gemm.Backend, a, b, c []float32) float64 {
	if threads <= 1 {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	call := func() {
		lda, ldb, ldc := s.LDs()
		be.SgemmParallel(threads, s.TransA, s.TransB, s.M, s.N, s.K, 1, a, lda, b, ldb, 0, c, ldc)
	}
	call()
	n := 0
	start := time.Now()
	cpu0, cpuOK := threadCPU()
	for n == 0 || time.Since(start) < d {
		call()
		n++
	}
	el := time.Since(start)
	if cpu1, ok := threadCPU(); threads <= 1 && cpuOK && ok && cpu1 > cpu0 {
		el = cpu1 - cpu0
	}
	return s.FLOPs() * float64(n) / el.Seconds() / 1e9
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}
