package nn

import (
	"fmt"

	"github.com/preconv/preconv/gemm"
	"github.com/preconv/preconv/tensor"
)

// Linear is y = act(x·Wᵀ + b) over the last axis of x: Weight is
// Out × In (PyTorch layout), Bias is Out values or nil. Input ... × In gives
// output ... × Out.
type Linear struct {
	In, Out int
	Weight  *tensor.Tensor
	Bias    *tensor.Tensor
	// Act is applied to the output in the same pass.
	Act Act
}

var (
	_ ParamOp = (*Linear)(nil)
	_ Coster  = (*Linear)(nil)
)

// NewLinear returns a Linear with zero weights and (if bias) zero bias.
func NewLinear(in, out int, bias bool) *Linear {
	l := &Linear{In: in, Out: out, Weight: tensor.New(out, in)}
	if bias {
		l.Bias = tensor.New(out)
	}
	return l
}

// Type returns "Linear".
func (*Linear) Type() string { return "Linear" }

// Params returns weight and, if present, bias.
func (l *Linear) Params() []Param {
	p := []Param{{Name: "weight", Tensor: l.Weight}}
	if l.Bias != nil {
		p = append(p, Param{Name: "bias", Tensor: l.Bias})
	}
	return p
}

// OutShape replaces the last axis (In) by Out.
func (l *Linear) OutShape(in ...[]int) ([]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("Linear: %d inputs, want 1: %w", len(in), ErrShape)
	}
	s := in[0]
	if len(s) < 1 || s[len(s)-1] != l.In {
		return nil, fmt.Errorf("Linear: input %v, want last axis %d: %w", s, l.In, ErrShape)
	}
	if l.Weight == nil || !tensor.SameShape(l.Weight.Shape, []int{l.Out, l.In}) {
		var ws []int
		if l.Weight != nil {
			ws = l.Weight.Shape
		}
		return nil, fmt.Errorf("Linear: weight shape %v, want [%d %d]: %w", ws, l.Out, l.In, ErrShape)
	}
	if l.Bias != nil && !tensor.SameShape(l.Bias.Shape, []int{l.Out}) {
		return nil, fmt.Errorf("Linear: bias shape %v, want [%d]: %w", l.Bias.Shape, l.Out, ErrShape)
	}
	o := append([]int(nil), s...)
	o[len(o)-1] = l.Out
	return o, nil
}

// FLOPs returns 2·rows·In·Out.
func (l *Linear) FLOPs(in ...[]int) int64 {
	if len(in) != 1 || len(in[0]) < 1 {
		return 0
	}
	rows := int64(tensor.Numel(in[0][:len(in[0])-1]))
	return 2 * rows * int64(l.In) * int64(l.Out)
}

// Forward computes x·Wᵀ + b into a new tensor.
func (l *Linear) Forward(e *Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("Linear: %d inputs, want 1: %w", len(in), ErrShape)
	}
	os, err := l.OutShape(in[0].Shape)
	if err != nil {
		return nil, err
	}
	out := tensor.New(os...)
	rows := len(in[0].Data) / max(1, l.In)
	if rows > 0 && l.Out > 0 {
		gemm.SgemmParallel(e.threads(), false, true, rows, l.Out, l.In, 1, in[0].Data, max(1, l.In),
			l.Weight.Data, max(1, l.In), 0, out.Data, l.Out)
	}
	for r := 0; r < rows; r++ {
		row := out.Data[r*l.Out : (r+1)*l.Out]
		if l.Bias != nil {
			for j, b := range l.Bias.Data {
				row[j] += b
			}
		}
		l.Act.apply(row)
	}
	return out, nil
}
