// This file defines the Op contract; the package doc is in doc.go.

package nn

import "github.com/preconv/preconv/tensor"

// Exec carries the execution settings of one forward pass. There is no
// package-level state: pass the same Exec down to every op.
type Exec struct {
	// Threads is how many goroutines an op may use (<= 1: the calling one).
	// Ops parallelize over images of the batch first, and only split a
	// single image's GEMM when the batch is smaller than Threads.
	Threads int
	// Arena, when set, recycles activation buffers (see Arena and
	// Exec.Output); model.Graph.Run sets its own when this is nil.
	Arena *Arena
}

// Op is one node's computation.
type Op interface {
	// Type names the operation, e.g. "Conv2d", "ReLU", "MaxPool2d".
	Type() string
	// OutShape returns the output shape for the given input shapes, or an
	// error naming both shapes when they do not fit.
	OutShape(in ...[]int) ([]int, error)
	// Forward computes the output for the inputs (NCHW unless stated).
	Forward(e *Exec, in ...*tensor.Tensor) (*tensor.Tensor, error)
}

// Param is a named weight tensor of a layer ("weight", "bias",
// "running_mean", ...), in the layout PyTorch uses for that layer.
type Param struct {
	Name   string
	Tensor *tensor.Tensor
}

// ParamOp is implemented by ops with weights.
type ParamOp interface {
	Op
	Params() []Param
}

// Coster is implemented by ops that can report their cost in
// multiply-adds×2 (FLOPs) for the given input shapes.
type Coster interface {
	FLOPs(in ...[]int) int64
}
