package onnx

import "errors"

// Sentinel errors. Returned errors wrap one of these with %w and name the
// file, node, tensor or op concerned; test with errors.Is.
var (
	// ErrFormat means the protobuf is malformed or truncated, or a field
	// has an impossible value.
	ErrFormat = errors.New("onnx: malformed model")
	// ErrUnsupported means the model uses an op, attribute value or data
	// type the importer does not implement; for ops the message lists every
	// unsupported op type and the nodes using it.
	ErrUnsupported = errors.New("onnx: unsupported")
	// ErrGraph means the node graph is inconsistent: a cycle, an input no
	// node produces, a duplicate output name.
	ErrGraph = errors.New("onnx: bad graph")
	// ErrLimit means the model exceeds a size limit (Options).
	ErrLimit = errors.New("onnx: size limit exceeded")
	// ErrExternal means an external-data reference is bad: missing file,
	// path escaping the model directory, or offset/length out of range.
	ErrExternal = errors.New("onnx: bad external data")
)
