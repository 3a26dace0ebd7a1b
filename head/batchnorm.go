package head

import "math"

// BatchNorm1d normalises each feature over the batch, like torch.nn.BatchNorm1d
// on (N, C) input:
//
//	train: y = γ·(x-μ_B)/√(σ²_B+ε) + β with the biased batch variance σ²_B;
//	       running_mean ← (1-m)·running_mean + m·μ_B,
//	       running_var  ← (1-m)·running_var  + m·σ²_B·N/(N-1)  (unbiased);
//	eval:  y = γ·(x-running_mean)/√(running_var+ε) + β.
//
// Defaults as torch: Momentum 0.1, Eps 1e-5, γ=1, β=0, running 0/1.
type BatchNorm1d struct {
	Weight, Bias            *Param
	RunningMean, RunningVar *Param
	Momentum, Eps           float64
	dim, n                  int
	xhat, y, dx             []float32
	invStd                  []float64
	eval                    bool // last Forward was in eval mode
}

// NewBatchNorm1d returns a BatchNorm1d over dim features named prefix.
func NewBatchNorm1d(prefix string, dim int) *BatchNorm1d {
	ones := func() []float32 {
		s := make([]float32, dim)
		for i := range s {
			s[i] = 1
		}
		return s
	}
	return &BatchNorm1d{dim: dim, Momentum: 0.1, Eps: 1e-5,
		Weight:      &Param{Name: prefix + ".weight", Shape: []int{dim}, Data: ones(), Grad: make([]float32, dim)},
		Bias:        &Param{Name: prefix + ".bias", Shape: []int{dim}, Data: make([]float32, dim), Grad: make([]float32, dim)},
		RunningMean: &Param{Name: prefix + ".running_mean", Shape: []int{dim}, Data: make([]float32, dim), Buffer: true},
		RunningVar:  &Param{Name: prefix + ".running_var", Shape: []int{dim}, Data: ones(), Buffer: true},
	}
}

func (b *BatchNorm1d) Kind() string { return "BatchNorm1d" }
func (b *BatchNorm1d) In() int      { return b.dim }
func (b *BatchNorm1d) Out() int     { return b.dim }
func (b *BatchNorm1d) Params() []*Param {
	return []*Param{b.Weight, b.Bias, b.RunningMean, b.RunningVar}
}

// Forward; in training mode with n == 1 the variance is 0 and the running
// variance update uses N/(N-1) = 1 (torch raises an error instead).
func (b *BatchNorm1d) Forward(e *Exec, x []float32, n int) []float32 {
	c := b.dim
	b.n = n
	b.y = grow(b.y, n*c)
	b.xhat = grow(b.xhat, n*c)
	if cap(b.invStd) < c {
		b.invStd = make([]float64, c)
	}
	b.invStd = b.invStd[:c]
	b.eval = !e.Train
	if !e.Train {
		for j := 0; j < c; j++ {
			is := 1 / math.Sqrt(float64(b.RunningVar.Data[j])+b.Eps)
			b.invStd[j] = is
			s := float32(is)
			g, be, mu := b.Weight.Data[j], b.Bias.Data[j], b.RunningMean.Data[j]
			for i := 0; i < n; i++ {
				xh := (x[i*c+j] - mu) * s
				b.xhat[i*c+j] = xh
				b.y[i*c+j] = xh*g + be
			}
		}
		return b.y
	}
	mom := b.Momentum
	for j := 0; j < c; j++ {
		var s float64
		for i := 0; i < n; i++ {
			s += float64(x[i*c+j])
		}
		mu := s / float64(n)
		var v float64
		for i := 0; i < n; i++ {
			d := float64(x[i*c+j]) - mu
			v += d * d
		}
		unb := v
		if n > 1 {
			unb /= float64(n - 1)
		}
		v /= float64(n)
		is := 1 / math.Sqrt(v+b.Eps)
		b.invStd[j] = is
		g, be := b.Weight.Data[j], b.Bias.Data[j]
		for i := 0; i < n; i++ {
			xh := float32((float64(x[i*c+j]) - mu) * is)
			b.xhat[i*c+j] = xh
			b.y[i*c+j] = xh*g + be
		}
		b.RunningMean.Data[j] = float32((1-mom)*float64(b.RunningMean.Data[j]) + mom*mu)
		b.RunningVar.Data[j] = float32((1-mom)*float64(b.RunningVar.Data[j]) + mom*unb)
	}
	return b.y
}

// Backward (after an eval-mode Forward: dx = γ/√(running_var+ε)·dy; after
// a training-mode Forward:)
//
//	dβ = Σ dy, dγ = Σ dy·x̂,
//	dx = γ/√(σ²+ε) · (dy - mean(dy) - x̂·mean(dy·x̂)).
func (b *BatchNorm1d) Backward(e *Exec, dy []float32, needDX bool) []float32 {
	c, n := b.dim, b.n
	if needDX {
		b.dx = grow(b.dx, n*c)
	}
	for j := 0; j < c; j++ {
		var sdy, sdyx float64
		for i := 0; i < n; i++ {
			d := float64(dy[i*c+j])
			sdy += d
			sdyx += d * float64(b.xhat[i*c+j])
		}
		if !b.Weight.Frozen {
			b.Weight.Grad[j] += float32(sdyx)
		}
		if !b.Bias.Frozen {
			b.Bias.Grad[j] += float32(sdy)
		}
		if needDX {
			k := float64(b.Weight.Data[j]) * b.invStd[j]
			mdy, mdyx := sdy/float64(n), sdyx/float64(n)
			if b.eval {
				mdy, mdyx = 0, 0
			}
			for i := 0; i < n; i++ {
				b.dx[i*c+j] = float32(k * (float64(dy[i*c+j]) - mdy - float64(b.xhat[i*c+j])*mdyx))
			}
		}
	}
	if !needDX {
		return nil
	}
	return b.dx
}
