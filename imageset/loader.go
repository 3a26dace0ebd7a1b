package imageset

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"iter"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/preconv/preconv/tensor"

	"github.com/preconv/preconv/imageset/internal/jpegdec"
)

// LoadOptions configures Load. Zero values are the documented defaults.
type LoadOptions struct {
	Batch     int   // items per batch; default 32
	Workers   int   // decoding goroutines; default runtime.NumCPU()
	Prefetch  int   // batches decoded ahead of the consumer; default 2
	MaxPixels int64 // decompression-bomb limit per image; default DefaultMaxPixels
	// Progress, if set, is called from the consumer's goroutine after each
	// batch with the items done so far, the total, the rate in items/s since
	// the start, and an ETA.
	Progress func(done, total int, rate float64, eta time.Duration)
}

// Batch is one batch of loaded items.
type Batch struct {
	// Index holds the positions in items of the good items, in order; row i
	// of X is items[Index[i]].
	Index []int
	// Labels are items[Index[i]].Label.
	Labels []int
	// X is [len(Index), C, H, W] (C, H, W from Preprocess.OutShape). The
	// caller owns it; the loader never reuses it.
	X *tensor.Tensor
	// Errors are the items of this batch that failed, in order.
	Errors []*ItemError
}

// Load decodes and preprocesses items in batches of opts.Batch consecutive
// items (the last may be shorter), using opts.Workers goroutines. Batches
// come in item order and are byte-for-byte identical for any worker count.
// At most opts.Prefetch batches are decoded ahead, so memory is bounded by
// about (Prefetch+1)·Batch·C·H·W floats plus one decoded image per worker.
//
// Items that fail (unreadable, not an image, corrupt, too large) are left
// out of X and reported in Batch.Errors; the loader keeps going. The
// iteration yields a non-nil error only for a bad Preprocess (first and only
// value) or when ctx is cancelled (last value, ctx.Err()). Breaking out of
// the loop stops the workers.
func Load(ctx context.Context, items []Item, pre Preprocess, opts LoadOptions) iter.Seq2[*Batch, error] {
	return pipeline(ctx, items, pre, opts, func(pos int, dst []float32, s *scratch) error {
		return loadOne(items[pos].Path, pre, opts.MaxPixels, dst, s)
	})
}

// pipeline is the parallel loader behind Load and LoadViews: position pos
// of items (the item whose label and path a row reports) is filled by
// load(pos, dst, s) on one of opts.Workers goroutines (s is that worker's
// scratch); batches of consecutive positions are yielded in order, at most
// opts.Prefetch ahead of the consumer.
func pipeline(ctx context.Context, items []Item, pre Preprocess, opts LoadOptions, load func(pos int, dst []float32, s *scratch) error) iter.Seq2[*Batch, error] {
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
		n := len(items)
		nb := (n + opts.Batch - 1) / opts.Batch

		ctx, cancel := context.WithCancel(ctx)
		type job struct {
			st  *batchState
			pos int
		}
		jobs := make(chan job, opts.Batch)
		ready := make(chan *batchState, opts.Prefetch)
		slots := make(chan struct{}, opts.Prefetch)
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
					st := j.st
					if ctx.Err() == nil {
						st.errs[j.pos] = load(st.start+j.pos, st.x[j.pos*per:(j.pos+1)*per], s)
					}
					st.wg.Done()
				}
			}()
		}
		wg.Add(1)
		go func() { // dispatcher
			defer wg.Done()
			defer close(jobs)
			defer close(ready)
			for b := 0; b < nb; b++ {
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					return
				}
				start := b * opts.Batch
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
						st.wg.Add(p - m) // the remaining jobs will never run
						return
					}
				}
			}
		}()

		t0 := time.Now()
		done := 0
		for st := range ready {
			st.wg.Wait()
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			bt := st.assemble(items, shape)
			<-slots
			done += st.n
			if opts.Progress != nil {
				el := time.Since(t0).Seconds()
				rate := float64(done) / max(el, 1e-9)
				eta := time.Duration(float64(n-done) / max(rate, 1e-9) * float64(time.Second))
				opts.Progress(done, n, rate, eta)
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

type batchState struct {
	start, n int
	x        []float32
	errs     []error
	wg       sync.WaitGroup
}

// assemble compacts the good items to the front of x and builds the Batch.
func (st *batchState) assemble(items []Item, shape [3]int) *Batch {
	per := shape[0] * shape[1] * shape[2]
	b := &Batch{}
	k := 0
	for p := 0; p < st.n; p++ {
		i := st.start + p
		if err := st.errs[p]; err != nil {
			var ie *ItemError
			if !errors.As(err, &ie) {
				ie = &ItemError{Path: items[i].Path, Err: err}
			}
			b.Errors = append(b.Errors, ie)
			continue
		}
		if k != p {
			copy(st.x[k*per:(k+1)*per], st.x[p*per:(p+1)*per])
		}
		b.Index = append(b.Index, i)
		b.Labels = append(b.Labels, items[i].Label)
		k++
	}
	b.X = tensor.FromData(st.x[:k*per:k*per], k, shape[0], shape[1], shape[2])
	return b
}

// loadOne decodes and preprocesses one file into dst. Errors are
// *ItemError.
func loadOne(path string, pre Preprocess, maxPixels int64, dst []float32, s *scratch) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &ItemError{Path: path, Err: fmt.Errorf("%w: panic: %v", ErrCorrupt, p)}
		}
	}()
	img, err := s.decodePath(path, maxPixels)
	if err != nil {
		return &ItemError{Path: path, Err: err}
	}
	if err := pre.apply(img, dst, s); err != nil {
		return &ItemError{Path: path, Err: err}
	}
	return nil
}

// decodePath is decodePath for a worker that consumes each image before it
// decodes the next: the file is read into a reused buffer and JPEGs are
// decoded into the planes of the previous one (jpegdec.Decoder.ReusePlanes),
// so that a dataset pass allocates almost nothing per image.
func (s *scratch) decodePath(path string, maxPixels int64) (image.Image, error) {
	if s.jpeg == nil {
		s.jpeg = &jpegdec.Decoder{ReusePlanes: true}
	}
	b, err := readFile(path, s.file)
	if err != nil {
		return nil, err
	}
	s.file = b
	return decodeWith(b, maxPixels, s.jpeg)
}

// decodePath is DecodeFile with errors that do not repeat the path.
func decodePath(path string, maxPixels int64) (image.Image, error) {
	b, err := readFile(path, nil)
	if err != nil {
		return nil, err
	}
	return Decode(b, maxPixels)
}

// readFile reads a regular file of at most MaxFileBytes into buf (grown as
// needed), with errors that do not repeat the path.
func readFile(path string, buf []byte) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, stripPath(err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("is a directory: %w", ErrNotFile)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w (%s)", ErrNotFile, st.Mode().Type())
	}
	if st.Size() > MaxFileBytes {
		return nil, fmt.Errorf("%d bytes, limit %d: %w", st.Size(), MaxFileBytes, ErrTooLarge)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, stripPath(err)
	}
	defer f.Close()
	// The size may change under us: read until EOF, up to the limit.
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > MaxFileBytes {
			return nil, fmt.Errorf("more than %d bytes: %w", MaxFileBytes, ErrTooLarge)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, stripPath(err)
		}
	}
}
