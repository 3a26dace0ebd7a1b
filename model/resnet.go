package model

import (
	"fmt"

	"github.com/preconv/preconv/nn"
)

// ResNetNames lists the architectures ResNet accepts.
var ResNetNames = []string{"resnet18", "resnet34", "resnet50", "resnet101", "resnet152"}

var resnetCfgs = map[string]struct {
	blocks     [4]int
	bottleneck bool
}{
	"resnet18":  {[4]int{2, 2, 2, 2}, false},
	"resnet34":  {[4]int{3, 4, 6, 3}, false},
	"resnet50":  {[4]int{3, 4, 6, 3}, true},
	"resnet101": {[4]int{3, 4, 23, 3}, true},
	"resnet152": {[4]int{3, 8, 36, 3}, true},
}

// ResNet returns torchvision's resnet18/34/50/101/152 (v1.5: the stride of
// a bottleneck is on its 3×3 conv) with numClasses outputs and zero
// weights. Parameter names match torchvision's state dict ("conv1",
// "bn1", "layer1.0.conv1", "layer2.0.downsample.0", …, "fc"). Each block
// ends in a node named after the block ("layer1.0" = add + ReLU), preceded
// by "<block>.add"; ReLUs inside a block are "<block>.relu1" (and
// "<block>.relu2" in bottlenecks). Aliases: "layer1".."layer4" (last
// block), "features" (= "layer4"), "avgpool" and "fc" are nodes.
func ResNet(name string, numClasses int) (*Graph, error) {
	cfg, ok := resnetCfgs[name]
	if !ok {
		return nil, fmt.Errorf("ResNet %q (known: %v): %w", name, ResNetNames, ErrArch)
	}
	return NewResNet(ResNetConfig{Name: name, Blocks: cfg.blocks, Bottleneck: cfg.bottleneck,
		Widths: [4]int{64, 128, 256, 512}, Stem: 64, NumClasses: numClasses})
}

// ResNetConfig describes a torchvision-style ResNet: a 7×7 stride-2 stem
// conv of Stem channels + BN + ReLU + 3×3 stride-2 max pool, four layers of
// Blocks[i] BasicBlocks (or Bottlenecks, expansion 4) of width Widths[i]
// (stride 2 from layer2 on, with torchvision's 1×1-conv+BN downsample rule),
// global average pool, flatten and fc.
type ResNetConfig struct {
	Name       string
	Blocks     [4]int
	Bottleneck bool
	// Widths are the "planes" of layer1..4 (64, 128, 256, 512 in torchvision).
	Widths [4]int
	// Stem is the stem conv's output channels (64 in torchvision).
	Stem       int
	NumClasses int
}

// NewResNet builds the graph of a ResNetConfig (zero weights), with the
// node names and aliases documented at ResNet.
func NewResNet(c ResNetConfig) (*Graph, error) {
	name, numClasses, cfg := c.Name, c.NumClasses, c
	if numClasses < 1 || c.Stem < 1 {
		return nil, fmt.Errorf("ResNet %q: %d classes, stem %d: %w", name, numClasses, c.Stem, ErrArch)
	}
	for i := range c.Blocks {
		if c.Blocks[i] < 1 || c.Widths[i] < 1 {
			return nil, fmt.Errorf("ResNet %q: blocks %v widths %v: %w", name, c.Blocks, c.Widths, ErrArch)
		}
	}
	g := &Graph{Name: name, Input: "x", InputShape: []int{3, 224, 224}, Aliases: map[string]string{}}
	node := func(name string, op nn.Op, inputs ...string) string {
		g.Nodes = append(g.Nodes, &Node{Name: name, Op: op, Inputs: inputs})
		return name
	}
	convBN := func(prefix, conv, bn, in string, cin, cout, k, stride, pad int) string {
		h := node(prefix+conv, nn.NewConv2d(cin, cout, k, stride, pad, false), in)
		return node(prefix+bn, nn.NewBatchNorm2d(cout), h)
	}
	h := convBN("", "conv1", "bn1", "x", 3, c.Stem, 7, 2, 3)
	h = node("relu", &nn.ReLU{}, h)
	h = node("maxpool", nn.NewMaxPool2d(3, 2, 1), h)
	inplanes := c.Stem
	exp := 1
	if cfg.Bottleneck {
		exp = 4
	}
	for li, planes := range c.Widths {
		layer := fmt.Sprintf("layer%d", li+1)
		for b := 0; b < cfg.Blocks[li]; b++ {
			stride := 1
			if b == 0 && li > 0 {
				stride = 2
			}
			p := fmt.Sprintf("%s.%d.", layer, b)
			identity := h
			var y string
			if cfg.Bottleneck {
				y = convBN(p, "conv1", "bn1", h, inplanes, planes, 1, 1, 0)
				y = node(p+"relu1", &nn.ReLU{}, y)
				y = convBN(p, "conv2", "bn2", y, planes, planes, 3, stride, 1)
				y = node(p+"relu2", &nn.ReLU{}, y)
				y = convBN(p, "conv3", "bn3", y, planes, planes*exp, 1, 1, 0)
			} else {
				y = convBN(p, "conv1", "bn1", h, inplanes, planes, 3, stride, 1)
				y = node(p+"relu1", &nn.ReLU{}, y)
				y = convBN(p, "conv2", "bn2", y, planes, planes, 3, 1, 1)
			}
			if stride != 1 || inplanes != planes*exp {
				identity = convBN(p, "downsample.0", "downsample.1", h, inplanes, planes*exp, 1, stride, 0)
			}
			y = node(p+"add", &nn.Add{}, y, identity)
			h = node(p[:len(p)-1], &nn.ReLU{}, y)
			inplanes = planes * exp
		}
		g.Aliases[layer] = h
	}
	g.Aliases["features"] = "layer4"
	h = node("avgpool", &nn.AdaptiveAvgPool2d{Out: [2]int{1, 1}}, h)
	h = node("flatten", &nn.Flatten{StartDim: 1}, h)
	g.Output = node("fc", nn.NewLinear(c.Widths[3]*exp, numClasses, true), h)
	return g, g.Validate()
}

// Arch returns the architecture called name: any of VGGNames or
// ResNetNames.
func Arch(name string, numClasses int) (*Graph, error) {
	if _, ok := resnetCfgs[name]; ok {
		return ResNet(name, numClasses)
	}
	return VGG(name, numClasses)
}
