package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/preconv/preconv/model"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/tensor"
)

// vgg16Convs are VGG16's distinct 3×3 conv shapes (batch 1).
var vgg16Convs = []struct {
	name          string
	cin, cout, hw int
}{
	{"conv1_1", 3, 64, 224},
	{"conv1_2", 64, 64, 224},
	{"conv2_2", 128, 128, 112},
	{"conv3_2", 256, 256, 56},
	{"conv4_2", 512, 512, 28},
	{"conv5_2", 512, 512, 14},
}

// BenchmarkConv2D_VGG16 times one 3×3 conv (+bias+ReLU) per VGG16 stage,
// batch 1, one thread, as im2col+GEMM and as Winograd (through Fuse).
func BenchmarkConv2D_VGG16(b *testing.B) {
	for _, c := range vgg16Convs {
		for _, wino := range []bool{false, true} {
			name := c.name + "/im2col"
			if wino {
				name = c.name + "/winograd"
			}
			b.Run(name, func(b *testing.B) {
				g := &model.Graph{Name: "conv", Input: "x", Nodes: []*model.Node{
					{Name: "conv", Op: nn.NewConv2d(c.cin, c.cout, 3, 1, 1, true), Inputs: []string{"x"}},
					{Name: "relu", Op: &nn.ReLU{}, Inputs: []string{"conv"}}}, Output: "relu"}
				g.InitRandom(1)
				var err error
				if wino {
					g, err = g.Fuse()
				} else {
					g, err = g.FuseNoWinograd()
				}
				if err != nil {
					b.Fatal(err)
				}
				x := tensor.New(1, c.cin, c.hw, c.hw)
				for i := range x.Data {
					x.Data[i] = float32(i%17) - 8
				}
				e := &nn.Exec{Threads: 1}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := g.Forward(e, x, ""); err != nil {
						b.Fatal(err)
					}
				}
				flops := 2.0 * float64(c.cin*c.cout*9*c.hw*c.hw)
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkVGG16Features times VGG16 features at 224×224 with random
// weights (fused, Winograd), per batch size and thread count.
func BenchmarkVGG16Features(b *testing.B) {
	g, flops, err := Prepare("vgg16", "features", 224, true)
	if err != nil {
		b.Fatal(err)
	}
	for _, bt := range [][2]int{{1, 1}, {1, 2}, {8, 1}, {8, 2}} {
		b.Run(fmt.Sprintf("b%d_t%d", bt[0], bt[1]), func(b *testing.B) {
			x := tensor.New(bt[0], 3, 224, 224)
			e := &nn.Exec{Threads: bt[1]}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := g.Forward(e, x, ""); err != nil {
					b.Fatal(err)
				}
			}
			s := b.Elapsed().Seconds()
			b.ReportMetric(float64(bt[0]*b.N)/s, "img/s")
			b.ReportMetric(flops*float64(bt[0]*b.N)/s/1e9, "GFLOP/s")
			b.ReportMetric(PeakRSSMiB(), "peakRSS_MiB")
		})
	}
}

func TestEngineSmall(t *testing.T) {
	rows, err := Engine(context.Background(), EngineConfig{Arch: "resnet18", Tap: "layer2", Size: 32, Batches: []int{1, 3}, Threads: []int{2}, Runs: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[1].Batch != 3 || rows[1].ImgPerSec <= 0 || rows[1].GFLOPs <= 0 {
		t.Fatalf("rows %+v", rows)
	}
	if _, err := Engine(context.Background(), EngineConfig{Arch: "vgg16", Tap: "nope"}, nil); err == nil {
		t.Error("unknown tap accepted")
	}
}
