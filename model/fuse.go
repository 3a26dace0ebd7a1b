package model

import (
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/nn/winograd"
	"github.com/preconv/preconv/tensor"
)

// Fuse returns an inference-optimized copy of g (call it after loading
// weights; g itself is not modified and its weights are not written):
//
//   - a BatchNorm2d whose input is a Conv2d read by nothing else is folded
//     into that conv (nn.FoldBatchNorm);
//   - a ReLU or Clip whose input is a Conv2d, Linear or Add read by nothing
//     else becomes that op's fused activation;
//   - a zero padding (nn.Pad with Value 0, or any op of Type "Pad" that
//     behaves as one, such as Keras ZeroPadding2D; see zeroPads) whose only
//     reader is a Conv2d is folded into that conv's Pad;
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
			if j, ok := pos[ins[0]]; ok {
				// prev may sit anywhere before n: n is its only reader, so
				// the fused op can take prev's place (its inputs precede it,
				// and every reader of n comes after n).
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
	case *nn.Conv2d:
		p, ok := zeroPads(prev)
		if !ok {
			return nil, false
		}
		c := *n
		for i := range c.Pad {
			c.Pad[i] += p[i]
		}
		return &c, true
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

var (
	_ nn.FastConv      = (*winogradConv)(nil)
	_ nn.BatchFastConv = (*winogradConv)(nil)
)

// ConvImage implements nn.FastConv.
func (w *winogradConv) ConvImage(c *nn.Conv2d, dst, x []float32, h, wd, threads int) bool {
	return w.ConvBatch(c, dst, x, 1, h, wd, threads)
}

// ConvBatch implements nn.BatchFastConv: winograd.Conv takes the whole
// batch, so its tile blocks span images and its goroutines share the work.
func (w *winogradConv) ConvBatch(c *nn.Conv2d, dst, x []float32, n, h, wd, threads int) bool {
	var bias []float32
	if c.Bias != nil {
		bias = c.Bias.Data
	}
	relu := c.Act.Kind == nn.ActReLU
	winograd.Conv(dst, x, n, c.InChannels, h, wd, w.wt, bias, c.Pad[0], c.Pad[1], c.Pad[2], c.Pad[3], relu, threads)
	if !relu {
		c.Act.Apply(dst)
	}
	return true
}

// zeroPads reports whether op pads the spatial axes of NCHW input with
// zeros, and by how much ([top, left, bottom, right]). Besides nn.Pad, it
// recognizes other ops of Type "Pad" (such as the TF.js importer's
// ZeroPadding2D) by running them on a 1×1×2×3 probe: the output must be the
// probe translated by (top, left) with zeros everywhere else.
func zeroPads(op nn.Op) ([4]int, bool) {
	if p, ok := op.(*nn.Pad); ok {
		ok = p.Value == 0 && p.Pads[0] >= 0 && p.Pads[1] >= 0 && p.Pads[2] >= 0 && p.Pads[3] >= 0
		return p.Pads, ok
	}
	if op.Type() != "Pad" {
		return [4]int{}, false
	}
	const h, w = 2, 3
	x := tensor.New(1, 1, h, w)
	for i := range x.Data {
		x.Data[i] = float32(i + 1)
	}
	y, err := op.Forward(&nn.Exec{Threads: 1}, x)
	if err != nil || len(y.Shape) != 4 || y.Shape[0] != 1 || y.Shape[1] != 1 ||
		y.Shape[2] < h || y.Shape[3] < w || len(y.Data) != y.Shape[2]*y.Shape[3] {
		return [4]int{}, false
	}
	oh, ow := y.Shape[2], y.Shape[3]
	top, left := -1, -1
	for i, v := range y.Data {
		if v == 1 {
			top, left = i/ow, i%ow
			break
		}
	}
	if top < 0 || top+h > oh || left+w > ow {
		return [4]int{}, false
	}
	for i, v := range y.Data {
		r, c := i/ow-top, i%ow-left
		want := float32(0)
		if r >= 0 && r < h && c >= 0 && c < w {
			want = x.Data[r*w+c]
		}
		if v != want {
			return [4]int{}, false
		}
	}
	return [4]int{top, left, oh - h - top, ow - w - left}, true
}
