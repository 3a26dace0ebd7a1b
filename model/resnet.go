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
	if numClasses < 1 {
		return nil, fmt.Errorf("ResNet %q: %d classes: %w", name, numClasses, ErrArch)
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
	h := convBN("", "conv1", "bn1", "x", 3, 64, 7, 2, 3)
	h = node("relu", &nn.ReLU{}, h)
	h = node("maxpool", nn.NewMaxPool2d(3, 2, 1), h)
	inplanes := 64
	exp := 1
	if cfg.bottleneck {
		exp = 4
	}
	for li, planes := range []int{64, 128, 256, 512} {
		layer := fmt.Sprintf("layer%d", li+1)
		for b := 0; b < cfg.blocks[li]; b++ {
			stride := 1
			if b == 0 && li > 0 {
				stride = 2
			}
			p := fmt.Sprintf("%s.%d.", layer, b)
			identity := h
			var y string
			if cfg.bottleneck {
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
	g.Output = node("fc", nn.NewLinear(512*exp, numClasses, true), h)
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
