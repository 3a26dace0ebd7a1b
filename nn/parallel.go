package nn

import (
	"sync"
	"sync/atomic"
)

// threads returns the usable goroutine count of e (at least 1).
func (e *Exec) threads() int {
	if e == nil || e.Threads < 1 {
		return 1
	}
	return e.Threads
}

// split decides how n images are spread over e's threads: outer is the
// number of goroutines working on separate images, inner the thread count
// each image's GEMM may use. Thread pools are never nested: either images
// run in parallel (inner == 1) or one image at a time uses all threads.
func (e *Exec) split(n int) (outer, inner int) {
	t := e.threads()
	if n >= t {
		return t, 1
	}
	return 1, t
}

// parallelFor calls fn(i) for i in [0, n) on up to workers goroutines.
func parallelFor(n, workers int, fn func(i int)) {
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// scratch pools float32 buffers (im2col columns) between calls.
var scratch = sync.Pool{New: func() any { return new([]float32) }}

// getScratch returns a buffer of length n from the pool (contents undefined).
func getScratch(n int) *[]float32 {
	p := scratch.Get().(*[]float32)
	if cap(*p) < n {
		*p = make([]float32, n)
	}
	*p = (*p)[:n]
	return p
}

func putScratch(p *[]float32) { scratch.Put(p) }
