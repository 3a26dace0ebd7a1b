package nn

import (
	"fmt"
	"math"

	"github.com/preconv/preconv/tensor"
)

// BatchNorm2d is inference-mode batch normalization over the channel axis
// of NCHW input:
//
//	y = (x − RunningMean[c]) / sqrt(RunningVar[c] + Eps) · Weight[c] + Bias[c]
type BatchNorm2d struct {
	Channels int
	// Eps is added to the variance (PyTorch default 1e-5, Keras 1e-3).
	Eps float32
	// Weight (gamma), Bias (beta), RunningMean, RunningVar: Channels each.
	Weight, Bias, RunningMean, RunningVar *tensor.Tensor
}

var (
	_ ParamOp = (*BatchNorm2d)(nil)
	_ Coster  = (*BatchNorm2d)(nil)
)

// NewBatchNorm2d returns an identity-initialized BatchNorm2d (weight 1,
// bias 0, mean 0, var 1) with eps 1e-5, as PyTorch initializes it.
func NewBatchNorm2d(channels int) *BatchNorm2d {
	b := &BatchNorm2d{Channels: channels, Eps: 1e-5,
		Weight: tensor.New(channels), Bias: tensor.New(channels),
		RunningMean: tensor.New(channels), RunningVar: tensor.New(channels)}
	for i := 0; i < channels; i++ {
		b.Weight.Data[i], b.RunningVar.Data[i] = 1, 1
	}
	return b
}

// Type returns "BatchNorm2d".
func (*BatchNorm2d) Type() string { return "BatchNorm2d" }

// Params returns weight, bias, running_mean, running_var (PyTorch names).
func (b *BatchNorm2d) Params() []Param {
	return []Param{{"weight", b.Weight}, {"bias", b.Bias}, {"running_mean", b.RunningMean}, {"running_var", b.RunningVar}}
}

func (b *BatchNorm2d) check(in [][]int) error {
	if len(in) != 1 {
		return fmt.Errorf("BatchNorm2d: %d inputs, want 1: %w", len(in), ErrShape)
	}
	if len(in[0]) < 2 || in[0][1] != b.Channels {
		return fmt.Errorf("BatchNorm2d: input %v, want %d channels on axis 1: %w", in[0], b.Channels, ErrShape)
	}
	for _, p := range b.Params() {
		if p.Tensor == nil || !tensor.SameShape(p.Tensor.Shape, []int{b.Channels}) {
			var s []int
			if p.Tensor != nil {
				s = p.Tensor.Shape
			}
			return fmt.Errorf("BatchNorm2d: %s shape %v, want [%d]: %w", p.Name, s, b.Channels, ErrShape)
		}
	}
	return nil
}

// OutShape returns the input shape.
func (b *BatchNorm2d) OutShape(in ...[]int) ([]int, error) {
	if err := b.check(in); err != nil {
		return nil, err
	}
	return append([]int(nil), in[0]...), nil
}

// FLOPs returns 2 per element.
func (b *BatchNorm2d) FLOPs(in ...[]int) int64 {
	if len(in) != 1 {
		return 0
	}
	return 2 * int64(tensor.Numel(in[0]))
}

// ScaleShift returns the per-channel affine form y = x·scale + shift,
// computed in float64.
func (b *BatchNorm2d) ScaleShift() (scale, shift []float32) {
	scale, shift = make([]float32, b.Channels), make([]float32, b.Channels)
	for c := 0; c < b.Channels; c++ {
		s := float64(b.Weight.Data[c]) / math.Sqrt(float64(b.RunningVar.Data[c])+float64(b.Eps))
		scale[c] = float32(s)
		shift[c] = float32(float64(b.Bias.Data[c]) - float64(b.RunningMean.Data[c])*s)
	}
	return scale, shift
}

// Forward returns the normalized tensor.
func (b *BatchNorm2d) Forward(e *Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	shapes := make([][]int, len(in))
	for i, t := range in {
		shapes[i] = t.Shape
	}
	if err := b.check(shapes); err != nil {
		return nil, err
	}
	x := in[0]
	scale, shift := b.ScaleShift()
	out := tensor.New(x.Shape...)
	inner := tensor.Numel(x.Shape[2:])
	for i := 0; i < len(x.Data)/max(1, inner); i++ {
		c := i % b.Channels
		s, t := scale[c], shift[c]
		src, dst := x.Data[i*inner:(i+1)*inner], out.Data[i*inner:(i+1)*inner]
		for j, v := range src {
			dst[j] = v*s + t
		}
	}
	return out, nil
}

// FoldBatchNorm folds bn, applied right after conv, into conv's weight and
// bias (creating the bias if absent), so conv alone computes bn(conv(x)):
//
//	W'[o] = W[o]·scale[o],  b'[o] = b[o]·scale[o] + shift[o]
//
// It modifies conv in place. conv must not already have a fused activation.
func FoldBatchNorm(conv *Conv2d, bn *BatchNorm2d) error {
	if err := bn.check([][]int{{1, bn.Channels}}); err != nil {
		return err
	}
	if conv.OutChannels != bn.Channels || conv.Weight == nil || conv.Weight.Shape[0] != bn.Channels {
		return fmt.Errorf("FoldBatchNorm: conv has %d output channels, batchnorm %d: %w", conv.OutChannels, bn.Channels, ErrShape)
	}
	if conv.Act.Kind != ActNone {
		return fmt.Errorf("FoldBatchNorm: conv already applies %s: %w", conv.Act, ErrConfig)
	}
	scale, shift := bn.ScaleShift()
	per := len(conv.Weight.Data) / bn.Channels
	w := conv.Weight.Clone()
	for o := 0; o < bn.Channels; o++ {
		row := w.Data[o*per : (o+1)*per]
		for i := range row {
			row[i] *= scale[o]
		}
	}
	b := tensor.New(bn.Channels)
	for o := range b.Data {
		var old float32
		if conv.Bias != nil {
			old = conv.Bias.Data[o]
		}
		b.Data[o] = old*scale[o] + shift[o]
	}
	conv.Weight, conv.Bias = w, b
	return nil
}
