package winograd_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/preconv/preconv/gemm"
	"github.com/preconv/preconv/nn/winograd"
)

// im2col writes the [cin*9 × oh*ow] patch matrix of x (one image, CHW) for a
// 3×3 stride-1 convolution with the given padding. Each output row is one
// contiguous copy plus zeroed edges, so this reference is memory-speed.
func im2col(cols, x []float32, cin, h, w, pt, pl, pb, pr int) {
	oh, ow := h+pt+pb-2, w+pl+pr-2
	for c := 0; c < cin; c++ {
		for ky := 0; ky < 3; ky++ {
			for kx := 0; kx < 3; kx++ {
				row := cols[((c*3+ky)*3+kx)*oh*ow:][:oh*ow]
				// Output columns xo with 0 <= xo+kx-pl < w.
				x0 := max(0, pl-kx)
				x1 := min(ow, w+pl-kx)
				for y := 0; y < oh; y++ {
					dst := row[y*ow : y*ow+ow]
					iy := y + ky - pt
					if iy < 0 || iy >= h || x0 >= x1 {
						clear(dst)
						continue
					}
					clear(dst[:x0])
					copy(dst[x0:x1], x[(c*h+iy)*w+x0+kx-pl:])
					clear(dst[x1:])
				}
			}
		}
	}
}

// directConv is the float32 im2col+gemm convolution (padding 1 all round),
// the baseline the Winograd path is compared against in error and speed.
func directConv(dst, x []float32, n, cin, h, w int, wts []float32, cout int, bias []float32, relu bool, cols []float32) {
	hw := h * w
	for i := 0; i < n; i++ {
		im2col(cols, x[i*cin*hw:], cin, h, w, 1, 1, 1, 1)
		out := dst[i*cout*hw : (i+1)*cout*hw]
		gemm.Sgemm(false, false, cout, hw, cin*9, 1, wts, cin*9, cols, hw, 0, out, hw)
		for o := 0; o < cout; o++ {
			for k := o * hw; k < (o+1)*hw; k++ {
				v := out[k] + bias[o]
				if relu {
					v = max(v, 0)
				}
				out[k] = v
			}
		}
	}
}

func maxPool2(x []float64, c, h, w int) []float64 {
	oh, ow := h/2, w/2
	out := make([]float64, c*oh*ow)
	for ch := 0; ch < c; ch++ {
		for y := 0; y < oh; y++ {
			for xo := 0; xo < ow; xo++ {
				b := (ch*h+2*y)*w + 2*xo
				out[(ch*oh+y)*ow+xo] = math.Max(math.Max(x[b], x[b+1]), math.Max(x[b+w], x[b+w+1]))
			}
		}
	}
	return out
}

func maxPool2f(x []float32, c, h, w int) []float32 {
	r := maxPool2(to64(x), c, h, w)
	out := make([]float32, len(r))
	for i, v := range r {
		out[i] = float32(v) // exact: max of float32 values
	}
	return out
}

// vgg16Cfg is torchvision's VGG16 "D" configuration; 0 is a 2×2 max pool.
var vgg16Cfg = []int{64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0}

// TestVGG16Chain runs the 13 convs (+ReLU, + max pools) of VGG16's features
// with He-init weights three ways in float32 — Winograd F(4×4,3×3),
// Winograd F(2×2,3×3), and im2col+gemm — each propagating its own
// activations, and logs each one's error against a float64 chain after every
// conv. Default tier: channel widths / 4 on a 32×32 input; PRECONV_HEAVY=1:
// real widths on 64×64. The F(4×4) chain must stay within the 1e-4 parity
// bound at every depth.
func TestVGG16Chain(t *testing.T) {
	div, size := 4, 32
	if heavy() {
		div, size = 1, 64
	}
	rng := rand.New(rand.NewPCG(5, 6))
	cin, h := 3, size
	x := make([]float32, cin*h*h)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	ref := to64(x)
	chains := map[string][]float32{"F4": x, "F2": x, "direct": x}
	depth := 0
	for _, c := range vgg16Cfg {
		if c == 0 {
			ref = maxPool2(ref, cin, h, h)
			for k, v := range chains {
				chains[k] = maxPool2f(v, cin, h, h)
			}
			h /= 2
			continue
		}
		cout := c / div
		wts := heInit(rng, cout, cin)
		bias := uniform(rng, cout, -0.05, 0.05)
		ref = refConv(ref, 1, cin, h, h, to64(wts), cout, to64(bias), 1, 1, 1, 1, true)
		errs := map[string]float64{}
		for k, v := range chains {
			out := make([]float32, cout*h*h)
			switch k {
			case "F4", "F2":
				variant := winograd.F4x4
				if k == "F2" {
					variant = winograd.F2x2
				}
				wt := winograd.PrepareWeightsVariant(wts, cout, cin, variant)
				winograd.Conv(out, v, 1, cin, h, h, wt, bias, 1, 1, 1, 1, true, 2)
			default:
				directConv(out, v, 1, cin, h, h, wts, cout, bias, true, make([]float32, cin*9*h*h))
			}
			chains[k] = out
			errs[k] = relErr(out, ref)
		}
		depth++
		t.Logf("conv %2d (c%d k%d %dx%d): rel err F4 %.3g  F2 %.3g  im2col %.3g", depth, cin, cout, h, h, errs["F4"], errs["F2"], errs["direct"])
		if errs["F4"] > 1e-4 {
			t.Errorf("conv %d: F(4x4) chain rel err %.3g > 1e-4 parity bound", depth, errs["F4"])
		}
		cin = cout
	}
}
