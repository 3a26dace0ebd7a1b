package head

import (
	"math"
	"math/rand/v2"
	"sync"

	"github.com/preconv/preconv/gemm"
)

// Linear computes y = x·Wᵀ + b with W out×in (PyTorch layout).
type Linear struct {
	Weight, Bias *Param
	in, out      int
	x            []float32 // last input (training), not owned
	n            int
	y, dx        []float32
	// wt is Weightᵀ (in×out) for the forward GEMM of a trainable layer
	// (the engine is much faster with a non-transposed B), refreshed on
	// every Forward: an O(in·out) copy next to the O(n·in·out) product.
	wt []float32
	// packed is Wᵀ packed once for the GEMM kernel while Weight is frozen
	// (gemm.PackB): a frozen layer's forward then never re-packs its weight.
	packed *gemm.PackedB
}

// Invalidate drops the packed copy of a frozen weight; call it after
// changing a frozen Weight's data once Forward has run.
func (l *Linear) Invalidate() { l.packed = nil }

// transposed refreshes and returns wt.
func (l *Linear) transposed(threads int) []float32 {
	l.wt = grow(l.wt, l.in*l.out)
	const blk = 64
	w, wt, in, out := l.Weight.Data, l.wt, l.in, l.out
	do := func(o0, o1 int) {
		for k0 := 0; k0 < in; k0 += blk {
			for o := o0; o < o1; o++ {
				row := w[o*in : (o+1)*in]
				for k := k0; k < min(k0+blk, in); k++ {
					wt[k*out+o] = row[k]
				}
			}
		}
	}
	if threads <= 1 || in*out < 1<<20 {
		do(0, out)
	} else {
		var wg sync.WaitGroup
		per := max(blk, (out/blk+threads-1)/threads*blk)
		for o0 := 0; o0 < out; o0 += per {
			wg.Add(1)
			go func(o0 int) {
				defer wg.Done()
				do(o0, min(o0+per, out))
			}(o0)
		}
		wg.Wait()
	}
	return l.wt
}

// NewLinear returns a Linear layer named prefix ("3" → "3.weight", "3.bias")
// initialised like torch.nn.Linear: weight and bias uniform in
// [-1/√in, 1/√in] (kaiming_uniform with a=√5), drawn from rng; with a nil
// rng they are left zero.
func NewLinear(prefix string, in, out int, rng *rand.Rand) *Linear {
	l := &Linear{in: in, out: out,
		Weight: &Param{Name: prefix + ".weight", Shape: []int{out, in}, Data: make([]float32, in*out), Grad: make([]float32, in*out)},
		Bias:   &Param{Name: prefix + ".bias", Shape: []int{out}, Data: make([]float32, out), Grad: make([]float32, out)},
	}
	if rng != nil {
		bound := 1 / math.Sqrt(float64(in))
		for i := range l.Weight.Data {
			l.Weight.Data[i] = float32((rng.Float64()*2 - 1) * bound)
		}
		for i := range l.Bias.Data {
			l.Bias.Data[i] = float32((rng.Float64()*2 - 1) * bound)
		}
	}
	return l
}

func (l *Linear) Kind() string     { return "Linear" }
func (l *Linear) In() int          { return l.in }
func (l *Linear) Out() int         { return l.out }
func (l *Linear) Params() []*Param { return []*Param{l.Weight, l.Bias} }

// Forward: y[i,o] = Σ_k x[i,k]·W[o,k] + b[o].
func (l *Linear) Forward(e *Exec, x []float32, n int) []float32 {
	l.y = grow(l.y, n*l.out)
	for i := 0; i < n; i++ {
		copy(l.y[i*l.out:(i+1)*l.out], l.Bias.Data)
	}
	switch {
	case n == 0:
	case l.Weight.Frozen:
		if l.packed == nil {
			l.packed = gemm.PackB(true, l.in, l.out, l.Weight.Data, l.in)
		}
		gemm.SgemmPacked(e.Threads, false, n, x, l.in, l.packed, 1, l.y, l.out)
	default:
		l.packed = nil
		gemm.SgemmParallel(e.Threads, false, false, n, l.out, l.in, 1, x, l.in, l.transposed(e.Threads), l.out, 1, l.y, l.out)
	}
	if e.Train {
		l.x, l.n = x, n
	}
	return l.y
}

// Backward: dW += dyᵀ·x, db += Σ_i dy[i], dx = dy·W.
func (l *Linear) Backward(e *Exec, dy []float32, needDX bool) []float32 {
	n := l.n
	if !l.Weight.Frozen {
		gemm.SgemmParallel(e.Threads, true, false, l.out, l.in, n, 1, dy, l.out, l.x, l.in, 1, l.Weight.Grad, l.in)
	}
	if !l.Bias.Frozen {
		g := l.Bias.Grad
		for i := 0; i < n; i++ {
			row := dy[i*l.out : (i+1)*l.out]
			for o, v := range row {
				g[o] += v
			}
		}
	}
	if !needDX {
		return nil
	}
	l.dx = grow(l.dx, n*l.in)
	gemm.SgemmParallel(e.Threads, false, false, n, l.in, l.out, 1, dy, l.out, l.Weight.Data, l.in, 0, l.dx, l.in)
	return l.dx
}
