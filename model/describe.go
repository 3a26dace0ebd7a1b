package model

import (
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/tensor"
)

// LayerInfo describes one node for `preconv inspect`.
type LayerInfo struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	OutShape []int  `json:"out_shape"`
	Params   int64  `json:"params"`
	FLOPs    int64  `json:"flops"`
}

// Describe propagates inShape (full shape, batch included, e.g.
// [1,3,224,224]) through the graph and returns per node its output shape,
// parameter count and FLOPs (0 for ops that do not report a cost).
func (g *Graph) Describe(inShape []int) ([]LayerInfo, error) {
	if len(g.Nodes) == 0 {
		return nil, nil
	}
	s, err := g.shapes(inShape, len(g.Nodes)-1)
	if err != nil {
		return nil, err
	}
	infos := make([]LayerInfo, len(g.Nodes))
	for i, n := range g.Nodes {
		li := LayerInfo{Name: n.Name, Type: n.Op.Type(), OutShape: s[n.Name]}
		if p, ok := n.Op.(nn.ParamOp); ok {
			for _, t := range p.Params() {
				if t.Tensor != nil {
					li.Params += int64(t.Tensor.Numel())
				}
			}
		}
		if c, ok := n.Op.(nn.Coster); ok {
			ins := make([][]int, len(n.Inputs))
			for j, in := range n.Inputs {
				ins[j] = s[in]
			}
			li.FLOPs = c.FLOPs(ins...)
		}
		infos[i] = li
	}
	return infos, nil
}

// Params returns every weight tensor of the graph under its state-dict
// name ("features.0.weight", "layer1.0.bn1.running_var"), in node order.
// The tensors are the graph's own (not copies).
func (g *Graph) Params() []nn.Param {
	var ps []nn.Param
	for _, n := range g.Nodes {
		if p, ok := n.Op.(nn.ParamOp); ok {
			for _, t := range p.Params() {
				if t.Tensor != nil {
					ps = append(ps, nn.Param{Name: n.Name + "." + t.Name, Tensor: t.Tensor})
				}
			}
		}
	}
	return ps
}

// StateDict returns Params as a map (tensors shared, not copied).
func (g *Graph) StateDict() map[string]*tensor.Tensor {
	m := map[string]*tensor.Tensor{}
	for _, p := range g.Params() {
		m[p.Name] = p.Tensor
	}
	return m
}
