package nn

import (
	"fmt"

	"github.com/preconv/preconv/tensor"
)

// poolGeom is the shared window geometry of MaxPool2d and AvgPool2d.
type poolGeom struct {
	n, c, h, w, oh, ow int
	kh, kw, sh, sw     int
	dh, dw             int
	pt, pl, pb, pr     int
}

// poolOut returns the PyTorch pooled length for one axis:
// ⌊(in + p0 + p1 − d·(k−1) − 1 + (ceil ? s−1 : 0)) / s⌋ + 1, minus one when
// ceil mode would start the last window past the input and leading pad.
func poolOut(in, k, s, d, p0, p1 int, ceil bool) int {
	num := in + p0 + p1 - d*(k-1) - 1
	if ceil {
		num += s - 1
	}
	if num < 0 {
		return 0
	}
	o := num/s + 1
	if ceil && (o-1)*s >= in+p0 {
		o--
	}
	return o
}

func poolGeometry(op string, in [][]int, kernel, stride [2]int, pad [4]int, dil [2]int, ceil bool) (poolGeom, error) {
	var g poolGeom
	if len(in) != 1 {
		return g, fmt.Errorf("%s: %d inputs, want 1: %w", op, len(in), ErrShape)
	}
	if err := shape4(op, in[0]); err != nil {
		return g, err
	}
	g.n, g.c, g.h, g.w = in[0][0], in[0][1], in[0][2], in[0][3]
	g.kh, g.kw = kernel[0], kernel[1]
	g.sh, g.sw = stride[0], stride[1]
	if g.sh == 0 {
		g.sh = g.kh
	}
	if g.sw == 0 {
		g.sw = g.kw
	}
	g.dh, g.dw = one(dil[0]), one(dil[1])
	g.pt, g.pl, g.pb, g.pr = pad[0], pad[1], pad[2], pad[3]
	if g.kh < 1 || g.kw < 1 || g.sh < 1 || g.sw < 1 || g.pt < 0 || g.pl < 0 || g.pb < 0 || g.pr < 0 {
		return g, fmt.Errorf("%s: kernel %v stride %v pad %v: %w", op, kernel, stride, pad, ErrConfig)
	}
	g.oh = poolOut(g.h, g.kh, g.sh, g.dh, g.pt, g.pb, ceil)
	g.ow = poolOut(g.w, g.kw, g.sw, g.dw, g.pl, g.pr, ceil)
	if g.oh < 1 || g.ow < 1 {
		return g, fmt.Errorf("%s: input %v too small for kernel %v pad %v: %w", op, in[0], kernel, pad, ErrShape)
	}
	return g, nil
}

// MaxPool2d takes the maximum over KH×KW windows (NCHW). Padding counts as
// −∞ (never selected), as in PyTorch.
type MaxPool2d struct {
	Kernel [2]int
	// Stride is (sh, sw); zero means the kernel size (PyTorch default).
	Stride [2]int
	// Pad is [top, left, bottom, right].
	Pad [4]int
	// Dilation is (dh, dw); zero means 1.
	Dilation [2]int
	// CeilMode rounds the output size up (PyTorch ceil_mode).
	CeilMode bool
}

var _ Op = (*MaxPool2d)(nil)

// NewMaxPool2d returns a square max pool with symmetric padding.
func NewMaxPool2d(kernel, stride, pad int) *MaxPool2d {
	return &MaxPool2d{Kernel: [2]int{kernel, kernel}, Stride: [2]int{stride, stride}, Pad: [4]int{pad, pad, pad, pad}}
}

// Type returns "MaxPool2d".
func (*MaxPool2d) Type() string { return "MaxPool2d" }

// OutShape returns N×C×OH×OW (see poolOut for PyTorch's rounding).
func (p *MaxPool2d) OutShape(in ...[]int) ([]int, error) {
	g, err := poolGeometry("MaxPool2d", in, p.Kernel, p.Stride, p.Pad, p.Dilation, p.CeilMode)
	if err != nil {
		return nil, err
	}
	return []int{g.n, g.c, g.oh, g.ow}, nil
}

// Forward returns the pooled tensor.
func (p *MaxPool2d) Forward(e *Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	shapes := [][]int{nil}
	if len(in) == 1 {
		shapes[0] = in[0].Shape
	}
	g, err := poolGeometry("MaxPool2d", shapes, p.Kernel, p.Stride, p.Pad, p.Dilation, p.CeilMode)
	if err != nil {
		return nil, err
	}
	x := in[0]
	out := tensor.New(g.n, g.c, g.oh, g.ow)
	outer, _ := e.split(g.n * g.c)
	parallelFor(g.n*g.c, outer, func(pl int) {
		src := x.Data[pl*g.h*g.w : (pl+1)*g.h*g.w]
		dst := out.Data[pl*g.oh*g.ow : (pl+1)*g.oh*g.ow]
		if g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.dh == 1 && g.dw == 1 &&
			g.pt == 0 && g.pl == 0 && 2*g.oh <= g.h && 2*g.ow <= g.w {
			for oy := 0; oy < g.oh; oy++ {
				r0 := src[2*oy*g.w : 2*oy*g.w+g.w]
				r1 := src[(2*oy+1)*g.w : (2*oy+1)*g.w+g.w]
				d := dst[oy*g.ow : (oy+1)*g.ow]
				for ox := range d {
					m := max(r0[2*ox], r0[2*ox+1], r1[2*ox], r1[2*ox+1])
					d[ox] = m
				}
			}
			return
		}
		for oy := 0; oy < g.oh; oy++ {
			for ox := 0; ox < g.ow; ox++ {
				m := float32(-inf)
				found := false
				for ky := 0; ky < g.kh; ky++ {
					iy := oy*g.sh - g.pt + ky*g.dh
					if iy < 0 || iy >= g.h {
						continue
					}
					for kx := 0; kx < g.kw; kx++ {
						ix := ox*g.sw - g.pl + kx*g.dw
						if ix < 0 || ix >= g.w {
							continue
						}
						v := src[iy*g.w+ix]
						if !found || v > m || v != v {
							m, found = v, true
						}
					}
				}
				dst[oy*g.ow+ox] = m
			}
		}
	})
	return out, nil
}

// AvgPool2d averages over KH×KW windows (NCHW), with PyTorch's divisor rules.
type AvgPool2d struct {
	Kernel [2]int
	// Stride is (sh, sw); zero means the kernel size (PyTorch default).
	Stride [2]int
	// Pad is [top, left, bottom, right].
	Pad [4]int
	// CeilMode rounds the output size up (PyTorch ceil_mode).
	CeilMode bool
	// CountIncludePad divides by the window size clipped to the padded
	// input (PyTorch count_include_pad=True, its default); otherwise by the
	// number of real input pixels in the window.
	CountIncludePad bool
}

var _ Op = (*AvgPool2d)(nil)

// NewAvgPool2d returns a square average pool with symmetric padding and
// count_include_pad=true (PyTorch defaults).
func NewAvgPool2d(kernel, stride, pad int) *AvgPool2d {
	return &AvgPool2d{Kernel: [2]int{kernel, kernel}, Stride: [2]int{stride, stride},
		Pad: [4]int{pad, pad, pad, pad}, CountIncludePad: true}
}

// Type returns "AvgPool2d".
func (*AvgPool2d) Type() string { return "AvgPool2d" }

// OutShape returns N×C×OH×OW.
func (p *AvgPool2d) OutShape(in ...[]int) ([]int, error) {
	g, err := poolGeometry("AvgPool2d", in, p.Kernel, p.Stride, p.Pad, [2]int{}, p.CeilMode)
	if err != nil {
		return nil, err
	}
	return []int{g.n, g.c, g.oh, g.ow}, nil
}

// Forward returns the pooled tensor.
func (p *AvgPool2d) Forward(e *Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	shapes := [][]int{nil}
	if len(in) == 1 {
		shapes[0] = in[0].Shape
	}
	g, err := poolGeometry("AvgPool2d", shapes, p.Kernel, p.Stride, p.Pad, [2]int{}, p.CeilMode)
	if err != nil {
		return nil, err
	}
	x := in[0]
	out := tensor.New(g.n, g.c, g.oh, g.ow)
	outer, _ := e.split(g.n * g.c)
	parallelFor(g.n*g.c, outer, func(pl int) {
		src := x.Data[pl*g.h*g.w : (pl+1)*g.h*g.w]
		dst := out.Data[pl*g.oh*g.ow : (pl+1)*g.oh*g.ow]
		for oy := 0; oy < g.oh; oy++ {
			y0 := oy*g.sh - g.pt
			y1 := min(y0+g.kh, g.h+g.pb)
			for ox := 0; ox < g.ow; ox++ {
				x0 := ox*g.sw - g.pl
				x1 := min(x0+g.kw, g.w+g.pr)
				size := (y1 - y0) * (x1 - x0)
				ya, yb, xa, xb := max(y0, 0), min(y1, g.h), max(x0, 0), min(x1, g.w)
				var s float32
				for iy := ya; iy < yb; iy++ {
					for _, v := range src[iy*g.w+xa : iy*g.w+xb] {
						s += v
					}
				}
				if !p.CountIncludePad {
					size = (yb - ya) * (xb - xa)
				}
				if size > 0 {
					s /= float32(size)
				}
				dst[oy*g.ow+ox] = s
			}
		}
	})
	return out, nil
}
