package nn

import (
	"testing"

	"github.com/preconv/preconv/tensor"
)

// naiveConv is the textbook 7-loop convolution in float64, the reference
// for im2col column blocking on shapes too big for committed torch fixtures.
func naiveConv(c *Conv2d, x *tensor.Tensor) []float32 {
	os, _ := c.OutShape(x.Shape)
	n, cin, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	oh, ow := os[2], os[3]
	cg := cin / one(c.Groups)
	og := c.OutChannels / one(c.Groups)
	out := make([]float32, tensor.Numel(os))
	for b := 0; b < n; b++ {
		for o := 0; o < c.OutChannels; o++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					var s float64
					if c.Bias != nil {
						s = float64(c.Bias.Data[o])
					}
					for ci := 0; ci < cg; ci++ {
						for ky := 0; ky < c.Kernel[0]; ky++ {
							for kx := 0; kx < c.Kernel[1]; kx++ {
								y := i*one(c.Stride[0]) - c.Pad[0] + ky*one(c.Dilation[0])
								xx := j*one(c.Stride[1]) - c.Pad[1] + kx*one(c.Dilation[1])
								if y < 0 || y >= h || xx < 0 || xx >= w {
									continue
								}
								ic := (o/og)*cg + ci
								s += float64(c.Weight.Data[((o*cg+ci)*c.Kernel[0]+ky)*c.Kernel[1]+kx]) *
									float64(x.Data[((b*cin+ic)*h+y)*w+xx])
							}
						}
					}
					out[((b*c.OutChannels+o)*oh+i)*ow+j] = float32(s)
				}
			}
		}
	}
	return out
}

// TestIm2colBlocks uses enough input channels that the im2col buffer is
// split into column blocks that start and end inside output rows.
func TestIm2colBlocks(t *testing.T) {
	for _, stride := range []int{1, 2} {
		c := &Conv2d{InChannels: 600, OutChannels: 3, Kernel: [2]int{3, 3}, Stride: [2]int{stride, stride},
			Pad: [4]int{1, 0, 2, 1}, Groups: 2, Weight: tensor.New(3*2, 300, 3, 3), Bias: tensor.New(6)}
		c.OutChannels = 6
		for i := range c.Weight.Data {
			c.Weight.Data[i] = float32(i%7)/7 - 0.4
		}
		for i := range c.Bias.Data {
			c.Bias.Data[i] = float32(i) / 10
		}
		x := tensor.New(2, 600, 41, 53)
		for i := range x.Data {
			x.Data[i] = float32(i%11)/11 - 0.5
		}
		g, _ := c.geom(x.Shape)
		if nb := max(256, colBlockFloats/g.kc); nb >= g.npix {
			t.Fatalf("test does not exercise blocking: nb %d, npix %d", nb, g.npix)
		}
		for _, th := range []int{1, 3} {
			y, err := c.Forward(&Exec{Threads: th}, x)
			if err != nil {
				t.Fatal(err)
			}
			if e := tensor.MaxRelErr(y.Data, naiveConv(c, x)); e > 1e-5 {
				t.Errorf("stride %d threads %d: max rel err %g", stride, th, e)
			}
		}
	}
}
