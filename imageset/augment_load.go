package imageset

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"sync"
	"time"
)

// View is one row of an augmented extraction: view K of items[Item], whose
// content key (ViewKey) is Key and seeds its random draws. View 0 is the
// un-augmented preprocessing.
type View struct {
	Item int
	K    int
	Key  string
}

// LoadViews is Load for augmented views: each view's image is decoded,
// augmented with a (views with K > 0; view 0 is the plain preprocessing,
// byte-identical to Load) and preprocessed. Batch.Index holds positions in
// views. Batches come in order and are identical for any worker count and
// any batch size (each view's pixels depend only on its image, a and its
// key). Errors and cancellation behave as in Load.
func LoadViews(ctx context.Context, items []Item, views []View, pre Preprocess, a Augment, opts LoadOptions) iter.Seq2[*Batch, error] {
	return func(yield func(*Batch, error) bool) {
		if err := pre.Validate(); err != nil {
			yield(nil, err)
			return
		}
		shape := pre.OutShape()
		if shape[1] == 0 {
			yield(nil, fmt.Errorf("preprocess %q has no fixed output size (set a crop): %w", pre.Name, ErrPreprocess))
			return
		}
		for _, v := range views {
			if v.Item < 0 || v.Item >= len(items) || v.K < 0 {
				panic(fmt.Sprintf("imageset: LoadViews: view %+v outside %d items", v, len(items)))
			}
		}
		if opts.Batch <= 0 {
			opts.Batch = 32
		}
		if opts.Workers <= 0 {
			opts.Workers = runtime.NumCPU()
		}
		if opts.Prefetch <= 0 {
			opts.Prefetch = 2
		}
		per := shape[0] * shape[1] * shape[2]
		n := len(views)
		ctx, cancel := context.WithCancel(ctx)
		type job struct {
			st  *batchState
			pos int
		}
		jobs := make(chan job, opts.Batch)
		ready := make(chan *batchState, opts.Prefetch)
		var wg sync.WaitGroup
		defer func() {
			cancel()
			wg.Wait()
		}()
		for w := 0; w < opts.Workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := &scratch{}
				for j := range jobs {
					if ctx.Err() == nil {
						v := views[j.st.start+j.pos]
						j.st.errs[j.pos] = loadView(items[v.Item].Path, v, pre, a, opts.MaxPixels, j.st.x[j.pos*per:(j.pos+1)*per], s)
					}
					j.st.wg.Done()
				}
			}()
		}
		wg.Add(1)
		go func() { // dispatcher: ready's capacity bounds the batches ahead
			defer wg.Done()
			defer close(jobs)
			defer close(ready)
			for start := 0; start < n; start += opts.Batch {
				m := min(opts.Batch, n-start)
				st := &batchState{start: start, n: m, x: make([]float32, m*per), errs: make([]error, m)}
				st.wg.Add(m)
				select {
				case ready <- st:
				case <-ctx.Done():
					return
				}
				for p := 0; p < m; p++ {
					select {
					case jobs <- job{st, p}:
					case <-ctx.Done():
						st.wg.Add(p - m)
						return
					}
				}
			}
		}()
		// Items seen by assemble: one per view, so Labels and error paths
		// come from the view's image.
		vitems := make([]Item, n)
		for i, v := range views {
			vitems[i] = items[v.Item]
		}
		t0 := time.Now()
		done := 0
		for st := range ready {
			st.wg.Wait()
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			bt := st.assemble(vitems, shape)
			done += st.n
			if opts.Progress != nil {
				el := time.Since(t0).Seconds()
				rate := float64(done) / max(el, 1e-9)
				opts.Progress(done, n, rate, time.Duration(float64(n-done)/max(rate, 1e-9)*float64(time.Second)))
			}
			if !yield(bt, nil) {
				return
			}
		}
		if err := ctx.Err(); err != nil {
			yield(nil, err)
		}
	}
}

// loadView decodes, augments (K > 0) and preprocesses one view into dst.
// Errors are *ItemError.
func loadView(path string, v View, pre Preprocess, a Augment, maxPixels int64, dst []float32, s *scratch) (err error) {
	if v.K == 0 || a.IsZero() {
		return loadOne(path, pre, maxPixels, dst, s)
	}
	defer func() {
		if p := recover(); p != nil {
			err = &ItemError{Path: path, Err: fmt.Errorf("%w: panic: %v", ErrCorrupt, p)}
		}
	}()
	img, err := decodePath(path, maxPixels)
	if err != nil {
		return &ItemError{Path: path, Err: err}
	}
	img, err = AugmentImage(img, a, v.Key)
	if err != nil {
		return &ItemError{Path: path, Err: err}
	}
	if err := pre.apply(img, dst, s); err != nil {
		var ie *ItemError
		if errors.As(err, &ie) {
			return ie
		}
		return &ItemError{Path: path, Err: err}
	}
	return nil
}
