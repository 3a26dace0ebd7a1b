package onnx

import (
	"fmt"

	"github.com/preconv/preconv/model"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/tensor"
)

// forward runs g up to tap with a plain in-order walk. It is independent
// of model.Graph's own executor so these tests do not depend on it.
func forward(g *model.Graph, x *tensor.Tensor, tap string) (*tensor.Tensor, error) {
	if tap == "" {
		tap = g.Output
	}
	if a, ok := g.Aliases[tap]; ok {
		tap = a
	}
	vals := map[string]*tensor.Tensor{g.Input: x}
	e := &nn.Exec{Threads: 1}
	for _, n := range g.Nodes {
		in := make([]*tensor.Tensor, len(n.Inputs))
		for i, s := range n.Inputs {
			in[i] = vals[s]
			if in[i] == nil {
				return nil, fmt.Errorf("node %s: input %s missing", n.Name, s)
			}
		}
		y, err := n.Op.Forward(e, in...)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", n.Name, err)
		}
		vals[n.Name] = y
		if n.Name == tap {
			return y, nil
		}
	}
	return nil, fmt.Errorf("tap %q not found", tap)
}
