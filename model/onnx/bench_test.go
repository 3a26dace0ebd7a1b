package onnx

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/preconv/preconv/model"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/tensor"
)

// benchONNX imports a torchvision model exported by gen_onnx_parity.py
// --bench and runs it at batch 8 on 1 thread, plain and fused. The same
// .onnx file is what onnxruntime runs in the peer benchmark
// (/work/shared/peers/ort_bench.js MODEL 1 8 SIZE). Needs PRECONV_HEAVY=1
// or PRECONV_ONNX_BENCH=<dir with the exports>.
func benchONNX(b *testing.B, name string) {
	if os.Getenv("PRECONV_HEAVY") == "" && os.Getenv("PRECONV_ONNX_BENCH") == "" {
		b.Skip("set PRECONV_ONNX_BENCH=<dir from gen_onnx_parity.py --bench> or PRECONV_HEAVY=1")
	}
	g, err := Load(filepath.Join(benchModels(b), name+".onnx"), Options{})
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
		x.Data[i] = float32(i%255)/255 - 0.5
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

func BenchmarkONNX_MobileNetV2_224(b *testing.B) { benchONNX(b, "mobilenet_v2") }

func BenchmarkONNX_InceptionV3_299(b *testing.B) { benchONNX(b, "inception_v3") }
