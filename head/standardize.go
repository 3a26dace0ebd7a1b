package head

import (
	"context"
	"fmt"
	"math"
)

// Standardize computes y = (x - Mean) · InvStd per feature: the z-scoring
// that pretrained-CNN features need before a linear or MLP head (their
// scales differ by orders of magnitude between channels). Mean and InvStd are
// buffers estimated once from the training set (FitStandardize) and saved
// with the head, so eval and predict apply exactly the same transform.
type Standardize struct {
	Mean, InvStd *Param
	dim          int
	y, dx        []float32
	n            int
}

// NewStandardize returns the identity standardization over dim features
// (mean 0, inverse std 1) with parameter names prefix.mean and prefix.inv_std.
func NewStandardize(prefix string, dim int) *Standardize {
	s := &Standardize{dim: dim,
		Mean:   &Param{Name: prefix + ".mean", Shape: []int{dim}, Data: make([]float32, dim), Buffer: true},
		InvStd: &Param{Name: prefix + ".inv_std", Shape: []int{dim}, Data: make([]float32, dim), Buffer: true},
	}
	for i := range s.InvStd.Data {
		s.InvStd.Data[i] = 1
	}
	return s
}

func (s *Standardize) Kind() string     { return "Standardize" }
func (s *Standardize) In() int          { return s.dim }
func (s *Standardize) Out() int         { return s.dim }
func (s *Standardize) Params() []*Param { return []*Param{s.Mean, s.InvStd} }

func (s *Standardize) Forward(e *Exec, x []float32, n int) []float32 {
	s.y = grow(s.y, n*s.dim)
	m, is := s.Mean.Data, s.InvStd.Data
	for i := 0; i < n; i++ {
		row, out := x[i*s.dim:(i+1)*s.dim], s.y[i*s.dim:(i+1)*s.dim]
		for j, v := range row {
			out[j] = (v - m[j]) * is[j]
		}
	}
	s.n = n
	return s.y
}

// Backward: dx = dy · InvStd (the statistics are constants).
func (s *Standardize) Backward(e *Exec, dy []float32, needDX bool) []float32 {
	if !needDX {
		return nil
	}
	s.dx = grow(s.dx, s.n*s.dim)
	is := s.InvStd.Data
	for i := 0; i < s.n; i++ {
		for j := 0; j < s.dim; j++ {
			s.dx[i*s.dim+j] = dy[i*s.dim+j] * is[j]
		}
	}
	return s.dx
}

// Source is what FitStandardize reads: n items of dim features.
type Source interface {
	Len() int
	Read(idx []int, dst []float32) error
}

// FitStandardize sets s's statistics to the per-feature mean and inverse
// standard deviation (population, like sklearn's StandardScaler) of the
// items of src, streaming in batches (bounded memory). Features with a
// standard deviation below 1e-6 get InvStd 1 (they are constant: only
// centred).
func (s *Standardize) FitStandardize(ctx context.Context, src Source) error {
	n := src.Len()
	if n == 0 {
		return fmt.Errorf("head: standardize: no items")
	}
	sum := make([]float64, s.dim)
	sq := make([]float64, s.dim)
	const batch = 256
	buf := make([]float32, batch*s.dim)
	idx := make([]int, 0, batch)
	for start := 0; start < n; start += batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		idx = idx[:0]
		for i := start; i < min(n, start+batch); i++ {
			idx = append(idx, i)
		}
		b := buf[:len(idx)*s.dim]
		if err := src.Read(idx, b); err != nil {
			return err
		}
		for i := range idx {
			for j, v := range b[i*s.dim : (i+1)*s.dim] {
				f := float64(v)
				sum[j] += f
				sq[j] += f * f
			}
		}
	}
	for j := range sum {
		mean := sum[j] / float64(n)
		std := math.Sqrt(math.Max(0, sq[j]/float64(n)-mean*mean))
		s.Mean.Data[j] = float32(mean)
		if std < 1e-6 {
			s.InvStd.Data[j] = 1
		} else {
			s.InvStd.Data[j] = float32(1 / std)
		}
	}
	return nil
}

// Standardizer returns the head's Standardize layer, or nil.
func (h *Head) Standardizer() *Standardize {
	if len(h.Layers) > 0 {
		if s, ok := h.Layers[0].(*Standardize); ok {
			return s
		}
	}
	return nil
}
