package train

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"

	"github.com/preconv/preconv/head"
)

// foldedDataset holds the output of a head's frozen prefix for every item of
// a base dataset, in memory or in a float32 temp file.
type foldedDataset struct {
	base Dataset
	dim  int
	mem  []float32
	file *os.File
}

func (f *foldedDataset) Len() int            { return f.base.Len() }
func (f *foldedDataset) FeatureShape() []int { return []int{f.dim} }
func (f *foldedDataset) Classes() []string   { return f.base.Classes() }
func (f *foldedDataset) Label(i int) int     { return f.base.Label(i) }

func (f *foldedDataset) EpochOrder(seed int64, epoch int) []int {
	if o, ok := f.base.(Orderer); ok {
		return o.EpochOrder(seed, epoch)
	}
	return seededOrder(f.base.Len(), seed, epoch)
}

func (f *foldedDataset) Read(idx []int, dst []float32) error {
	d := f.dim
	if f.file == nil {
		for k, i := range idx {
			copy(dst[k*d:(k+1)*d], f.mem[i*d:(i+1)*d])
		}
		return nil
	}
	buf := make([]byte, 4*d)
	for k, i := range idx {
		if _, err := f.file.ReadAt(buf, int64(i)*int64(4*d)); err != nil {
			return fmt.Errorf("folded features %s, item %d: %w", f.file.Name(), i, err)
		}
		for j := 0; j < d; j++ {
			dst[k*d+j] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*j:]))
		}
	}
	return nil
}

func (f *foldedDataset) close() {
	if f.file != nil {
		f.file.Close()
		os.Remove(f.file.Name())
	}
}

// fold runs layers [0, upto) of h in eval mode over ds (in index order, one
// batch at a time) and returns the derived dataset. Items with bad features
// fail (or are zero-filled and listed when skipBad; training then skips them
// via the base dataset's labels as usual).
func fold(ctx context.Context, h *head.Head, upto int, ds Dataset, bs int, memLimit int64, tmpDir string, skipBad bool) (*foldedDataset, []int, error) {
	dim := h.Layers[upto-1].Out()
	n := ds.Len()
	f := &foldedDataset{base: ds, dim: dim}
	if int64(n)*int64(dim)*4 <= memLimit {
		f.mem = make([]float32, n*dim)
	} else {
		tf, err := os.CreateTemp(tmpDir, "preconv-fold-*.f32")
		if err != nil {
			return nil, nil, err
		}
		f.file = tf
	}
	prefix := &head.Head{Layers: h.Layers[:upto], Classes: dim, InShape: h.InShape, Threads: h.Threads}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	r := newBatchReader(ctx, ds, order, bs, skipBad)
	defer r.close()
	var out []byte
	for {
		b, ok := r.next()
		if !ok {
			break
		}
		if b.err != nil {
			f.close()
			return nil, nil, b.err
		}
		y := prefix.Forward(&head.Exec{Threads: h.Threads}, b.x, len(b.idx))
		if f.file == nil {
			for k, i := range b.idx {
				copy(f.mem[i*dim:(i+1)*dim], y[k*dim:(k+1)*dim])
			}
		} else {
			out = append(out[:0], make([]byte, 4*dim)...)
			for k, i := range b.idx {
				for j := 0; j < dim; j++ {
					binary.LittleEndian.PutUint32(out[4*j:], math.Float32bits(y[k*dim+j]))
				}
				if _, err := f.file.WriteAt(out, int64(i)*int64(4*dim)); err != nil {
					f.close()
					return nil, nil, fmt.Errorf("writing folded features: %w", err)
				}
			}
		}
		r.release(b)
		if err := ctx.Err(); err != nil {
			f.close()
			return nil, nil, err
		}
	}
	r.close()
	return f, r.skipped, nil
}
