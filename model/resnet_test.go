package model_test

import (
	"testing"

	"github.com/preconv/preconv/model"
	"github.com/preconv/preconv/model/torch"
	"github.com/preconv/preconv/nn"
)

// TestResNetParitySmall loads reduced-width ResNets assembled from
// torchvision's BasicBlock and Bottleneck (testdata/gen_resnet_parity.py,
// torch 1.13) and compares every recorded tap, loaded and fused.
func TestResNetParitySmall(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  model.ResNetConfig
	}{
		{"resnets_basic", model.ResNetConfig{Blocks: [4]int{2, 1, 1, 1}, Widths: [4]int{8, 16, 32, 64}, Stem: 8, NumClasses: 10}},
		{"resnets_bottleneck", model.ResNetConfig{Blocks: [4]int{1, 2, 1, 1}, Bottleneck: true, Widths: [4]int{4, 8, 16, 32}, Stem: 8, NumClasses: 10}},
	} {
		_, x, want := loadIO(t, c.name)
		sd, err := torch.Load("testdata/" + c.name + ".pth")
		if err != nil {
			t.Fatal(err)
		}
		c.cfg.Name = c.name
		g, err := model.NewResNet(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.LoadStateDict(sd, true); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var taps []string
		for k := range want {
			taps = append(taps, k)
		}
		fused, err := g.Fuse()
		if err != nil {
			t.Fatal(err)
		}
		for _, th := range []int{1, 2} {
			for gi, gr := range []*model.Graph{g, fused} {
				got, err := gr.Run(&nn.Exec{Threads: th}, x, taps...)
				if err != nil {
					t.Fatal(err)
				}
				for k, w := range want {
					checkTap(t, c.name+[]string{" ", " fused "}[gi]+k, got[k], w)
				}
			}
		}
		if len(fused.Nodes) >= len(g.Nodes)/2 {
			t.Errorf("%s: fusion left %d of %d nodes", c.name, len(fused.Nodes), len(g.Nodes))
		}
	}
}

func TestResNetParams(t *testing.T) {
	// torchvision: sum(p.numel() for p in resnetXX().parameters()).
	for name, want := range map[string]int64{"resnet18": 11689512, "resnet34": 21797672, "resnet50": 25557032} {
		g, err := model.ResNet(name, 1000)
		if err != nil {
			t.Fatal(err)
		}
		info, err := g.Describe([]int{1, 3, 224, 224})
		if err != nil {
			t.Fatal(err)
		}
		var p int64
		for _, li := range info {
			if li.Type == "BatchNorm2d" {
				p += li.Params / 2 // running stats are buffers, not parameters
			} else {
				p += li.Params
			}
		}
		if p != want {
			t.Errorf("%s: %d params, want %d", name, p, want)
		}
		if s := info[len(info)-1].OutShape; len(s) != 2 || s[0] != 1 || s[1] != 1000 {
			t.Errorf("%s: output %v", name, s)
		}
	}
}
