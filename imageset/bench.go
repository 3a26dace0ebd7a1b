package imageset

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/preconv/preconv/internal/cputime"
)

// PreprocessBench is one measurement of BenchPreprocess.
type PreprocessBench struct {
	Files      int     `json:"files"`
	Workers    int     `json:"workers"`
	Images     int     `json:"images"`
	Seconds    float64 `json:"seconds"`
	ImagesPerS float64 `json:"images_per_s"`
	// PerCore is ImagesPerS / Workers.
	PerCore float64 `json:"images_per_s_per_core"`
	// CPUSeconds is the process CPU time spent in the timed loop (0 where
	// the platform does not report it).
	CPUSeconds float64 `json:"cpu_seconds"`
}

// BenchPreprocess decodes and preprocesses files (read from disk each time,
// as a dataset pass does) round-robin on workers goroutines for about d,
// after one untimed pass, and reports images per second. Every file must
// decode: the first error is returned.
func BenchPreprocess(ctx context.Context, files []string, p Preprocess, workers int, d time.Duration) (*PreprocessBench, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("bench preprocess: no files")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	os := p.OutShape()
	if os[1] == 0 {
		return nil, fmt.Errorf("bench preprocess: preprocess %q has no fixed output size: %w", p.Name, ErrPreprocess)
	}
	workers = max(workers, 1)
	// The loader's path (reused file buffer and planes).
	one := func(f string, dst []float32, s *scratch) error { return loadOne(f, p, 0, dst, s) }
	warm := make([]float32, os[0]*os[1]*os[2])
	for _, f := range files {
		if err := one(f, warm, &scratch{}); err != nil {
			return nil, err
		}
	}
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	deadline := time.Now().Add(d)
	c0 := cputime.Process()
	t0 := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dst := make([]float32, len(warm))
			s := &scratch{}
			for ctx.Err() == nil && time.Now().Before(deadline) {
				i := next.Add(1) - 1
				if err := one(files[int(i)%len(files)], dst, s); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(t0).Seconds()
	cpu := (cputime.Process() - c0).Seconds()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := int(next.Load())
	r := &PreprocessBench{Files: len(files), Workers: workers, Images: n, Seconds: el, ImagesPerS: float64(n) / el, CPUSeconds: cpu}
	r.PerCore = r.ImagesPerS / float64(workers)
	return r, nil
}
