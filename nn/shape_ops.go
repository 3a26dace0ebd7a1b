package nn

import (
	"fmt"

	"github.com/preconv/preconv/tensor"
)

// Dropout is the identity at inference. P is kept for description only.
type Dropout struct {
	P float32
}

var _ Op = (*Dropout)(nil)

// Type returns "Dropout".
func (*Dropout) Type() string { return "Dropout" }

// OutShape returns the input shape.
func (*Dropout) OutShape(in ...[]int) ([]int, error) { return unaryShape("Dropout", in) }

// Forward returns its input unchanged (not copied).
func (*Dropout) Forward(e *Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("Dropout: %d inputs, want 1: %w", len(in), ErrShape)
	}
	return in[0], nil
}

// Flatten merges axes StartDim..last into one (PyTorch nn.Flatten with
// end_dim=-1; its default StartDim is 1). A negative StartDim counts from
// the end.
type Flatten struct {
	StartDim int
}

var _ Op = (*Flatten)(nil)

// Type returns "Flatten".
func (*Flatten) Type() string { return "Flatten" }

// OutShape returns in[:StartDim] + [product of the rest].
func (f *Flatten) OutShape(in ...[]int) ([]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("Flatten: %d inputs, want 1: %w", len(in), ErrShape)
	}
	s := in[0]
	d := f.StartDim
	if d < 0 {
		d += len(s)
	}
	if d < 0 || d > len(s) || (d == len(s) && len(s) > 0) {
		return nil, fmt.Errorf("Flatten: start dim %d for input %v: %w", f.StartDim, s, ErrShape)
	}
	return append(append([]int(nil), s[:d]...), tensor.Numel(s[d:])), nil
}

// Forward returns a reshaped view sharing the input's data.
func (f *Flatten) Forward(e *Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("Flatten: %d inputs, want 1: %w", len(in), ErrShape)
	}
	s, err := f.OutShape(in[0].Shape)
	if err != nil {
		return nil, err
	}
	return &tensor.Tensor{Shape: s, Data: in[0].Data}, nil
}

// Add sums two or more tensors of the same shape elementwise, then applies
// Act (e.g. ResNet's residual add followed by ReLU).
type Add struct {
	Act Act
}

var _ Op = (*Add)(nil)

// Type returns "Add".
func (*Add) Type() string { return "Add" }

// OutShape checks that all inputs have the same shape and returns it.
func (a *Add) OutShape(in ...[]int) ([]int, error) {
	if len(in) < 2 {
		return nil, fmt.Errorf("Add: %d inputs, want at least 2: %w", len(in), ErrShape)
	}
	for _, s := range in[1:] {
		if !tensor.SameShape(s, in[0]) {
			return nil, fmt.Errorf("Add: shapes %v and %v differ: %w", in[0], s, ErrShape)
		}
	}
	return append([]int(nil), in[0]...), nil
}

// Forward returns the elementwise sum in a new tensor.
func (a *Add) Forward(e *Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	shapes := make([][]int, len(in))
	for i, t := range in {
		shapes[i] = t.Shape
	}
	if _, err := a.OutShape(shapes...); err != nil {
		return nil, err
	}
	// One pass for the first two inputs (no copy of in[0] first), then
	// one per further input, then the vectorized clamp.
	out := tensor.New(in[0].Shape...)
	o, x, y := out.Data, in[0].Data[:len(out.Data)], in[1].Data[:len(out.Data)]
	for i := range o {
		o[i] = x[i] + y[i]
	}
	for _, t := range in[2:] {
		for i, v := range t.Data[:len(o)] {
			o[i] += v
		}
	}
	a.Act.apply(o)
	return out, nil
}

// Concat joins tensors along Axis (negative counts from the end); all
// other axes must match. The channel axis of NCHW is 1 (the zero value is
// axis 0, so set Axis explicitly; NewConcat defaults to channels).
type Concat struct {
	Axis int
}

var _ Op = (*Concat)(nil)

// NewConcat returns a Concat on the channel axis (1) of NCHW tensors.
func NewConcat() *Concat { return &Concat{Axis: 1} }

// Type returns "Concat".
func (*Concat) Type() string { return "Concat" }

// OutShape returns the joined shape.
func (c *Concat) OutShape(in ...[]int) ([]int, error) {
	if len(in) < 1 {
		return nil, fmt.Errorf("Concat: no inputs: %w", ErrShape)
	}
	ax := c.Axis
	if ax < 0 {
		ax += len(in[0])
	}
	if ax < 0 || ax >= len(in[0]) {
		return nil, fmt.Errorf("Concat: axis %d for input %v: %w", c.Axis, in[0], ErrShape)
	}
	out := append([]int(nil), in[0]...)
	for _, s := range in[1:] {
		if len(s) != len(out) {
			return nil, fmt.Errorf("Concat: shapes %v and %v differ in rank: %w", in[0], s, ErrShape)
		}
		for i := range s {
			if i != ax && s[i] != out[i] {
				return nil, fmt.Errorf("Concat: shapes %v and %v differ off axis %d: %w", in[0], s, ax, ErrShape)
			}
		}
		out[ax] += s[ax]
	}
	return out, nil
}

// Forward returns the concatenation in a new tensor.
func (c *Concat) Forward(e *Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	shapes := make([][]int, len(in))
	for i, t := range in {
		shapes[i] = t.Shape
	}
	os, err := c.OutShape(shapes...)
	if err != nil {
		return nil, err
	}
	ax := c.Axis
	if ax < 0 {
		ax += len(os)
	}
	outer := tensor.Numel(os[:ax])
	inner := tensor.Numel(os[ax+1:])
	out := tensor.New(os...)
	off := 0
	rowOut := os[ax] * inner
	for _, t := range in {
		blk := t.Shape[ax] * inner
		for o := 0; o < outer; o++ {
			copy(out.Data[o*rowOut+off:o*rowOut+off+blk], t.Data[o*blk:(o+1)*blk])
		}
		off += blk
	}
	return out, nil
}

// Pad pads the two spatial axes of NCHW input with Value:
// Pads is [top, left, bottom, right] (Keras ZeroPadding2D, ONNX Pad).
type Pad struct {
	Pads  [4]int
	Value float32
}

var _ Op = (*Pad)(nil)

// Type returns "Pad".
func (*Pad) Type() string { return "Pad" }

// OutShape returns N × C × (H+top+bottom) × (W+left+right).
func (p *Pad) OutShape(in ...[]int) ([]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("Pad: %d inputs, want 1: %w", len(in), ErrShape)
	}
	if err := shape4("Pad", in[0]); err != nil {
		return nil, err
	}
	for _, v := range p.Pads {
		if v < 0 {
			return nil, fmt.Errorf("Pad: negative pads %v: %w", p.Pads, ErrConfig)
		}
	}
	s := in[0]
	return []int{s[0], s[1], s[2] + p.Pads[0] + p.Pads[2], s[3] + p.Pads[1] + p.Pads[3]}, nil
}

// Forward returns the padded tensor.
func (p *Pad) Forward(e *Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("Pad: %d inputs, want 1: %w", len(in), ErrShape)
	}
	os, err := p.OutShape(in[0].Shape)
	if err != nil {
		return nil, err
	}
	out := tensor.New(os...)
	if p.Value != 0 {
		for i := range out.Data {
			out.Data[i] = p.Value
		}
	}
	h, w, oh, ow := in[0].Shape[2], in[0].Shape[3], os[2], os[3]
	for pl := 0; pl < os[0]*os[1]; pl++ {
		for y := 0; y < h; y++ {
			dst := out.Data[pl*oh*ow+(y+p.Pads[0])*ow+p.Pads[1]:]
			copy(dst[:w], in[0].Data[pl*h*w+y*w:pl*h*w+(y+1)*w])
		}
	}
	return out, nil
}
