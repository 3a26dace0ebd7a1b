package nn

import (
	"fmt"
	"math"

	"github.com/preconv/preconv/gemm"
	"github.com/preconv/preconv/tensor"
)

// Conv2d is a 2-D convolution (cross-correlation, as in PyTorch) on NCHW
// input:
//
//	y[n,o,i,j] = act(b[o] + Σ_{c,ky,kx} W[o,c,ky,kx] ·
//	             x[n, g·Cg+c, i·sh − pt + ky·dh, j·sw − pl + kx·dw])
//
// where g = o / (OutChannels/Groups), Cg = InChannels/Groups, and x is zero
// outside the image. Weight is OIHW: OutChannels × InChannels/Groups × KH × KW.
//
// It runs as im2col + gemm.Sgemm per image and group, with a 1×1 stride-1
// unpadded fast path that multiplies the input directly (M = OutChannels,
// K = InChannels, N = OH·OW, no copies), a vectorized direct kernel for
// depthwise convs (one input channel per group; any kernel, stride,
// dilation and padding, bias and activation in the same pass: see
// depthwise.go), and a hook (Fast, optionally BatchFastConv) for a
// specialized 3×3 stride-1 kernel such as Winograd. Bias and activation
// otherwise follow in one vectorized pass per output channel.
type Conv2d struct {
	InChannels, OutChannels int
	// Kernel is (KH, KW).
	Kernel [2]int
	// Stride is (sh, sw); zero means 1.
	Stride [2]int
	// Pad is the zero padding [top, left, bottom, right], so asymmetric
	// TF 'same' and ONNX pads are expressible.
	Pad [4]int
	// Dilation is (dh, dw); zero means 1.
	Dilation [2]int
	// Groups splits channels into independent groups; zero means 1.
	// Groups == InChannels with one input channel per group is depthwise.
	Groups int
	// Weight is OutChannels × InChannels/Groups × KH × KW.
	Weight *tensor.Tensor
	// Bias is OutChannels values, or nil for none.
	Bias *tensor.Tensor
	// Act is applied to the output in the same pass (fused activation).
	Act Act
	// Fast, when non-nil, is tried first for 3×3 stride-1 dilation-1
	// groups-1 convs (see FastConv). It must cope with weights changing
	// after it was attached (e.g. transform lazily on first use).
	Fast FastConv
}

// FastConv is a specialized kernel for some Conv2d configurations (the hook
// used by the Winograd F(4×4,3×3) path in package nn/winograd).
type FastConv interface {
	// ConvImage writes into dst (OutChannels × OH × OW) the convolution of
	// one image x (InChannels × h × w) by c, including c.Bias and c.Act
	// (see Act.Apply), using up to threads goroutines. It returns false, without
	// having written dst, when it does not handle c's configuration.
	ConvImage(c *Conv2d, dst, x []float32, h, w, threads int) bool
}

// BatchFastConv is an optional extension of FastConv for kernels that do
// better with the whole batch in one call (Winograd tiles blocks across
// images). Conv2d.Forward uses it, when Fast implements it, in place of
// per-image ConvImage calls.
type BatchFastConv interface {
	FastConv
	// ConvBatch is ConvImage for n images: x is n × InChannels × h × w,
	// dst is n × OutChannels × OH × OW. It uses up to threads goroutines
	// and returns false, without having written dst, when it does not
	// handle c's configuration.
	ConvBatch(c *Conv2d, dst, x []float32, n, h, w, threads int) bool
}

var (
	_ ParamOp = (*Conv2d)(nil)
	_ Coster  = (*Conv2d)(nil)
)

// NewConv2d returns a conv with a square kernel, symmetric padding, zero
// weights and (if bias) a zero bias.
func NewConv2d(in, out, kernel, stride, pad int, bias bool) *Conv2d {
	c := &Conv2d{
		InChannels: in, OutChannels: out,
		Kernel: [2]int{kernel, kernel}, Stride: [2]int{stride, stride},
		Pad: [4]int{pad, pad, pad, pad}, Dilation: [2]int{1, 1}, Groups: 1,
		Weight: tensor.New(out, in, kernel, kernel),
	}
	if bias {
		c.Bias = tensor.New(out)
	}
	return c
}

// Type returns "Conv2d".
func (c *Conv2d) Type() string { return "Conv2d" }

// Params returns weight and, if present, bias.
func (c *Conv2d) Params() []Param {
	p := []Param{{Name: "weight", Tensor: c.Weight}}
	if c.Bias != nil {
		p = append(p, Param{Name: "bias", Tensor: c.Bias})
	}
	return p
}

type convGeom struct {
	n, cin, h, w     int
	cout, oh, ow     int
	kh, kw, sh, sw   int
	dh, dw, groups   int
	pt, pl           int
	cg, og, kc, npix int
}

func one(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

func (c *Conv2d) geom(in []int) (convGeom, error) {
	var g convGeom
	if err := shape4("Conv2d", in); err != nil {
		return g, err
	}
	g.n, g.cin, g.h, g.w = in[0], in[1], in[2], in[3]
	g.kh, g.kw = c.Kernel[0], c.Kernel[1]
	g.sh, g.sw = one(c.Stride[0]), one(c.Stride[1])
	g.dh, g.dw = one(c.Dilation[0]), one(c.Dilation[1])
	g.groups = one(c.Groups)
	g.pt, g.pl = c.Pad[0], c.Pad[1]
	g.cout = c.OutChannels
	if g.kh < 1 || g.kw < 1 || g.sh < 1 || g.sw < 1 || g.dh < 1 || g.dw < 1 || g.groups < 1 ||
		c.Pad[0] < 0 || c.Pad[1] < 0 || c.Pad[2] < 0 || c.Pad[3] < 0 {
		return g, fmt.Errorf("Conv2d: kernel %v stride %v pad %v dilation %v groups %d: %w",
			c.Kernel, c.Stride, c.Pad, c.Dilation, c.Groups, ErrConfig)
	}
	if g.cin != c.InChannels || c.InChannels%g.groups != 0 || c.OutChannels%g.groups != 0 {
		return g, fmt.Errorf("Conv2d: input %v, layer in=%d out=%d groups=%d: %w",
			in, c.InChannels, c.OutChannels, g.groups, ErrShape)
	}
	g.cg, g.og = g.cin/g.groups, g.cout/g.groups
	want := []int{g.cout, g.cg, g.kh, g.kw}
	if c.Weight == nil || !tensor.SameShape(c.Weight.Shape, want) {
		var ws []int
		if c.Weight != nil {
			ws = c.Weight.Shape
		}
		return g, fmt.Errorf("Conv2d: weight shape %v, want %v: %w", ws, want, ErrShape)
	}
	if c.Bias != nil && !tensor.SameShape(c.Bias.Shape, []int{g.cout}) {
		return g, fmt.Errorf("Conv2d: bias shape %v, want [%d]: %w", c.Bias.Shape, g.cout, ErrShape)
	}
	eh := g.h + c.Pad[0] + c.Pad[2] - g.dh*(g.kh-1) - 1
	ew := g.w + c.Pad[1] + c.Pad[3] - g.dw*(g.kw-1) - 1
	if eh < 0 || ew < 0 {
		return g, fmt.Errorf("Conv2d: input %v too small for kernel %v dilation %v pad %v: %w",
			in, c.Kernel, c.Dilation, c.Pad, ErrShape)
	}
	g.oh, g.ow = eh/g.sh+1, ew/g.sw+1
	g.kc = g.cg * g.kh * g.kw
	g.npix = g.oh * g.ow
	return g, nil
}

// OutShape returns N × OutChannels × OH × OW with
// OH = ⌊(H + pt + pb − dh·(KH−1) − 1)/sh⌋ + 1 (likewise OW).
func (c *Conv2d) OutShape(in ...[]int) ([]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("Conv2d: %d inputs, want 1: %w", len(in), ErrShape)
	}
	g, err := c.geom(in[0])
	if err != nil {
		return nil, err
	}
	return []int{g.n, g.cout, g.oh, g.ow}, nil
}

// FLOPs returns 2·N·OutChannels·OH·OW·(InChannels/Groups)·KH·KW.
func (c *Conv2d) FLOPs(in ...[]int) int64 {
	if len(in) != 1 {
		return 0
	}
	g, err := c.geom(in[0])
	if err != nil {
		return 0
	}
	return 2 * int64(g.n) * int64(g.cout) * int64(g.npix) * int64(g.kc)
}

// Forward computes the convolution of in[0] (NCHW) into a new tensor.
func (c *Conv2d) Forward(e *Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("Conv2d: %d inputs, want 1: %w", len(in), ErrShape)
	}
	x := in[0]
	g, err := c.geom(x.Shape)
	if err != nil {
		return nil, err
	}
	out := e.Output(g.n, g.cout, g.oh, g.ow)
	if bf, ok := c.Fast.(BatchFastConv); ok && c.fastEligible(&g) &&
		bf.ConvBatch(c, out.Data, x.Data, g.n, g.h, g.w, e.threads()) {
		return out, nil
	}
	inPer, outPer := g.cin*g.h*g.w, g.cout*g.npix
	outer, inner := e.split(g.n)
	parallelFor(g.n, outer, func(i int) {
		c.image(&g, out.Data[i*outPer:(i+1)*outPer], x.Data[i*inPer:(i+1)*inPer], inner)
	})
	return out, nil
}

// image convolves one image x into dst using up to threads goroutines.
func (c *Conv2d) image(g *convGeom, dst, x []float32, threads int) {
	switch {
	case c.fastEligible(g) && c.Fast.ConvImage(c, dst, x, g.h, g.w, threads):
		return
	case g.cg == 1:
		c.depthwise(g, dst, x, threads)
		return // bias and activation applied by the kernel
	case g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && c.Pad == [4]int{}:
		for gr := 0; gr < g.groups; gr++ {
			w := c.Weight.Data[gr*g.og*g.kc : (gr+1)*g.og*g.kc]
			xs := x[gr*g.cg*g.npix : (gr+1)*g.cg*g.npix]
			gemm.SgemmParallel(threads, false, false, g.og, g.npix, g.kc, 1, w, g.kc, xs, g.npix, 0,
				dst[gr*g.og*g.npix:(gr+1)*g.og*g.npix], g.npix)
		}
	default:
		// Column blocks of nb output pixels keep the im2col buffer near
		// colBlockFloats (a few MB) whatever the image size.
		nb := min(g.npix, max(256, colBlockFloats/max(1, g.kc)))
		buf := getScratch(g.kc * nb)
		col := *buf
		for gr := 0; gr < g.groups; gr++ {
			xs := x[gr*g.cg*g.h*g.w : (gr+1)*g.cg*g.h*g.w]
			w := c.Weight.Data[gr*g.og*g.kc : (gr+1)*g.og*g.kc]
			out := dst[gr*g.og*g.npix : (gr+1)*g.og*g.npix]
			for p0 := 0; p0 < g.npix; p0 += nb {
				p1 := min(p0+nb, g.npix)
				im2col(g, col[:g.kc*(p1-p0)], xs, p0, p1)
				gemm.SgemmParallel(threads, false, false, g.og, p1-p0, g.kc, 1, w, g.kc, col, p1-p0, 0,
					out[p0:], g.npix)
			}
		}
		putScratch(buf)
	}
	c.biasAct(g, dst)
}

// fastEligible reports whether c has a FastConv and g is the 3×3
// stride-1 dilation-1 ungrouped configuration it is offered.
func (c *Conv2d) fastEligible(g *convGeom) bool {
	return c.Fast != nil && g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 &&
		g.dh == 1 && g.dw == 1 && g.groups == 1
}

// biasAct adds the bias and applies the fused activation per channel
// (one vectorized pass per channel).
func (c *Conv2d) biasAct(g *convGeom, dst []float32) {
	if c.Bias == nil {
		c.Act.apply(dst)
		return
	}
	lo, hi, ok := c.Act.bounds()
	if !ok {
		lo, hi = float32(math.Inf(-1)), float32(math.Inf(1))
	}
	for o := 0; o < g.cout; o++ {
		biasClamp(dst[o*g.npix:(o+1)*g.npix], c.Bias.Data[o], lo, hi)
	}
}

// colBlockFloats is the target size of one im2col column block (4 MiB).
const colBlockFloats = 1 << 20

// im2col writes the (cg·kh·kw) × (p1−p0) column matrix of output pixels
// [p0, p1) (row-major over oh×ow) of one group of one image x (cg × h × w)
// into col, with row stride p1−p0.
func im2col(g *convGeom, col, x []float32, p0, p1 int) {
	np := p1 - p0
	r := 0
	for ci := 0; ci < g.cg; ci++ {
		plane := x[ci*g.h*g.w : (ci+1)*g.h*g.w]
		for ky := 0; ky < g.kh; ky++ {
			for kx := 0; kx < g.kw; kx++ {
				row := col[r*np : (r+1)*np]
				r++
				x0 := kx*g.dw - g.pl
				for p := p0; p < p1; {
					oy, ox0 := p/g.ow, p%g.ow
					ox1 := min(g.ow, ox0+p1-p) // this output row's part of the block
					orow := row[p-p0 : p-p0+ox1-ox0]
					p += ox1 - ox0
					iy := oy*g.sh - g.pt + ky*g.dh
					if iy < 0 || iy >= g.h {
						clear(orow)
						continue
					}
					in := plane[iy*g.w : (iy+1)*g.w]
					if g.sw == 1 {
						// ox valid when 0 <= ox+x0 < w.
						lo, hi := max(ox0, -x0), min(ox1, g.w-x0)
						if hi < lo {
							lo, hi = ox0, ox0
						}
						clear(orow[:lo-ox0])
						copy(orow[lo-ox0:hi-ox0], in[lo+x0:hi+x0])
						clear(orow[hi-ox0:])
						continue
					}
					for ox := ox0; ox < ox1; ox++ {
						ix := ox*g.sw + x0
						if ix < 0 || ix >= g.w {
							orow[ox-ox0] = 0
						} else {
							orow[ox-ox0] = in[ix]
						}
					}
				}
			}
		}
	}
}

// direct computes a conv with one input channel per group (depthwise and
// its channel-multiplier variants) without im2col.
func (c *Conv2d) direct(g *convGeom, dst, x []float32) {
	mult := g.og // output channels per group, each reads input channel o/mult
	for o := 0; o < g.cout; o++ {
		plane := x[(o/mult)*g.h*g.w : (o/mult+1)*g.h*g.w]
		w := c.Weight.Data[o*g.kh*g.kw : (o+1)*g.kh*g.kw]
		out := dst[o*g.npix : (o+1)*g.npix]
		for oy := 0; oy < g.oh; oy++ {
			for ox := 0; ox < g.ow; ox++ {
				var s float32
				for ky := 0; ky < g.kh; ky++ {
					iy := oy*g.sh - g.pt + ky*g.dh
					if iy < 0 || iy >= g.h {
						continue
					}
					in := plane[iy*g.w : (iy+1)*g.w]
					wr := w[ky*g.kw : (ky+1)*g.kw]
					ix := ox*g.sw - g.pl
					for kx, wv := range wr {
						if j := ix + kx*g.dw; j >= 0 && j < g.w {
							s += wv * in[j]
						}
					}
				}
				out[oy*g.ow+ox] = s
			}
		}
	}
}
