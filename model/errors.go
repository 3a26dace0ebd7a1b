package model

import "errors"

// ErrMissingTensor is returned (wrapped, naming the tensor and its expected
// shape) when a strict LoadStateDict finds no tensor for a parameter.
var ErrMissingTensor = errors.New("model: missing tensor")

// ErrUnexpectedTensor is returned (wrapped, naming the tensor and its
// shape) when a strict LoadStateDict is given a tensor no parameter uses.
var ErrUnexpectedTensor = errors.New("model: unexpected tensor")

// ErrShape is returned (wrapped, naming the tensor or node and both shapes)
// when a tensor's shape does not match the graph.
var ErrShape = errors.New("model: shape mismatch")

// ErrGraph is returned (wrapped) for a malformed graph: duplicate or empty
// names, inputs that are not defined earlier, dangling aliases.
var ErrGraph = errors.New("model: invalid graph")

// ErrTap is returned (wrapped) when a requested tap names no node or alias.
var ErrTap = errors.New("model: unknown tap")

// ErrArch is returned (wrapped) for an unknown architecture name.
var ErrArch = errors.New("model: unknown architecture")
