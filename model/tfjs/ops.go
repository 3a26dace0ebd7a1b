package tfjs

import (
	"fmt"
	"math"

	"github.com/preconv/preconv/gemm"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/tensor"
)

// The ops below are the Keras layers that package nn does not provide in
// the form Keras needs (channels-last flatten order, in×out dense kernel,
// n-ary add, unscaled/uncentered batch norm). They work on NCHW tensors.

func errShape(op string, in [][]int, want string) error {
	return fmt.Errorf("%s: input shapes %v, want %s: %w", op, in, want, nn.ErrShape)
}

// Sum adds any number of same-shape inputs (Keras Add), then applies Act.
type Sum struct{ Act nn.Act }

// Type returns "Add".
func (*Sum) Type() string { return "Add" }

// OutShape checks that all inputs have one shape.
func (*Sum) OutShape(in ...[]int) ([]int, error) {
	if len(in) < 1 {
		return nil, errShape("Add", in, "at least one input")
	}
	for _, s := range in[1:] {
		if !tensor.SameShape(s, in[0]) {
			return nil, errShape("Add", in, "equal shapes")
		}
	}
	return append([]int(nil), in[0]...), nil
}

// Forward returns the elementwise sum.
func (s *Sum) Forward(e *nn.Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	shapes := make([][]int, len(in))
	for i, t := range in {
		shapes[i] = t.Shape
	}
	if _, err := s.OutShape(shapes...); err != nil {
		return nil, err
	}
	out := in[0].Clone()
	for _, t := range in[1:] {
		for j, v := range t.Data {
			out.Data[j] += v
		}
	}
	applyAct(s.Act, out.Data)
	return out, nil
}

// applyAct applies a fused activation via nn.Clip/ReLU semantics.
func applyAct(a nn.Act, v []float32) {
	switch a.Kind {
	case nn.ActReLU:
		for i, x := range v {
			if x < 0 {
				v[i] = 0
			}
		}
	case nn.ActReLU6, nn.ActClip:
		lo, hi := a.Min, a.Max
		if a.Kind == nn.ActReLU6 {
			lo, hi = 0, 6
		}
		for i, x := range v {
			if x < lo {
				v[i] = lo
			} else if x > hi {
				v[i] = hi
			}
		}
	}
}

// ZeroPad pads NCHW input with zeros: Pad is [top, left, bottom, right].
type ZeroPad struct{ Pad [4]int }

// Type returns "Pad".
func (*ZeroPad) Type() string { return "Pad" }

// OutShape adds the padding to H and W.
func (p *ZeroPad) OutShape(in ...[]int) ([]int, error) {
	if len(in) != 1 || len(in[0]) != 4 {
		return nil, errShape("Pad", in, "one NCHW input")
	}
	s := in[0]
	return []int{s[0], s[1], s[2] + p.Pad[0] + p.Pad[2], s[3] + p.Pad[1] + p.Pad[3]}, nil
}

// Forward returns the padded tensor.
func (p *ZeroPad) Forward(e *nn.Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	os, err := p.OutShape(in[0].Shape)
	if err != nil {
		return nil, err
	}
	x := in[0]
	out := tensor.New(os...)
	h, w, oh, ow := x.Shape[2], x.Shape[3], os[2], os[3]
	for nc := 0; nc < os[0]*os[1]; nc++ {
		for y := 0; y < h; y++ {
			copy(out.Data[nc*oh*ow+(y+p.Pad[0])*ow+p.Pad[1]:], x.Data[nc*h*w+y*w:nc*h*w+(y+1)*w])
		}
	}
	return out, nil
}

// FlattenNHWC flattens N×C×H×W to N×(H·W·C) in channels-last order, as
// Keras Flatten does on TF's NHWC tensors; other ranks flatten as stored.
type FlattenNHWC struct{}

// Type returns "Flatten".
func (*FlattenNHWC) Type() string { return "Flatten" }

// OutShape returns N × rest.
func (*FlattenNHWC) OutShape(in ...[]int) ([]int, error) {
	if len(in) != 1 || len(in[0]) < 1 {
		return nil, errShape("Flatten", in, "one input")
	}
	return []int{in[0][0], tensor.Numel(in[0][1:])}, nil
}

// Forward transposes to NHWC and flattens.
func (*FlattenNHWC) Forward(e *nn.Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	x := in[0]
	if len(x.Shape) != 4 {
		return x.Clone().Reshape(x.Shape[0], -1), nil
	}
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	out := tensor.New(n, h*w*c)
	for b := 0; b < n; b++ {
		src := x.Data[b*c*h*w:]
		dst := out.Data[b*c*h*w:]
		for ch := 0; ch < c; ch++ {
			for p := 0; p < h*w; p++ {
				dst[p*c+ch] = src[ch*h*w+p]
			}
		}
	}
	return out, nil
}

// Dense is a Keras Dense layer on N×In input: y = act(x·Kernel + Bias),
// Kernel In×Out (Keras layout).
type Dense struct {
	Kernel, Bias *tensor.Tensor
	// Act is "linear", "relu", "relu6", "sigmoid", "softmax" or "tanh".
	Act string
}

var _ nn.ParamOp = (*Dense)(nil)

// Type returns "Dense".
func (*Dense) Type() string { return "Dense" }

// Params returns kernel and bias.
func (d *Dense) Params() []nn.Param {
	p := []nn.Param{{Name: "kernel", Tensor: d.Kernel}}
	if d.Bias != nil {
		p = append(p, nn.Param{Name: "bias", Tensor: d.Bias})
	}
	return p
}

// OutShape returns N × Out.
func (d *Dense) OutShape(in ...[]int) ([]int, error) {
	if len(in) != 1 || len(in[0]) != 2 || in[0][1] != d.Kernel.Shape[0] {
		return nil, errShape("Dense", in, fmt.Sprintf("N×%d", d.Kernel.Shape[0]))
	}
	return []int{in[0][0], d.Kernel.Shape[1]}, nil
}

// FLOPs returns 2·N·In·Out.
func (d *Dense) FLOPs(in ...[]int) int64 {
	return 2 * int64(in[0][0]) * int64(d.Kernel.Shape[0]) * int64(d.Kernel.Shape[1])
}

// Forward computes the layer.
func (d *Dense) Forward(e *nn.Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	os, err := d.OutShape(in[0].Shape)
	if err != nil {
		return nil, err
	}
	out := tensor.New(os...)
	n, k, m := os[0], d.Kernel.Shape[0], os[1]
	if d.Bias != nil {
		for i := 0; i < n; i++ {
			copy(out.Data[i*m:(i+1)*m], d.Bias.Data)
		}
	}
	gemm.Sgemm(false, false, n, m, k, 1, in[0].Data, k, d.Kernel.Data, m, 1, out.Data, m)
	if err := activate(d.Act, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Activation is a Keras Activation layer (or a layer's activation) applied
// on its own: relu, relu6, sigmoid, tanh, softmax (over axis 1, i.e. the
// Keras channels axis), linear.
type Activation struct{ Fn string }

// Type returns the activation name, e.g. "Sigmoid".
func (a *Activation) Type() string { return "Activation(" + a.Fn + ")" }

// OutShape returns the input shape.
func (a *Activation) OutShape(in ...[]int) ([]int, error) {
	if len(in) != 1 {
		return nil, errShape(a.Type(), in, "one input")
	}
	return append([]int(nil), in[0]...), nil
}

// Forward applies the activation to a copy of the input.
func (a *Activation) Forward(e *nn.Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	out := in[0].Clone()
	return out, activate(a.Fn, out)
}

func knownActivation(fn string) bool {
	switch fn {
	case "", "linear", "relu", "relu6", "sigmoid", "tanh", "softmax":
		return true
	}
	return false
}

// activate applies fn in place.
func activate(fn string, t *tensor.Tensor) error {
	v := t.Data
	switch fn {
	case "", "linear":
	case "relu":
		applyAct(nn.Act{Kind: nn.ActReLU}, v)
	case "relu6":
		applyAct(nn.Act{Kind: nn.ActReLU6}, v)
	case "sigmoid":
		for i, x := range v {
			v[i] = float32(1 / (1 + math.Exp(-float64(x))))
		}
	case "tanh":
		for i, x := range v {
			v[i] = float32(math.Tanh(float64(x)))
		}
	case "softmax":
		if len(t.Shape) < 2 {
			return fmt.Errorf("softmax on shape %v: %w", t.Shape, nn.ErrShape)
		}
		n, c, inner := t.Shape[0], t.Shape[1], tensor.Numel(t.Shape[2:])
		for b := 0; b < n; b++ {
			for p := 0; p < inner; p++ {
				base := b*c*inner + p
				mx := math.Inf(-1)
				for ch := 0; ch < c; ch++ {
					mx = math.Max(mx, float64(v[base+ch*inner]))
				}
				var s float64
				for ch := 0; ch < c; ch++ {
					s += math.Exp(float64(v[base+ch*inner]) - mx)
				}
				for ch := 0; ch < c; ch++ {
					v[base+ch*inner] = float32(math.Exp(float64(v[base+ch*inner])-mx) / s)
				}
			}
		}
	default:
		return fmt.Errorf("activation %q: %w", fn, ErrUnsupported)
	}
	return nil
}

// Identity returns its input unchanged (Dropout at inference).
type Identity struct{ Name string }

// Type returns the Keras class (e.g. "Dropout").
func (i *Identity) Type() string { return i.Name }

// OutShape returns the input shape.
func (i *Identity) OutShape(in ...[]int) ([]int, error) {
	if len(in) != 1 {
		return nil, errShape(i.Name, in, "one input")
	}
	return append([]int(nil), in[0]...), nil
}

// Forward returns the input itself.
func (i *Identity) Forward(e *nn.Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	return in[0], nil
}
