package model

import (
	"math"
	"testing"

	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/tensor"
)

// Run recycles activation buffers through an arena: a pass whose buffers
// still hold another input's activations must give bit for bit what a pass
// with fresh zeroed buffers gives (every op writes every element it
// returns), and returned tensors are never recycled under the caller.
func TestRunArenaRecyclesWithoutStaleValues(t *testing.T) {
	for _, arch := range []string{"vgg11_bn", "resnet18"} {
		g, err := Arch(arch, 10)
		if err != nil {
			t.Fatal(err)
		}
		g.InitRandom(3)
		fused, err := g.Fuse()
		if err != nil {
			t.Fatal(err)
		}
		for _, gr := range []*Graph{g, fused} {
			input := func(seed int) *tensor.Tensor {
				x := tensor.New(2, 3, 64, 64)
				for i := range x.Data {
					x.Data[i] = float32(math.Sin(float64(i*seed) * 0.001))
				}
				return x
			}
			fresh := func(x *tensor.Tensor) []float32 {
				y, err := gr.Forward(&nn.Exec{Threads: 2, Arena: nn.NewArena()}, x, gr.Output)
				if err != nil {
					t.Fatal(err)
				}
				return y.Data
			}
			x1, x2 := input(1), input(7)
			want1, want2 := fresh(x1), fresh(x2)
			ar := nn.NewArena()
			e := &nn.Exec{Threads: 2, Arena: ar}
			y1, err := gr.Forward(e, x1, gr.Output)
			if err != nil {
				t.Fatal(err)
			}
			keep := append([]float32(nil), y1.Data...)
			for pass, c := range []struct {
				x    *tensor.Tensor
				want []float32
			}{{x2, want2}, {x1, want1}, {x2, want2}} {
				y, err := gr.Forward(e, c.x, gr.Output)
				if err != nil {
					t.Fatal(err)
				}
				for i := range y.Data {
					if y.Data[i] != c.want[i] {
						t.Fatalf("%s (fused %v) pass %d: element %d = %g with recycled buffers, %g fresh", arch, gr != g, pass, i, y.Data[i], c.want[i])
					}
				}
			}
			for i := range keep {
				if y1.Data[i] != keep[i] {
					t.Fatalf("%s: a returned tensor was overwritten by a later pass (element %d)", arch, i)
				}
			}
			// The default: Run uses the graph's own arena.
			y, err := gr.Forward(&nn.Exec{Threads: 1}, x2, gr.Output)
			if err != nil {
				t.Fatal(err)
			}
			for i := range y.Data {
				if y.Data[i] != want2[i] && math.Abs(float64(y.Data[i]-want2[i])) > 1e-4*math.Max(1, math.Abs(float64(want2[i]))) {
					t.Fatalf("%s: graph arena, 1 thread: element %d = %g, want %g", arch, i, y.Data[i], want2[i])
				}
			}
		}
	}
}
