// Package onnx imports ONNX models (.onnx protobuf, read with protowire;
// no generated code) as executable model.Graph values.
//
// # Parsing and limits
//
// Every length-delimited field is a subslice of the input, so a hostile
// length cannot make the parser allocate beyond the file size; tensors are
// bounded by Options.MaxElements and the file by Options.MaxBytes.
// Initializers may use raw_data or the typed fields (float_data,
// int32_data, int64_data, double_data), and external data (location
// relative to the model directory, offset, length; paths escaping the
// directory are refused with ErrExternal).
//
// # Graph
//
// Nodes are put in topological order (cycles and inputs that nothing
// produces fail with ErrGraph naming the node). Each runtime node is named
// after its first output, and the ONNX node name becomes an alias, so both
// can be taps. Constants and shape computations (Constant, Shape, Gather,
// Unsqueeze, Squeeze, Concat, Cast, integer Add/Sub/Mul/Div, Reshape on
// constants) are folded at import. The first input dimension is the batch
// and stays free at run time (the torch.onnx.export pattern
// Shape→Gather→Unsqueeze→Concat→Reshape folds to a Reshape that copies
// it), unless Options.StaticBatch is set.
//
// # Ops
//
// SupportedOps lists them: Conv (2-D; pads, auto_pad SAME_UPPER/SAME_LOWER/
// VALID, strides, dilations, group), BatchNormalization (inference),
// Relu, Clip (attributes or opset-11 inputs), LeakyRelu, Sigmoid, MaxPool,
// AveragePool (count_include_pad, ceil_mode), GlobalAveragePool,
// GlobalMaxPool, Add/Sub/Mul/Div (broadcasting), Concat, Gemm, MatMul,
// Flatten, Reshape, Transpose, Pad (constant mode), Softmax, LogSoftmax,
// Dropout and Identity (inference), Constant, Shape, Gather, Unsqueeze,
// Squeeze, Cast. A model using anything else fails with one ErrUnsupported
// error listing every unsupported op type and the nodes using it.
// Conformance against ONNX's own node tests is in conformance_test.go.
package onnx
