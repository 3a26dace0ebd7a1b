package nn

import (
	"fmt"
	"math"

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
	out := e.Output(g.n, g.c, g.oh, g.ow)
	outer, _ := e.split(g.n * g.c)
	pp := g.plan()
	fast2 := g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.dh == 1 && g.dw == 1 &&
		g.pt == 0 && g.pl == 0 && 2*g.oh <= g.h && 2*g.ow <= g.w
	if fast2 && g.n*g.c*g.oh*g.ow < maxPool2Serial {
		outer = 1
	}
	parallelFor(g.n*g.c, outer, func(pl int) {
		src := x.Data[pl*g.h*g.w : (pl+1)*g.h*g.w]
		dst := out.Data[pl*g.oh*g.ow : (pl+1)*g.oh*g.ow]
		if fast2 {
			for oy := 0; oy < g.oh; oy++ {
				max2x2(dst[oy*g.ow:(oy+1)*g.ow], src[2*oy*g.w:2*oy*g.w+g.w], src[(2*oy+1)*g.w:(2*oy+1)*g.w+g.w])
			}
			return
		}
		at := func(oy, ox int) {
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
		pp.run(dst, src, nil, at)
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
	out := e.Output(g.n, g.c, g.oh, g.ow)
	outer, _ := e.split(g.n * g.c)
	pp := g.plan()
	// Interior windows are averaged by the depthwise tap kernel with
	// weights 1/(KH·KW); at recomputes the border ones exactly.
	w := make([]float32, g.kh*g.kw)
	for i := range w {
		w[i] = 1 / float32(len(w))
	}
	parallelFor(g.n*g.c, outer, func(pl int) {
		src := x.Data[pl*g.h*g.w : (pl+1)*g.h*g.w]
		dst := out.Data[pl*g.oh*g.ow : (pl+1)*g.oh*g.ow]
		at := func(oy, ox int) {
			y0 := oy*g.sh - g.pt
			y1 := min(y0+g.kh, g.h+g.pb)
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
		pp.run(dst, src, w, at)
	})
	return out, nil
}

// poolPlan is the per-op part of pooled: the interior output ranges and
// the tap layout, shared by every plane.
type poolPlan struct {
	g                  *poolGeom
	yLo, yHi, xLo, xHi int // interior outputs: [yLo, yHi) × [xLo, xHi)
	y0, x0             int // input corner of the first interior window
	cg                 convGeom
	d                  dwGeom
	inPlace            bool // stride-1 columns: taps read the input rows directly
}

// plan computes g's interior: the outputs whose window lies inside the
// unpadded input (oy·sh − pt ≥ 0 and oy·sh − pt + dh·(kh−1) < h, same for x).
func (g *poolGeom) plan() *poolPlan {
	span := func(o, s, p, k, d, in int) (lo, hi int) {
		lo = (p + s - 1) / s
		if last := in + p - d*(k-1) - 1; last >= 0 {
			hi = last/s + 1
		}
		return min(lo, o), max(min(hi, o), min(lo, o))
	}
	pp := &poolPlan{g: g}
	pp.yLo, pp.yHi = span(g.oh, g.sh, g.pt, g.kh, g.dh, g.h)
	pp.xLo, pp.xHi = span(g.ow, g.sw, g.pl, g.kw, g.dw, g.w)
	if pp.yHi <= pp.yLo || pp.xHi <= pp.xLo {
		pp.yLo, pp.yHi, pp.xLo, pp.xHi = 0, 0, 0, 0
		return pp
	}
	// The interior as a pad-free conv over the input window starting at
	// (y0, x0).
	pp.y0, pp.x0 = pp.yLo*g.sh-g.pt, pp.xLo*g.sw-g.pl
	cg := convGeom{oh: pp.yHi - pp.yLo, ow: pp.xHi - pp.xLo, kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw, dh: g.dh, dw: g.dw}
	cg.h = (cg.oh-1)*g.sh + (g.kh-1)*g.dh + 1
	cg.w = (cg.ow-1)*g.sw + (g.kw-1)*g.dw + 1
	pp.cg = cg
	pp.inPlace = g.sw == 1
	if pp.inPlace {
		pp.d = newDwGeom(&pp.cg, g.w-cg.w) // rows g.w apart, read in place
	} else {
		pp.d = newDwGeom(&pp.cg, 0) // columns split into stride phases
	}
	return pp
}

// run fills dst (oh × ow) for one plane src (h × w): the interior outputs
// in one vectorized pass (taps weighted by avgW and summed by dwRows, or
// their maximum by maxRows when avgW is nil), then every other output by
// at(oy, ox), the exact scalar definition.
func (pp *poolPlan) run(dst, src, avgW []float32, at func(oy, ox int)) {
	g := pp.g
	if pp.yHi > pp.yLo {
		win := src[pp.y0*g.w+pp.x0:]
		out := dst[pp.yLo*g.ow+pp.xLo:]
		var buf *[]float32
		b := win
		if !pp.inPlace {
			buf = getScratch(pp.d.rows * pp.d.rowLen)
			b = (*buf)[:pp.d.rows*pp.d.rowLen]
			pp.d.fill(&pp.cg, b, win, g.w)
		}
		if avgW != nil {
			dwRows(out, g.ow, b, pp.d.rs, pp.cg.oh, pp.cg.ow, pp.d.off, avgW, 0, float32(math.Inf(-1)), float32(math.Inf(1)))
		} else {
			maxRows(out, g.ow, b, pp.d.rs, pp.cg.oh, pp.cg.ow, pp.d.off)
		}
		if buf != nil {
			putScratch(buf)
		}
	}
	for oy := 0; oy < g.oh; oy++ {
		if oy >= pp.yLo && oy < pp.yHi {
			for ox := 0; ox < pp.xLo; ox++ {
				at(oy, ox)
			}
			for ox := pp.xHi; ox < g.ow; ox++ {
				at(oy, ox)
			}
			continue
		}
		for ox := 0; ox < g.ow; ox++ {
			at(oy, ox)
		}
	}
}

// maxRows is dwRows with the maximum of the taps (NaN wins) instead of
// their weighted sum, and no clamp.
func maxRows(dst []float32, ldd int, src []float32, rs, oh, ow int, off []int) {
	for oy := 0; oy < oh; oy++ {
		out := dst[oy*ldd : oy*ldd+ow]
		base := oy * rs
		copy(out, src[base+off[0]:])
		for _, o := range off[1:] {
			in := src[base+o : base+o+len(out)]
			for i, v := range in {
				out[i] = max(out[i], v)
			}
		}
	}
}
