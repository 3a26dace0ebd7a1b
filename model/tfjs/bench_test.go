package tfjs

import (
	"testing"

	"github.com/preconv/preconv/model"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/tensor"
)

// benchNSFWJS runs the nsfwjs model at batch 8 on 1 thread, as loaded
// ("plain") and after model.(*Graph).Fuse (BN folded into convs,
// activations fused, Winograd for 3×3 stride-1 convs), and reports img/s.
func benchNSFWJS(b *testing.B, name string) {
	g, err := Load(nsfwjsDir(b, name), Options{})
	if err != nil {
		b.Fatal(err)
	}
	fused, err := g.Fuse()
	if err != nil {
		b.Fatal(err)
	}
	const batch = 8
	x := tensor.New(append([]int{batch}, g.InputShape...)...)
	for i := range x.Data {
		x.Data[i] = float32(i%255) / 255
	}
	for _, v := range []struct {
		name string
		g    *model.Graph
	}{{"plain", g}, {"fused", fused}} {
		b.Run(v.name, func(b *testing.B) {
			e := &nn.Exec{Threads: 1}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := v.g.Forward(e, x, ""); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "img/s")
		})
	}
}

func BenchmarkMobileNetV2_224(b *testing.B) { benchNSFWJS(b, "mobilenet_v2") }

func BenchmarkInceptionV3_299(b *testing.B) { benchNSFWJS(b, "inception_v3") }
