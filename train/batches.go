package train

import (
	"context"
	"fmt"
	"math"

	"github.com/preconv/preconv/tensor"
)

// batch is one mini-batch read from a Dataset. x and labels are owned by the
// reader and recycled after release.
type batch struct {
	idx    []int
	x      []float32
	labels []int
	err    error
	slot   int
}

// batchReader streams mini-batches of a Dataset in a given order, reading
// the next batch while the current one is used (one batch of prefetch: at
// most two batches of features are in memory).
type batchReader struct {
	ch     chan batch
	free   chan int
	cancel context.CancelFunc
	bufs   [2][]float32
	skip   bool
	// skipped collects indices of items dropped for NaN/Inf (when skip).
	skipped []int
}

func newBatchReader(ctx context.Context, ds Dataset, order []int, bs int, skipBad bool) *batchReader {
	ctx, cancel := context.WithCancel(ctx)
	d := tensor.Numel(ds.FeatureShape())
	classes := len(ds.Classes())
	r := &batchReader{ch: make(chan batch, 1), free: make(chan int, 2), cancel: cancel, skip: skipBad}
	r.free <- 0
	r.free <- 1
	go func() {
		defer close(r.ch)
		for start := 0; start < len(order); start += bs {
			var slot int
			select {
			case slot = <-r.free:
			case <-ctx.Done():
				return
			}
			idx := order[start:min(start+bs, len(order))]
			n := len(idx)
			r.bufs[slot] = grow(r.bufs[slot], n*d)
			b := batch{idx: idx, x: r.bufs[slot], slot: slot}
			if err := ds.Read(idx, b.x); err != nil {
				b.err = fmt.Errorf("reading items %d..%d: %w", idx[0], idx[n-1], err)
			} else {
				b.labels = make([]int, n)
				for k, i := range idx {
					y := ds.Label(i)
					if y < 0 || y >= classes {
						b.err = fmt.Errorf("item %d: label %d outside the %d classes: %w", i, y, classes, ErrData)
						break
					}
					b.labels[k] = y
				}
				if b.err == nil {
					b.err = r.checkFinite(&b, d)
				}
			}
			select {
			case r.ch <- b:
			case <-ctx.Done():
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	return r
}

// checkFinite rejects (or, with skip, removes) items with NaN/Inf features.
func (r *batchReader) checkFinite(b *batch, d int) error {
	keep := 0
	var newIdx []int
	for k := range b.labels {
		row := b.x[k*d : (k+1)*d]
		bad := -1
		for j, v := range row {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				bad = j
				break
			}
		}
		if bad >= 0 {
			if !r.skip {
				return fmt.Errorf("item %d: feature %d is %v: %w", b.idx[k], bad, row[bad], ErrData)
			}
			r.skipped = append(r.skipped, b.idx[k])
			if newIdx == nil {
				newIdx = append(make([]int, 0, len(b.idx)), b.idx[:k]...)
			}
			continue
		}
		if newIdx != nil {
			newIdx = append(newIdx, b.idx[k])
			copy(b.x[keep*d:(keep+1)*d], row)
		}
		b.labels[keep] = b.labels[k]
		keep++
	}
	if newIdx != nil {
		b.idx, b.labels, b.x = newIdx, b.labels[:keep], b.x[:keep*d]
	}
	return nil
}

// next returns the next batch, ok=false at the end. Call release(b) when done.
func (r *batchReader) next() (batch, bool) {
	b, ok := <-r.ch
	return b, ok
}

func (r *batchReader) release(b batch) { r.free <- b.slot }

// close stops the producer.
func (r *batchReader) close() {
	r.cancel()
	for range r.ch {
	}
}
