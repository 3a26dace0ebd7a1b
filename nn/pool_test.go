package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/preconv/preconv/internal/cpu"
	"github.com/preconv/preconv/tensor"
)

// naivePool is the per-output definition of max/avg pooling (PyTorch
// semantics: padding never selected by max; avg divisor per
// count_include_pad), independent of the interior fast path.
func naivePool(x *tensor.Tensor, isMax bool, k, s, pad [4]int, dil [2]int, ceil, incl bool, kern [2]int) *tensor.Tensor {
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	oh := poolOut(h, kern[0], s[0], dil[0], pad[0], pad[2], ceil)
	ow := poolOut(w, kern[1], s[1], dil[1], pad[1], pad[3], ceil)
	out := tensor.New(n, c, oh, ow)
	for p := 0; p < n*c; p++ {
		src := x.Data[p*h*w:]
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				var v float64
				if isMax {
					v = math.Inf(-1)
					for ky := 0; ky < kern[0]; ky++ {
						for kx := 0; kx < kern[1]; kx++ {
							iy, ix := oy*s[0]-pad[0]+ky*dil[0], ox*s[1]-pad[1]+kx*dil[1]
							if iy >= 0 && iy < h && ix >= 0 && ix < w {
								u := float64(src[iy*w+ix])
								if math.IsNaN(u) || u > v || math.IsNaN(v) {
									if !math.IsNaN(v) {
										v = u
									}
								}
							}
						}
					}
				} else {
					cnt, total := 0, 0
					for ky := 0; ky < kern[0]; ky++ {
						for kx := 0; kx < kern[1]; kx++ {
							iy, ix := oy*s[0]-pad[0]+ky, ox*s[1]-pad[1]+kx
							if iy < h+pad[2] && ix < w+pad[3] {
								total++
							}
							if iy >= 0 && iy < h && ix >= 0 && ix < w {
								v += float64(src[iy*w+ix])
								cnt++
							}
						}
					}
					if incl {
						cnt = total
					}
					if cnt > 0 {
						v /= float64(cnt)
					}
				}
				out.Data[p*oh*ow+oy*ow+ox] = float32(v)
			}
		}
	}
	return out
}

func TestPoolsMatchNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	type pc struct {
		h, w, k, s, d int
		pad           [4]int
		ceil, incl    bool
	}
	cases := []pc{
		{h: 35, w: 35, k: 3, s: 1, d: 1, pad: [4]int{1, 1, 1, 1}},             // Inception avg 'same'
		{h: 35, w: 35, k: 3, s: 1, d: 1, pad: [4]int{1, 1, 1, 1}, incl: true}, // torchvision avg
		{h: 35, w: 35, k: 3, s: 2, d: 1},                                      // Inception max 'valid'
		{h: 112, w: 112, k: 3, s: 2, d: 1, pad: [4]int{1, 1, 1, 1}},           // ResNet max
		{h: 20, w: 37, k: 3, s: 2, d: 1, pad: [4]int{0, 0, 1, 1}, ceil: true},
		{h: 9, w: 70, k: 2, s: 1, d: 2, pad: [4]int{1, 0, 0, 1}},
		{h: 8, w: 8, k: 5, s: 3, d: 1, pad: [4]int{2, 2, 2, 2}, ceil: true, incl: true},
		{h: 3, w: 3, k: 3, s: 1, d: 1, pad: [4]int{1, 1, 1, 1}},
		{h: 17, w: 17, k: 2, s: 2, d: 1},
		{h: 420, w: 421, k: 2, s: 2, d: 1}, // past maxPool2Serial: threaded 2×2 path
	}
	for _, tc := range cases {
		for _, isMax := range []bool{true, false} {
			if !isMax && tc.d != 1 {
				continue
			}
			for _, disable := range []func() func(){func() func() { return func() {} }, cpu.DisableAVX512} {
				name := fmt.Sprintf("max%v/%+v", isMax, tc)
				x := tensor.New(2, 3, tc.h, tc.w)
				for i := range x.Data {
					x.Data[i] = float32(r.NormFloat64())
				}
				x.Data[5*tc.w+7%tc.w] = float32(math.NaN())
				kern, st, dil := [2]int{tc.k, tc.k}, [4]int{tc.s, tc.s}, [2]int{tc.d, tc.d}
				want := naivePool(x, isMax, [4]int{}, st, tc.pad, dil, tc.ceil, tc.incl, kern)
				var op Op
				if isMax {
					op = &MaxPool2d{Kernel: kern, Stride: [2]int{tc.s, tc.s}, Pad: tc.pad, Dilation: dil, CeilMode: tc.ceil}
				} else {
					op = &AvgPool2d{Kernel: kern, Stride: [2]int{tc.s, tc.s}, Pad: tc.pad, CeilMode: tc.ceil, CountIncludePad: tc.incl}
				}
				restore := disable()
				got, err := op.Forward(&Exec{Threads: 2}, x)
				restore()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !tensor.SameShape(got.Shape, want.Shape) {
					t.Fatalf("%s: shape %v, want %v", name, got.Shape, want.Shape)
				}
				for i, v := range got.Data {
					u := want.Data[i]
					if math.IsNaN(float64(u)) != math.IsNaN(float64(v)) || math.Abs(float64(v-u)) > 1e-5 {
						t.Fatalf("%s: out[%d] = %g, want %g", name, i, v, u)
					}
				}
			}
		}
	}
}
