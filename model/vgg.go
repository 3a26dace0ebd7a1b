package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/tensor"
)

// M marks a 2×2 stride-2 max pool in VGGConfig.Layers (torchvision's 'M').
const M = -1

// VGGConfig describes a torchvision-style VGG: features built by
// torchvision's make_layers(cfg, batch_norm), AdaptiveAvgPool2d(7,7),
// flatten, and classifier Linear–ReLU–Dropout–Linear–ReLU–Dropout–Linear.
type VGGConfig struct {
	Name string
	// Layers is the make_layers cfg: a channel count for a 3×3 pad-1 conv
	// (+ BatchNorm2d if BatchNorm) + ReLU, or M for MaxPool2d(2, 2).
	Layers    []int
	BatchNorm bool
	// InChannels of the input image (3 when zero).
	InChannels int
	// Hidden is the width of the two hidden classifier layers (4096 in
	// torchvision).
	Hidden int
	// NumClasses is the width of the last Linear (1000 for ImageNet).
	NumClasses int
}

// vggCfgs are torchvision's cfgs "A", "B", "D", "E".
var vggCfgs = map[string][]int{
	"vgg11": {64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M},
	"vgg13": {64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M},
	"vgg16": {64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M},
	"vgg19": {64, 64, M, 128, 128, M, 256, 256, 256, 256, M, 512, 512, 512, 512, M, 512, 512, 512, 512, M},
}

// VGGNames lists the VGG architectures VGG accepts.
var VGGNames = []string{"vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"}

// VGG returns torchvision's vgg11/13/16/19 or its "_bn" variant with
// numClasses outputs (1000 for the ImageNet checkpoints), zero weights.
// Node names match the state dict ("features.0", …, "classifier.6");
// aliases "features", "avgpool" and "classifier" name the block outputs.
// Load weights with LoadStateDict (or InitRandom), then call Fuse for fast
// inference.
func VGG(name string, numClasses int) (*Graph, error) {
	base, bn := name, false
	if len(name) > 3 && name[len(name)-3:] == "_bn" {
		base, bn = name[:len(name)-3], true
	}
	cfg, ok := vggCfgs[base]
	if !ok {
		return nil, fmt.Errorf("VGG %q (known: %v): %w", name, VGGNames, ErrArch)
	}
	return NewVGG(VGGConfig{Name: name, Layers: cfg, BatchNorm: bn, Hidden: 4096, NumClasses: numClasses})
}

// NewVGG builds the graph of a VGGConfig (zero weights).
func NewVGG(c VGGConfig) (*Graph, error) {
	if c.InChannels == 0 {
		c.InChannels = 3
	}
	if c.Hidden < 1 || c.NumClasses < 1 || len(c.Layers) == 0 {
		return nil, fmt.Errorf("VGG %q: hidden %d, classes %d, %d layers: %w", c.Name, c.Hidden, c.NumClasses, len(c.Layers), ErrArch)
	}
	g := &Graph{Name: c.Name, Input: "x", InputShape: []int{c.InChannels, 224, 224}, Aliases: map[string]string{}}
	prev, ch, idx := "x", c.InChannels, 0
	add := func(name string, op nn.Op) {
		g.Nodes = append(g.Nodes, &Node{Name: name, Op: op, Inputs: []string{prev}})
		prev = name
	}
	feat := func() string { s := "features." + strconv.Itoa(idx); idx++; return s }
	for _, v := range c.Layers {
		if v == M {
			add(feat(), nn.NewMaxPool2d(2, 2, 0))
			continue
		}
		if v < 1 {
			return nil, fmt.Errorf("VGG %q: layer width %d: %w", c.Name, v, ErrArch)
		}
		add(feat(), nn.NewConv2d(ch, v, 3, 1, 1, true))
		if c.BatchNorm {
			add(feat(), nn.NewBatchNorm2d(v))
		}
		add(feat(), &nn.ReLU{})
		ch = v
	}
	g.Aliases["features"] = prev
	add("avgpool", &nn.AdaptiveAvgPool2d{Out: [2]int{7, 7}})
	add("flatten", &nn.Flatten{StartDim: 1})
	add("classifier.0", nn.NewLinear(ch*49, c.Hidden, true))
	add("classifier.1", &nn.ReLU{})
	add("classifier.2", &nn.Dropout{P: 0.5})
	add("classifier.3", nn.NewLinear(c.Hidden, c.Hidden, true))
	add("classifier.4", &nn.ReLU{})
	add("classifier.5", &nn.Dropout{P: 0.5})
	add("classifier.6", nn.NewLinear(c.Hidden, c.NumClasses, true))
	g.Aliases["classifier"] = prev
	g.Output = prev
	return g, g.Validate()
}

// InitRandom fills every parameter with reproducible random values
// (Kaiming-uniform-like scale for weights, small biases; batch-norm
// statistics near identity), for benchmarks and tests without a weights
// file.
func (g *Graph) InitRandom(seed uint64) {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	for _, n := range g.Nodes {
		p, ok := n.Op.(nn.ParamOp)
		if !ok {
			continue
		}
		for _, t := range p.Params() {
			if t.Tensor == nil {
				continue
			}
			d := t.Tensor.Data
			switch t.Name {
			case "weight":
				if len(t.Tensor.Shape) == 1 { // batch-norm gamma
					for i := range d {
						d[i] = 0.8 + 0.4*r.Float32()
					}
					continue
				}
				fanIn := tensor.Numel(t.Tensor.Shape[1:])
				bound := float32(1)
				if fanIn > 0 {
					bound = float32(math.Sqrt(6 / float64(fanIn)))
				}
				for i := range d {
					d[i] = (2*r.Float32() - 1) * bound
				}
			case "running_var":
				for i := range d {
					d[i] = 0.5 + r.Float32()
				}
			default: // bias, running_mean
				for i := range d {
					d[i] = 0.1 * (2*r.Float32() - 1)
				}
			}
		}
	}
}
