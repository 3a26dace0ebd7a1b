package train

import (
	"fmt"
	"math"

	"github.com/preconv/preconv/head"
)

// Optimizer updates parameters from their gradients.
type Optimizer interface {
	// Step applies one update with learning rate lr (and, for optimizers with
	// momentum, the momentum/β₁ given; <= 0 keeps the configured value).
	Step(lr, momentum float64)
	// State returns the optimizer's per-parameter state vectors by name
	// ("<param>.momentum_buffer", "<param>.exp_avg", ...) and its step count,
	// for checkpoints; SetState restores them.
	State() (map[string][]float32, int64)
	SetState(map[string][]float32, int64) error
}

// SGD is torch.optim.SGD with dampening 0:
//
//	g = grad + wd·p
//	buf = g (first step), else buf = μ·buf + g
//	g = g + μ·buf (Nesterov) or g = buf
//	p = p - lr·g
type SGD struct {
	Params      []*head.Param
	Momentum    float64
	Nesterov    bool
	WeightDecay float64
	buf         [][]float32
	steps       int64
}

// Step implements Optimizer.
func (o *SGD) Step(lr, momentum float64) {
	mu := o.Momentum
	if momentum > 0 {
		mu = momentum
	}
	if o.buf == nil {
		o.buf = make([][]float32, len(o.Params))
	}
	lr32, mu32, wd := float32(lr), float32(mu), float32(o.WeightDecay)
	for pi, p := range o.Params {
		for i, g := range p.Grad {
			if wd != 0 {
				g += wd * p.Data[i]
			}
			if mu32 != 0 {
				if o.buf[pi] == nil {
					o.buf[pi] = make([]float32, len(p.Data))
					if o.steps == 0 {
						// handled below: first step copies g
					}
				}
				b := o.buf[pi]
				if o.steps == 0 {
					b[i] = g
				} else {
					b[i] = mu32*b[i] + g
				}
				if o.Nesterov {
					g += mu32 * b[i]
				} else {
					g = b[i]
				}
			}
			p.Data[i] -= lr32 * g
		}
	}
	o.steps++
}

// State implements Optimizer.
func (o *SGD) State() (map[string][]float32, int64) {
	m := map[string][]float32{}
	for i, p := range o.Params {
		if o.buf != nil && o.buf[i] != nil {
			m[p.Name+".momentum_buffer"] = o.buf[i]
		}
	}
	return m, o.steps
}

// SetState implements Optimizer.
func (o *SGD) SetState(m map[string][]float32, steps int64) error {
	o.steps = steps
	o.buf = make([][]float32, len(o.Params))
	for i, p := range o.Params {
		if v, ok := m[p.Name+".momentum_buffer"]; ok {
			if len(v) != len(p.Data) {
				return fmt.Errorf("optimizer state %q: %d values, want %d: %w", p.Name+".momentum_buffer", len(v), len(p.Data), ErrCheckpoint)
			}
			o.buf[i] = append([]float32(nil), v...)
		} else if steps > 0 && o.Momentum != 0 {
			return fmt.Errorf("optimizer state %q missing: %w", p.Name+".momentum_buffer", ErrCheckpoint)
		}
	}
	return nil
}

// Adam is torch.optim.Adam (Decoupled false) or AdamW (Decoupled true),
// amsgrad off:
//
//	Adam:  g = grad + wd·p          AdamW: p = p·(1 - lr·wd)
//	m = β₁·m + (1-β₁)·g;  v = β₂·v + (1-β₂)·g²
//	p = p - lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + ε)
//
// Defaults (zero values): β₁ 0.9, β₂ 0.999, ε 1e-8.
type Adam struct {
	Params       []*head.Param
	Beta1, Beta2 float64
	Eps          float64
	WeightDecay  float64
	Decoupled    bool
	m, v         [][]float32
	steps        int64
}

// Step implements Optimizer; momentum > 0 overrides β₁ (one-cycle).
func (o *Adam) Step(lr, momentum float64) {
	b1, b2, eps := o.Beta1, o.Beta2, o.Eps
	if b1 == 0 {
		b1 = 0.9
	}
	if momentum > 0 {
		b1 = momentum
	}
	if b2 == 0 {
		b2 = 0.999
	}
	if eps == 0 {
		eps = 1e-8
	}
	if o.m == nil {
		o.m = make([][]float32, len(o.Params))
		o.v = make([][]float32, len(o.Params))
		for i, p := range o.Params {
			o.m[i] = make([]float32, len(p.Data))
			o.v[i] = make([]float32, len(p.Data))
		}
	}
	o.steps++
	t := float64(o.steps)
	bc1 := 1 - math.Pow(b1, t)
	bc2 := 1 - math.Pow(b2, t)
	stepSize := float32(lr / bc1)
	sqrtBc2 := float32(math.Sqrt(bc2))
	b1f, b2f, epsf := float32(b1), float32(b2), float32(eps)
	wd := float32(o.WeightDecay)
	decay := float32(1 - lr*o.WeightDecay)
	for pi, p := range o.Params {
		m, v := o.m[pi], o.v[pi]
		for i, g := range p.Grad {
			if o.Decoupled {
				p.Data[i] *= decay
			} else if wd != 0 {
				g += wd * p.Data[i]
			}
			m[i] = b1f*m[i] + (1-b1f)*g
			v[i] = b2f*v[i] + (1-b2f)*g*g
			denom := float32(math.Sqrt(float64(v[i])))/sqrtBc2 + epsf
			p.Data[i] -= stepSize * m[i] / denom
		}
	}
}

// State implements Optimizer.
func (o *Adam) State() (map[string][]float32, int64) {
	s := map[string][]float32{}
	for i, p := range o.Params {
		if o.m != nil {
			s[p.Name+".exp_avg"] = o.m[i]
			s[p.Name+".exp_avg_sq"] = o.v[i]
		}
	}
	return s, o.steps
}

// SetState implements Optimizer.
func (o *Adam) SetState(s map[string][]float32, steps int64) error {
	o.steps = steps
	if steps == 0 {
		o.m, o.v = nil, nil
		return nil
	}
	o.m = make([][]float32, len(o.Params))
	o.v = make([][]float32, len(o.Params))
	for i, p := range o.Params {
		for _, kv := range []struct {
			key string
			dst *[]float32
		}{{".exp_avg", &o.m[i]}, {".exp_avg_sq", &o.v[i]}} {
			v, ok := s[p.Name+kv.key]
			if !ok || len(v) != len(p.Data) {
				return fmt.Errorf("optimizer state %q missing or of wrong size: %w", p.Name+kv.key, ErrCheckpoint)
			}
			*kv.dst = append([]float32(nil), v...)
		}
	}
	return nil
}

// ClipGradNorm scales all gradients by maxNorm/(‖g‖+1e-6) when the global L2
// norm ‖g‖ exceeds maxNorm (torch.nn.utils.clip_grad_norm_). It returns ‖g‖.
func ClipGradNorm(params []*head.Param, maxNorm float64) float64 {
	var s float64
	for _, p := range params {
		for _, g := range p.Grad {
			s += float64(g) * float64(g)
		}
	}
	norm := math.Sqrt(s)
	if maxNorm > 0 {
		if c := maxNorm / (norm + 1e-6); c < 1 {
			cf := float32(c)
			for _, p := range params {
				for i := range p.Grad {
					p.Grad[i] *= cf
				}
			}
		}
	}
	return norm
}
