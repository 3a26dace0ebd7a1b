package winograd

import (
	"runtime"
	"testing"
)

// Conv keeps its scratch buffers between calls, across garbage collections
// (no per-call allocation of megabytes once warm).
func TestConvReusesScratch(t *testing.T) {
	const n, cin, cout, h = 1, 64, 64, 28
	w := make([]float32, cout*cin*9)
	for i := range w {
		w[i] = float32(i%7) * 0.01
	}
	wt := PrepareWeights(w, cout, cin)
	x := make([]float32, n*cin*h*h)
	dst := make([]float32, n*cout*h*h)
	for _, threads := range []int{1, 2} {
		Conv(dst, x, n, cin, h, h, wt, nil, 1, 1, 1, 1, true, threads)
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		const calls = 20
		for i := 0; i < calls; i++ {
			runtime.GC() // two collections empty a sync.Pool (and its victim cache)
			runtime.GC()
			Conv(dst, x, n, cin, h, h, wt, nil, 1, 1, 1, 1, true, threads)
		}
		runtime.ReadMemStats(&m1)
		// Goroutines and closures take up to ~100 KB; one scratch is
		// wt.ScratchBytes() (here ~2 MB), allocated per call and worker when
		// buffers are not kept.
		if per := (m1.TotalAlloc - m0.TotalAlloc) / calls; per > uint64(wt.ScratchBytes()/2) {
			t.Errorf("threads %d: %d bytes allocated per warm Conv call (scratch %d bytes)", threads, per, wt.ScratchBytes())
		}
	}
}
