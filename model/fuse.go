package model

import (
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/nn/winograd"
)

// Fuse returns an inference-optimized copy of g (call it after loading
// weights; g itself is not modified and its weights are not written):
//
//   - a BatchNorm2d whose input is a Conv2d read by nothing else is folded
//     into that conv (nn.FoldBatchNorm);
//   - a ReLU or Clip whose input is a Conv2d, Linear or Add read by nothing
//     else becomes that op's fused activation;
//   - a Dropout becomes an alias of its input;
//   - 3×3 stride-1 ungrouped convs get the Winograd F(4×4,3×3) kernel
//     (package nn/winograd) as their FastConv.
//
// A fused node keeps the name of the last node of the chain, so taps at
// block outputs ("features.2" = conv+bn+relu) still work, but the names of
// absorbed nodes (the conv before its batch norm) are no longer tappable.
// Nodes named in keep (taps, aliases allowed) and g.Output are never
// absorbed.
//
// The result is a snapshot for inference: its parameter names no longer
// match the checkpoint (load weights into g, before fusing), and the
// Winograd weights are transformed here, so fuse again after changing g's
// weights.
func (g *Graph) Fuse(keep ...string) (*Graph, error) {
	return g.fuse(true, keep...)
}

// FuseNoWinograd is Fuse without attaching the Winograd kernel (every conv
// runs as im2col+GEMM), for comparisons.
func (g *Graph) FuseNoWinograd(keep ...string) (*Graph, error) {
	return g.fuse(false, keep...)
}

func (g *Graph) fuse(wino bool, keep ...string) (*Graph, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	kept := map[string]bool{}
	for _, k := range append(keep, g.Output) {
		if k == "" {
			continue
		}
		r, err := g.Resolve(k)
		if err != nil {
			return nil, err
		}
		kept[r] = true
	}
	for a := range g.Aliases {
		// Aliases stay valid only if their target survives; keep them.
		if r, err := g.Resolve(a); err == nil {
			kept[r] = true
		}
	}
	readers := map[string]int{}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			readers[in]++
		}
	}
	out := &Graph{Name: g.Name, Input: g.Input, InputShape: append([]int(nil), g.InputShape...),
		Output: g.Output, Aliases: map[string]string{}}
	for a, t := range g.Aliases {
		out.Aliases[a] = t
	}
	rename := map[string]string{} // dropped name → surviving node
	pos := map[string]int{}       // node name → index in out.Nodes
	for _, n := range g.Nodes {
		ins := make([]string, len(n.Inputs))
		for i, in := range n.Inputs {
			if r, ok := rename[in]; ok {
				in = r
			}
			ins[i] = in
		}
		if _, ok := n.Op.(*nn.Dropout); ok && len(ins) == 1 {
			rename[n.Name] = ins[0]
			out.Aliases[n.Name] = ins[0]
			continue
		}
		if len(ins) == 1 && readers[n.Inputs[0]] == 1 && !kept[n.Inputs[0]] {
			if j, ok := pos[ins[0]]; ok && j == len(out.Nodes)-1 {
				prev := out.Nodes[j]
				if op, ok := absorb(prev.Op, n.Op); ok {
					delete(pos, prev.Name)
					out.Nodes[j] = &Node{Name: n.Name, Op: op, Inputs: prev.Inputs}
					pos[n.Name] = j
					continue
				}
			}
		}
		out.Nodes = append(out.Nodes, &Node{Name: n.Name, Op: n.Op, Inputs: ins})
		pos[n.Name] = len(out.Nodes) - 1
	}
	if wino {
		for _, n := range out.Nodes {
			c, ok := n.Op.(*nn.Conv2d)
			if !ok || c.Weight == nil || !winograd.Applicable(c.Kernel[0], c.Kernel[1], one(c.Stride[0]), one(c.Stride[1]),
				one(c.Dilation[0]), one(c.Dilation[1]), one(c.Groups)) {
				continue
			}
			cc := *c
			cc.Fast = &winogradConv{wt: winograd.PrepareWeights(c.Weight.Data, c.OutChannels, c.InChannels)}
			n.Op = &cc
		}
	}
	if err := out.Validate(); err != nil {
		return nil, err
	}
	return out, nil
}

func one(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

// absorb returns the op computing next(prev) in one step, if there is one.
// It never modifies prev or next.
func absorb(prev, next nn.Op) (nn.Op, bool) {
	var act nn.Act
	switch n := next.(type) {
	case *nn.BatchNorm2d:
		c, ok := prev.(*nn.Conv2d)
		if !ok || c.Act.Kind != nn.ActNone || c.Fast != nil {
			return nil, false
		}
		cc := *c
		if err := nn.FoldBatchNorm(&cc, n); err != nil {
			return nil, false
		}
		return &cc, true
	case *nn.ReLU:
		act = nn.Act{Kind: nn.ActReLU}
	case *nn.Clip:
		act = n.Act()
	default:
		return nil, false
	}
	switch p := prev.(type) {
	case *nn.Conv2d:
		if p.Act.Kind == nn.ActNone {
			c := *p
			c.Act = act
			return &c, true
		}
	case *nn.Linear:
		if p.Act.Kind == nn.ActNone {
			l := *p
			l.Act = act
			return &l, true
		}
	case *nn.Add:
		if p.Act.Kind == nn.ActNone {
			return &nn.Add{Act: act}, true
		}
	}
	return nil, false
}

// winogradConv adapts winograd.Conv to the nn.FastConv hook. Its weights
// are transformed once, when Fuse attaches it (after loading).
type winogradConv struct {
	wt *winograd.Weights
}

// ConvImage implements nn.FastConv.
func (w *winogradConv) ConvImage(c *nn.Conv2d, dst, x []float32, h, wd, threads int) bool {
	var bias []float32
	if c.Bias != nil {
		bias = c.Bias.Data
	}
	relu := c.Act.Kind == nn.ActReLU
	winograd.Conv(dst, x, 1, c.InChannels, h, wd, w.wt, bias, c.Pad[0], c.Pad[1], c.Pad[2], c.Pad[3], relu, threads)
	if !relu {
		c.Act.Apply(dst)
	}
	return true
}
