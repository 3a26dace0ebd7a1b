package nn

import (
	"fmt"

	"github.com/preconv/preconv/tensor"
)

// AdaptiveAvgPool2d averages NCHW input to a fixed OH×OW output with
// PyTorch's bins: output row i covers input rows ⌊i·H/OH⌋ ..
// ⌈(i+1)·H/OH⌉−1 (bins overlap when H is not a multiple of OH, and repeat
// rows when H < OH); likewise for columns.
type AdaptiveAvgPool2d struct {
	// Out is (OH, OW).
	Out [2]int
}

var _ Op = (*AdaptiveAvgPool2d)(nil)

// Type returns "AdaptiveAvgPool2d".
func (*AdaptiveAvgPool2d) Type() string { return "AdaptiveAvgPool2d" }

// OutShape returns N×C×OH×OW.
func (p *AdaptiveAvgPool2d) OutShape(in ...[]int) ([]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("AdaptiveAvgPool2d: %d inputs, want 1: %w", len(in), ErrShape)
	}
	if err := shape4("AdaptiveAvgPool2d", in[0]); err != nil {
		return nil, err
	}
	if p.Out[0] < 1 || p.Out[1] < 1 {
		return nil, fmt.Errorf("AdaptiveAvgPool2d: output size %v: %w", p.Out, ErrConfig)
	}
	if in[0][2] < 1 || in[0][3] < 1 {
		return nil, fmt.Errorf("AdaptiveAvgPool2d: empty input %v: %w", in[0], ErrShape)
	}
	return []int{in[0][0], in[0][1], p.Out[0], p.Out[1]}, nil
}

// Forward returns the pooled tensor.
func (p *AdaptiveAvgPool2d) Forward(e *Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	shapes := make([][]int, len(in))
	for i, t := range in {
		shapes[i] = t.Shape
	}
	os, err := p.OutShape(shapes...)
	if err != nil {
		return nil, err
	}
	x := in[0]
	n, c, h, w, oh, ow := os[0], os[1], x.Shape[2], x.Shape[3], os[2], os[3]
	out := tensor.New(os...)
	outer, _ := e.split(n * c)
	parallelFor(n*c, outer, func(pl int) {
		src := x.Data[pl*h*w : (pl+1)*h*w]
		dst := out.Data[pl*oh*ow : (pl+1)*oh*ow]
		for i := 0; i < oh; i++ {
			y0, y1 := i*h/oh, ((i+1)*h+oh-1)/oh
			for j := 0; j < ow; j++ {
				x0, x1 := j*w/ow, ((j+1)*w+ow-1)/ow
				var s float32
				for y := y0; y < y1; y++ {
					for _, v := range src[y*w+x0 : y*w+x1] {
						s += v
					}
				}
				dst[i*ow+j] = s / float32((y1-y0)*(x1-x0))
			}
		}
	})
	return out, nil
}

// GlobalAvgPool averages each channel of NCHW input to N×C×1×1.
type GlobalAvgPool struct{}

// GlobalMaxPool takes each channel's maximum of NCHW input, N×C×1×1.
type GlobalMaxPool struct{}

var (
	_ Op = (*GlobalAvgPool)(nil)
	_ Op = (*GlobalMaxPool)(nil)
)

// Type returns "GlobalAvgPool".
func (*GlobalAvgPool) Type() string { return "GlobalAvgPool" }

// Type returns "GlobalMaxPool".
func (*GlobalMaxPool) Type() string { return "GlobalMaxPool" }

func globalShape(op string, in [][]int) ([]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("%s: %d inputs, want 1: %w", op, len(in), ErrShape)
	}
	if err := shape4(op, in[0]); err != nil {
		return nil, err
	}
	if in[0][2] < 1 || in[0][3] < 1 {
		return nil, fmt.Errorf("%s: empty input %v: %w", op, in[0], ErrShape)
	}
	return []int{in[0][0], in[0][1], 1, 1}, nil
}

// OutShape returns N×C×1×1.
func (*GlobalAvgPool) OutShape(in ...[]int) ([]int, error) { return globalShape("GlobalAvgPool", in) }

// OutShape returns N×C×1×1.
func (*GlobalMaxPool) OutShape(in ...[]int) ([]int, error) { return globalShape("GlobalMaxPool", in) }

func globalReduce(op string, in []*tensor.Tensor, isMax bool) (*tensor.Tensor, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("%s: %d inputs, want 1: %w", op, len(in), ErrShape)
	}
	os, err := globalShape(op, [][]int{in[0].Shape})
	if err != nil {
		return nil, err
	}
	out := tensor.New(os...)
	hw := in[0].Shape[2] * in[0].Shape[3]
	for i := range out.Data {
		plane := in[0].Data[i*hw : (i+1)*hw]
		if isMax {
			m := plane[0]
			for _, v := range plane[1:] {
				if v > m || v != v {
					m = v
				}
			}
			out.Data[i] = m
			continue
		}
		var s float64
		for _, v := range plane {
			s += float64(v)
		}
		out.Data[i] = float32(s / float64(hw))
	}
	return out, nil
}

// Forward returns the per-channel means.
func (*GlobalAvgPool) Forward(e *Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	return globalReduce("GlobalAvgPool", in, false)
}

// Forward returns the per-channel maxima.
func (*GlobalMaxPool) Forward(e *Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	return globalReduce("GlobalMaxPool", in, true)
}
