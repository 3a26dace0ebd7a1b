// Package model builds backbones as graphs of nn ops and runs them up to a
// named tap ("features", "features.23", "classifier.4", a Keras layer name
// or an ONNX node output).
package model

import (
	"sync"

	"github.com/preconv/preconv/nn"
)

// Node is one named step of a graph. Inputs name earlier nodes, or the
// graph's Input.
type Node struct {
	Name   string
	Op     nn.Op
	Inputs []string
}

// Graph is a directed acyclic graph of ops in topological order.
type Graph struct {
	// Name identifies the architecture ("vgg16", "mobilenet_v2", ...).
	Name string
	// Input is the name by which nodes refer to the graph input.
	Input string
	// InputShape is the per-image input shape (C, H, W), if fixed.
	InputShape []int
	// Nodes in topological order.
	Nodes []*Node
	// Output names the default output node.
	Output string
	// Aliases maps extra tap names to node names, e.g. "features" →
	// "features.30" for torchvision VGG16.
	Aliases map[string]string

	// arena recycles activation buffers across Run calls (nn.Arena).
	arenaMu sync.Mutex
	arena   *nn.Arena
}

// Arena returns the graph's activation-buffer arena, which Run uses when
// the Exec passed to it has none.
func (g *Graph) Arena() *nn.Arena {
	g.arenaMu.Lock()
	defer g.arenaMu.Unlock()
	if g.arena == nil {
		g.arena = nn.NewArena()
	}
	return g.arena
}
