package nn

import (
	"fmt"
	"math"

	"github.com/preconv/preconv/tensor"
)

// Act is an activation that an op (Conv2d, Add, Linear) can apply to its
// output in the same pass, so a following activation layer can be folded
// away. The zero value is no activation.
type Act struct {
	Kind ActKind
	// Min and Max bound the output for ActClip.
	Min, Max float32
}

// ActKind selects a fused activation.
type ActKind int

// Fused activation kinds.
const (
	ActNone  ActKind = iota // identity
	ActReLU                 // max(x, 0)
	ActReLU6                // min(max(x, 0), 6)
	ActClip                 // min(max(x, Min), Max)
)

// String names the activation ("", "ReLU", "ReLU6", "Clip(a,b)").
func (a Act) String() string {
	switch a.Kind {
	case ActReLU:
		return "ReLU"
	case ActReLU6:
		return "ReLU6"
	case ActClip:
		return fmt.Sprintf("Clip(%g,%g)", a.Min, a.Max)
	}
	return ""
}

// bounds returns the clamp interval of a (ok false for ActNone).
func (a Act) bounds() (lo, hi float32, ok bool) {
	switch a.Kind {
	case ActReLU:
		return 0, float32(math.Inf(1)), true
	case ActReLU6:
		return 0, 6, true
	case ActClip:
		return a.Min, a.Max, true
	}
	return 0, 0, false
}

const inf = 3.4028234663852886e38 // math.MaxFloat32

// Apply clamps v in place (for FastConv implementations).
func (a Act) Apply(v []float32) { a.apply(v) }

// apply clamps v in place (NaN kept).
func (a Act) apply(v []float32) {
	lo, hi, ok := a.bounds()
	if !ok {
		return
	}
	biasClamp(v, 0, lo, hi)
}

// ReLU is max(x, 0), elementwise, any shape.
type ReLU struct{}

var _ Op = (*ReLU)(nil)

// Type returns "ReLU".
func (*ReLU) Type() string { return "ReLU" }

// OutShape returns the shape of the single input.
func (*ReLU) OutShape(in ...[]int) ([]int, error) { return unaryShape("ReLU", in) }

// Forward returns a new tensor max(x, 0).
func (*ReLU) Forward(e *Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	return unaryApply(e, "ReLU", in, Act{Kind: ActReLU})
}

// Clip is min(max(x, Min), Max), elementwise; ReLU6 is Clip{0, 6}.
type Clip struct {
	Min, Max float32
}

var _ Op = (*Clip)(nil)

// NewReLU6 returns Clip{Min: 0, Max: 6}.
func NewReLU6() *Clip { return &Clip{Min: 0, Max: 6} }

// Type returns "ReLU6" for Clip{0,6}, else "Clip".
func (c *Clip) Type() string {
	if c.Min == 0 && c.Max == 6 {
		return "ReLU6"
	}
	return "Clip"
}

// Act returns the equivalent fused activation.
func (c *Clip) Act() Act {
	if c.Min == 0 && c.Max == 6 {
		return Act{Kind: ActReLU6}
	}
	return Act{Kind: ActClip, Min: c.Min, Max: c.Max}
}

// OutShape returns the shape of the single input.
func (c *Clip) OutShape(in ...[]int) ([]int, error) { return unaryShape(c.Type(), in) }

// Forward returns a new clamped tensor.
func (c *Clip) Forward(e *Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	if c.Min > c.Max {
		return nil, fmt.Errorf("%s: min %g > max %g: %w", c.Type(), c.Min, c.Max, ErrConfig)
	}
	return unaryApply(e, c.Type(), in, c.Act())
}

func unaryShape(op string, in [][]int) ([]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("%s: %d inputs, want 1: %w", op, len(in), ErrShape)
	}
	return append([]int(nil), in[0]...), nil
}

func unaryApply(e *Exec, op string, in []*tensor.Tensor, a Act) (*tensor.Tensor, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("%s: %d inputs, want 1: %w", op, len(in), ErrShape)
	}
	out := e.Output(in[0].Shape...)
	lo, hi, _ := a.bounds()
	clampTo(out.Data, in[0].Data, lo, hi)
	return out, nil
}

// shape4 checks that s is NCHW.
func shape4(op string, s []int) error {
	if len(s) != 4 {
		return fmt.Errorf("%s: input shape %v, want 4-D NCHW: %w", op, s, ErrShape)
	}
	return nil
}
