package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/preconv/preconv/internal/cpu"
	"github.com/preconv/preconv/tensor"
)

// dwCase is one depthwise conv configuration.
type dwCase struct {
	c, mult, h, w, k, s, d int
	pad                    [4]int
	act                    Act
	bias                   bool
}

func (tc dwCase) String() string {
	return fmt.Sprintf("c%dx%d_%dx%d_k%d_s%d_d%d_pad%v_%s_b%v", tc.c, tc.mult, tc.h, tc.w, tc.k, tc.s, tc.d, tc.pad, tc.act, tc.bias)
}

func dwCases() []dwCase {
	relu6 := Act{Kind: ActReLU6}
	return []dwCase{
		// MobileNetV2 (TF 'same': stride 1 pads 1 all round, stride 2 after ZeroPadding2D or asymmetric 0,0,1,1)
		{c: 32, mult: 1, h: 112, w: 112, k: 3, s: 1, d: 1, pad: [4]int{1, 1, 1, 1}, act: relu6, bias: true},
		{c: 5, mult: 1, h: 113, w: 113, k: 3, s: 2, d: 1, act: relu6, bias: true},
		{c: 7, mult: 1, h: 56, w: 56, k: 3, s: 2, d: 1, pad: [4]int{0, 0, 1, 1}, act: relu6, bias: true},
		{c: 9, mult: 1, h: 14, w: 14, k: 3, s: 1, d: 1, pad: [4]int{1, 1, 1, 1}, bias: true},
		{c: 9, mult: 1, h: 7, w: 7, k: 3, s: 1, d: 1, pad: [4]int{1, 1, 1, 1}, act: Act{Kind: ActReLU}},
		// odd widths around the vector sizes, multipliers, other kernels, dilation, clip
		{c: 3, mult: 2, h: 9, w: 65, k: 3, s: 1, d: 1, pad: [4]int{2, 0, 1, 3}, bias: true},
		{c: 2, mult: 3, h: 20, w: 81, k: 5, s: 2, d: 1, pad: [4]int{2, 2, 2, 2}, act: Act{Kind: ActClip, Min: -0.5, Max: 0.25}},
		{c: 4, mult: 1, h: 17, w: 33, k: 3, s: 3, d: 2, pad: [4]int{1, 2, 3, 0}, bias: true},
		{c: 2, mult: 1, h: 5, w: 16, k: 1, s: 1, d: 1, bias: true},
		{c: 2, mult: 1, h: 6, w: 1, k: 3, s: 1, d: 1, pad: [4]int{1, 1, 1, 1}, bias: true},
		{c: 3, mult: 1, h: 12, w: 12, k: 7, s: 1, d: 1, pad: [4]int{3, 3, 3, 3}},
	}
}

// refDepthwise is the naive per-output loop (Conv2d.direct) plus the
// separate bias/activation pass: the path depthwise replaced.
func refDepthwise(c *Conv2d, x *tensor.Tensor) *tensor.Tensor {
	g, err := c.geom(x.Shape)
	if err != nil {
		panic(err)
	}
	out := tensor.New(g.n, g.cout, g.oh, g.ow)
	inPer, outPer := g.cin*g.h*g.w, g.cout*g.npix
	for i := 0; i < g.n; i++ {
		d := out.Data[i*outPer : (i+1)*outPer]
		c.direct(&g, d, x.Data[i*inPer:(i+1)*inPer])
		c.biasAct(&g, d)
	}
	return out
}

func newDwConv(tc dwCase, r *rand.Rand) *Conv2d {
	c := &Conv2d{InChannels: tc.c, OutChannels: tc.c * tc.mult, Kernel: [2]int{tc.k, tc.k},
		Stride: [2]int{tc.s, tc.s}, Dilation: [2]int{tc.d, tc.d}, Pad: tc.pad, Groups: tc.c, Act: tc.act,
		Weight: tensor.New(tc.c*tc.mult, 1, tc.k, tc.k)}
	for i := range c.Weight.Data {
		c.Weight.Data[i] = float32(r.NormFloat64())
	}
	if tc.bias {
		c.Bias = tensor.New(tc.c * tc.mult)
		for i := range c.Bias.Data {
			c.Bias.Data[i] = float32(r.NormFloat64())
		}
	}
	return c
}

func TestDepthwiseMatchesDirect(t *testing.T) {
	paths := []struct {
		name    string
		disable func() func()
	}{{"default", func() func() { return func() {} }}, {"go", cpu.DisableAVX512}}
	r := rand.New(rand.NewPCG(1, 2))
	for _, p := range paths {
		for _, tc := range dwCases() {
			t.Run(p.name+"/"+tc.String(), func(t *testing.T) {
				defer p.disable()()
				c := newDwConv(tc, r)
				x := tensor.New(2, tc.c, tc.h, tc.w)
				for i := range x.Data {
					x.Data[i] = float32(r.NormFloat64())
				}
				want := refDepthwise(c, x)
				for _, threads := range []int{1, 3} {
					got, err := c.Forward(&Exec{Threads: threads}, x)
					if err != nil {
						t.Fatal(err)
					}
					if !tensor.SameShape(got.Shape, want.Shape) {
						t.Fatalf("shape %v, want %v", got.Shape, want.Shape)
					}
					for i, v := range got.Data {
						// Same products, different summation order: a few ulps of the sum of |terms|.
						if d := math.Abs(float64(v - want.Data[i])); d > 1e-5*float64(tc.k*tc.k) {
							t.Fatalf("threads %d: out[%d] = %g, want %g", threads, i, v, want.Data[i])
						}
					}
				}
			})
		}
	}
}

// TestDwRowsGuards checks that the kernel writes exactly the ow outputs of
// each row (guards between rows and after the end stay intact), reads only
// in-range input (src ends exactly at the last tap's last element) and
// keeps NaN through the clamp.
func TestDwRowsGuards(t *testing.T) {
	const guard = -12345
	for _, ow := range []int{1, 7, 15, 16, 17, 31, 63, 64, 65, 112, 130} {
		for _, disable := range []func() func(){func() func() { return func() {} }, cpu.DisableAVX512} {
			restore := disable()
			oh, ldd, rs := 3, ow+5, ow+2
			off := []int{0, 1, 2, rs, rs + 1, rs + 2, 2 * rs, 2*rs + 1, 2*rs + 2}
			w := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
			src := make([]float32, (oh-1)*rs+off[8]+ow)
			for i := range src {
				src[i] = float32(i%7) - 3
			}
			src[rs+1] = float32(math.NaN())
			dst := make([]float32, oh*ldd+8)
			for i := range dst {
				dst[i] = guard
			}
			dwRows(dst, ldd, src, rs, oh, ow, off, w, 0.5, -20, 30)
			restore()
			for oy := 0; oy < oh; oy++ {
				for j := 0; j < ldd; j++ {
					v := dst[oy*ldd+j]
					if j >= ow {
						if v != guard {
							t.Fatalf("ow %d: guard dst[%d] overwritten: %g", ow, oy*ldd+j, v)
						}
						continue
					}
					s := 0.5
					for k, o := range off {
						s += float64(w[k]) * float64(src[oy*rs+o+j])
					}
					if math.IsNaN(s) {
						if !math.IsNaN(float64(v)) {
							t.Fatalf("ow %d: out[%d,%d] = %g, want NaN", ow, oy, j, v)
						}
						continue
					}
					s = min(max(s, -20), 30)
					if math.Abs(s-float64(v)) > 1e-4 {
						t.Fatalf("ow %d: out[%d,%d] = %g, want %g", ow, oy, j, v, s)
					}
				}
			}
			for _, v := range dst[oh*ldd:] {
				if v != guard {
					t.Fatalf("ow %d: trailing guard overwritten", ow)
				}
			}
		}
	}
}

func BenchmarkDepthwise(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []dwCase{
		{c: 96, mult: 1, h: 112, w: 112, k: 3, s: 2, d: 1, pad: [4]int{0, 0, 1, 1}, act: Act{Kind: ActReLU6}, bias: true},
		{c: 144, mult: 1, h: 56, w: 56, k: 3, s: 1, d: 1, pad: [4]int{1, 1, 1, 1}, act: Act{Kind: ActReLU6}, bias: true},
		{c: 576, mult: 1, h: 14, w: 14, k: 3, s: 1, d: 1, pad: [4]int{1, 1, 1, 1}, act: Act{Kind: ActReLU6}, bias: true},
	} {
		c := newDwConv(tc, r)
		x := tensor.New(1, tc.c, tc.h, tc.w)
		for i := range x.Data {
			x.Data[i] = float32(r.NormFloat64())
		}
		g, err := c.geom(x.Shape)
		if err != nil {
			b.Fatal(err)
		}
		dst := make([]float32, g.cout*g.npix)
		// Kernel only (no output allocation): new path vs the naive loop.
		b.Run(tc.String(), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				c.depthwise(&g, dst, x.Data, 1)
			}
		})
		b.Run("naive/"+tc.String(), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				c.direct(&g, dst, x.Data)
				c.biasAct(&g, dst)
			}
		})
	}
}

// TestActKeepsInfNaN: fused and standalone activations keep NaN and do not
// clamp ±Inf beyond the activation's own bounds.
func TestActKeepsInfNaN(t *testing.T) {
	nan, pinf, ninf := float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))
	x := tensor.FromData([]float32{nan, pinf, ninf, -1, 3, 7}, 1, 1, 1, 6)
	for _, tc := range []struct {
		op   Op
		want []float32
	}{
		{&ReLU{}, []float32{nan, pinf, 0, 0, 3, 7}},
		{NewReLU6(), []float32{nan, 6, 0, 0, 3, 6}},
		{&Add{}, []float32{nan, pinf, ninf, -2, 6, 14}},
		{&Add{Act: Act{Kind: ActReLU}}, []float32{nan, pinf, 0, 0, 6, 14}},
	} {
		in := []*tensor.Tensor{x}
		if _, ok := tc.op.(*Add); ok {
			in = append(in, x)
		}
		y, err := tc.op.Forward(nil, in...)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range y.Data {
			w := tc.want[i]
			if !(v == w || (math.IsNaN(float64(v)) && math.IsNaN(float64(w)))) {
				t.Errorf("%s%s: out[%d] = %g, want %g", tc.op.Type(), func() string {
					if a, ok := tc.op.(*Add); ok {
						return a.Act.String()
					}
					return ""
				}(), i, v, w)
			}
		}
	}
}

// TestEvens checks the stride-2 column gather against evensGo's
// definition for lengths around the vector size, with src exactly
// 2n−1 long (so an over-read would fault) and a guard after dst.
func TestEvens(t *testing.T) {
	for n := 0; n <= 70; n++ {
		for _, disable := range []func() func(){func() func() { return func() {} }, cpu.DisableAVX512} {
			restore := disable()
			src := make([]float32, max(0, 2*n-1))
			for i := range src {
				src[i] = float32(i) + 0.5
			}
			dst := make([]float32, n+1)
			dst[n] = -1
			evens(dst[:n], src)
			restore()
			for j := 0; j < n; j++ {
				if dst[j] != float32(2*j)+0.5 {
					t.Fatalf("n %d: dst[%d] = %g, want %g", n, j, dst[j], float32(2*j)+0.5)
				}
			}
			if dst[n] != -1 {
				t.Fatalf("n %d: guard overwritten", n)
			}
		}
	}
}
