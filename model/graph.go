// Package model builds backbones as graphs of nn ops and runs them up to a
// named tap ("features", "features.23", "classifier.4", a Keras layer name
// or an ONNX node output).
package model

import (
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
}
