package winograd_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/preconv/preconv/internal/cpu"
	"github.com/preconv/preconv/nn/winograd"
)

// refConv is the independent reference: a direct 3×3 stride-1 convolution
// accumulated in float64, with explicit zero padding, bias and ReLU.
func refConv(x []float64, n, cin, h, w int, wts []float64, cout int, bias []float64, pt, pl, pb, pr int, relu bool) []float64 {
	oh, ow := h+pt+pb-2, w+pl+pr-2
	out := make([]float64, n*cout*oh*ow)
	for i := 0; i < n; i++ {
		for o := 0; o < cout; o++ {
			dst := out[(i*cout+o)*oh*ow : (i*cout+o+1)*oh*ow]
			if bias != nil {
				for k := range dst {
					dst[k] = bias[o]
				}
			}
			for c := 0; c < cin; c++ {
				src := x[(i*cin+c)*h*w : (i*cin+c+1)*h*w]
				for ky := 0; ky < 3; ky++ {
					for kx := 0; kx < 3; kx++ {
						wv := wts[((o*cin+c)*3+ky)*3+kx]
						for y := 0; y < oh; y++ {
							iy := y + ky - pt
							if iy < 0 || iy >= h {
								continue
							}
							row := src[iy*w : iy*w+w]
							drow := dst[y*ow : y*ow+ow]
							for xo := 0; xo < ow; xo++ {
								ix := xo + kx - pl
								if ix >= 0 && ix < w {
									drow[xo] += wv * row[ix]
								}
							}
						}
					}
				}
			}
			if relu {
				for k := range dst {
					dst[k] = math.Max(dst[k], 0)
				}
			}
		}
	}
	return out
}

// relErr returns max|got-want| / max|want| (the project's parity measure).
func relErr(got []float32, want []float64) float64 {
	var scale, worst float64
	for i, wv := range want {
		scale = math.Max(scale, math.Abs(wv))
		d := math.Abs(float64(got[i]) - wv)
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		worst = math.Max(worst, d)
	}
	if scale == 0 {
		return worst
	}
	return worst / scale
}

func to64(s []float32) []float64 {
	r := make([]float64, len(s))
	for i, v := range s {
		r[i] = float64(v)
	}
	return r
}

func uniform(rng *rand.Rand, n int, lo, hi float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = lo + (hi-lo)*rng.Float32()
	}
	return s
}

// heInit returns OIHW weights drawn N(0, 2/(9·cin)) (Kaiming normal, fan-in),
// as torchvision's VGG init uses (fan-out there; same scale for square layers).
func heInit(rng *rand.Rand, cout, cin int) []float32 {
	s := make([]float32, cout*cin*9)
	std := math.Sqrt(2 / float64(9*cin))
	for i := range s {
		s[i] = float32(rng.NormFloat64() * std)
	}
	return s
}

const guardLen = 37

// guarded returns a slice of length n carved from a larger NaN-filled buffer
// with guardLen guard elements on both sides, and a checker for the guards.
func guarded(n int) ([]float32, func(t *testing.T)) {
	buf := make([]float32, n+2*guardLen)
	nan := float32(math.NaN())
	for i := range buf {
		buf[i] = nan
	}
	for i := range guardLen {
		buf[i] = float32(-1000 - i)
		buf[n+guardLen+i] = float32(1000 + i)
	}
	check := func(t *testing.T) {
		t.Helper()
		for i := range guardLen {
			if buf[i] != float32(-1000-i) || buf[n+guardLen+i] != float32(1000+i) {
				t.Fatalf("guard overwritten at offset %d", i)
			}
		}
	}
	return buf[guardLen : guardLen+n : guardLen+n], check
}

type convCase struct {
	n, cin, cout, h, w int
	pt, pl, pb, pr     int
	bias, relu         bool
	threads            int
}

func (c convCase) String() string {
	return fmt.Sprintf("n%d_c%d_k%d_%dx%d_pad%d%d%d%d_b%v_r%v_t%d", c.n, c.cin, c.cout, c.h, c.w, c.pt, c.pl, c.pb, c.pr, c.bias, c.relu, c.threads)
}

// runCase runs Conv on random data and returns the relative error against
// refConv, checking dst guards and that x is left unchanged.
func runCase(t *testing.T, rng *rand.Rand, c convCase, v winograd.Variant, blockTiles int) float64 {
	t.Helper()
	x := uniform(rng, c.n*c.cin*c.h*c.w, -1, 1)
	wts := uniform(rng, c.cout*c.cin*9, -1, 1)
	var bias []float32
	var bias64 []float64
	if c.bias {
		bias = uniform(rng, c.cout, -1, 1)
		bias64 = to64(bias)
	}
	wt := winograd.PrepareWeightsVariant(wts, c.cout, c.cin, v)
	if blockTiles > 0 {
		wt.BlockTiles = blockTiles
	}
	oh, ow := winograd.OutSize(c.h, c.w, c.pt, c.pl, c.pb, c.pr)
	dst, checkGuards := guarded(c.n * c.cout * oh * ow)
	x0 := append([]float32(nil), x...)
	winograd.Conv(dst, x, c.n, c.cin, c.h, c.w, wt, bias, c.pt, c.pl, c.pb, c.pr, c.relu, c.threads)
	checkGuards(t)
	for i := range x {
		if x[i] != x0[i] {
			t.Fatalf("%v: x[%d] modified", c, i)
		}
	}
	want := refConv(to64(x), c.n, c.cin, c.h, c.w, to64(wts), c.cout, bias64, c.pt, c.pl, c.pb, c.pr, c.relu)
	return relErr(dst, want)
}

func TestApplicable(t *testing.T) {
	for _, tc := range []struct {
		kh, kw, sh, sw, dh, dw, g int
		want                      bool
	}{
		{3, 3, 1, 1, 1, 1, 1, true},
		{3, 3, 2, 2, 1, 1, 1, false},
		{3, 3, 1, 1, 2, 2, 1, false},
		{3, 3, 1, 1, 1, 1, 2, false},
		{1, 1, 1, 1, 1, 1, 1, false},
		{5, 5, 1, 1, 1, 1, 1, false},
		{3, 1, 1, 1, 1, 1, 1, false},
		{3, 3, 1, 2, 1, 1, 1, false},
	} {
		if got := winograd.Applicable(tc.kh, tc.kw, tc.sh, tc.sw, tc.dh, tc.dw, tc.g); got != tc.want {
			t.Errorf("Applicable%v = %v, want %v", tc, got, tc.want)
		}
	}
}

// TestConvSmall covers odd sizes, channels that are not multiples of 16,
// symmetric and asymmetric padding, batches 1..3, bias and ReLU, threads,
// and blocks that split images and tile rows.
// It runs once per kernel path available: the AVX-512 group transforms
// (where present) and the per-tile Go transforms (AVX-512 disabled).
func TestConvSmall(t *testing.T) {
	t.Run(cpu.Summary(), testConvSmall)
	if cpu.HasAVX512() {
		t.Run("noavx512", func(t *testing.T) {
			defer cpu.DisableAVX512()()
			testConvSmall(t)
		})
	}
}

func testConvSmall(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pads := [][4]int{{0, 0, 0, 0}, {1, 1, 1, 1}, {0, 1, 1, 0}, {1, 0, 0, 1}, {2, 0, 1, 3}}
	for _, v := range []winograd.Variant{winograd.F4x4, winograd.F2x2} {
		var worst float64
		count := 0
		for h := 1; h <= 17; h++ {
			for _, pad := range pads {
				w := []int{1, 2, 3, 5, 7, 9, 13, 17}[(h+pad[1])%8]
				c := convCase{
					n: 1 + (h+pad[0])%3, cin: 1 + (h*7)%19, cout: 1 + (h*5+pad[2])%23, h: h, w: w,
					pt: pad[0], pl: pad[1], pb: pad[2], pr: pad[3],
					bias: h%2 == 0, relu: (h/2)%2 == 0, threads: 1 + h%3,
				}
				if c.h+c.pt+c.pb < 3 || c.w+c.pl+c.pr < 3 {
					continue
				}
				bt := 0
				if h%4 == 1 {
					bt = 3 // tiny blocks: blocks straddle tile rows and images
				}
				e := runCase(t, rng, c, v, bt)
				// Bound: float32 Winograd on U(-1,1) data, worst measured
				// 4.8e-6 (F4) and 2.6e-7 (F2) over these cases (seed 1,2).
				if e > 2e-5 {
					t.Errorf("%v %v: rel err %.3g > 2e-5", v, c, e)
				}
				worst = math.Max(worst, e)
				count++
			}
		}
		t.Logf("%v: %d cases, worst rel err %.3g", v, count, worst)
	}
}

// TestConvWide covers images wide enough for runs of 16 full tiles in one
// tile row (the contiguous Row kernels), with blocks that start mid-row,
// partial right and bottom tiles, and batch > 1.
func TestConvWide(t *testing.T) {
	t.Run(cpu.Summary(), testConvWide)
	if cpu.HasAVX512() {
		t.Run("noavx512", func(t *testing.T) {
			defer cpu.DisableAVX512()()
			testConvWide(t)
		})
	}
}

func testConvWide(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for i, c := range []convCase{
		{n: 2, cin: 3, cout: 5, h: 9, w: 66, pt: 0, pl: 0, pb: 0, pr: 0, bias: true, relu: true, threads: 1},
		{n: 1, cin: 4, cout: 3, h: 7, w: 130, pt: 1, pl: 1, pb: 1, pr: 1, bias: true, relu: false, threads: 2},
		{n: 3, cin: 2, cout: 6, h: 10, w: 67, pt: 1, pl: 0, pb: 0, pr: 1, bias: false, relu: true, threads: 2},
		{n: 2, cin: 17, cout: 18, h: 12, w: 73, pt: 1, pl: 1, pb: 1, pr: 1, bias: true, relu: true, threads: 3},
	} {
		for _, bt := range []int{0, 16, 40} {
			e := runCase(t, rng, c, winograd.F4x4, bt)
			t.Logf("%v bt=%d: rel err %.3g", c, bt, e)
			// Same bound and source as TestConvSmall.
			if e > 2e-5 {
				t.Errorf("case %d %v bt=%d: rel err %.3g > 2e-5", i, c, bt, e)
			}
		}
	}
}

func TestConvPanics(t *testing.T) {
	wt := winograd.PrepareWeights(make([]float32, 2*3*9), 2, 3)
	x := make([]float32, 3*5*5)
	dst := make([]float32, 2*5*5)
	for name, f := range map[string]func(){
		"cin":      func() { winograd.Conv(dst, x, 1, 2, 5, 5, wt, nil, 1, 1, 1, 1, false, 1) },
		"short x":  func() { winograd.Conv(dst, x[:10], 1, 3, 5, 5, wt, nil, 1, 1, 1, 1, false, 1) },
		"short d":  func() { winograd.Conv(dst[:10], x, 1, 3, 5, 5, wt, nil, 1, 1, 1, 1, false, 1) },
		"bias":     func() { winograd.Conv(dst, x, 1, 3, 5, 5, wt, []float32{1}, 1, 1, 1, 1, false, 1) },
		"neg pad":  func() { winograd.Conv(dst, x, 1, 3, 5, 5, wt, nil, -1, 1, 1, 1, false, 1) },
		"empty":    func() { winograd.Conv(dst, x, 1, 3, 1, 5, wt, nil, 0, 1, 0, 1, false, 1) },
		"short w":  func() { winograd.PrepareWeights(make([]float32, 10), 2, 3) },
		"zero cin": func() { winograd.PrepareWeights(nil, 2, 0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// vggLayers are VGG16's 3×3 convs as (cin, cout, size) at 224×224 input.
var vggLayers = []struct {
	name            string
	cin, cout, size int
}{
	{"conv1_1", 3, 64, 224},
	{"conv1_2", 64, 64, 224},
	{"conv2_1", 64, 128, 112},
	{"conv2_2", 128, 128, 112},
	{"conv3_1", 128, 256, 56},
	{"conv3_x", 256, 256, 56},
	{"conv4_1", 256, 512, 28},
	{"conv4_x", 512, 512, 28},
	{"conv5_x", 512, 512, 14},
}

func heavy() bool { return os.Getenv("PRECONV_HEAVY") == "1" }

// TestVGGMagnitudes checks the error at VGG16-like magnitudes: He-init
// weights, ReLU'd N(0,1) inputs, bias, ReLU, padding 1, against refConv.
// Default tier: a few channel counts at 14×14 and 28×28; PRECONV_HEAVY=1
// adds every VGG16 channel configuration at 28×28.
func TestVGGMagnitudes(t *testing.T) {
	type layer struct{ cin, cout, size int }
	layers := []layer{{64, 64, 28}, {128, 128, 14}, {256, 256, 14}, {512, 512, 14}}
	if testing.Short() {
		layers = layers[:2]
	}
	if heavy() {
		layers = nil
		for _, l := range vggLayers {
			layers = append(layers, layer{l.cin, l.cout, 28})
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, l := range layers {
		x := make([]float32, l.cin*l.size*l.size)
		for i := range x {
			x[i] = float32(max(rng.NormFloat64(), 0))
		}
		wts := heInit(rng, l.cout, l.cin)
		bias := uniform(rng, l.cout, -0.1, 0.1)
		want := refConv(to64(x), 1, l.cin, l.size, l.size, to64(wts), l.cout, to64(bias), 1, 1, 1, 1, true)
		for _, v := range []winograd.Variant{winograd.F4x4, winograd.F2x2} {
			wt := winograd.PrepareWeightsVariant(wts, l.cout, l.cin, v)
			dst := make([]float32, len(want))
			winograd.Conv(dst, x, 1, l.cin, l.size, l.size, wt, bias, 1, 1, 1, 1, true, 2)
			e := relErr(dst, want)
			t.Logf("%v c%d k%d %dx%d: rel err %.3g", v, l.cin, l.cout, l.size, l.size, e)
			// Parity bound of the project (vs PyTorch): 1e-4.
			if e > 1e-4 {
				t.Errorf("%v c%d k%d %d: rel err %.3g > 1e-4", v, l.cin, l.cout, l.size, e)
			}
		}
	}
}
