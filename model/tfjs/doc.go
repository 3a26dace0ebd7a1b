// Package tfjs imports TensorFlow.js layers-models (Keras model.json plus
// binary weight shards) as executable model.Graph values on NCHW input.
//
// # Files
//
// Load accepts a directory holding model.json and its shards, or the npm
// bundle layout of packages such as nsfwjs (model.min.js exporting the
// model.json object and group1-shardNofM.min.js exporting each shard as a
// base64 string): the JS modules are parsed, never evaluated, so no
// JavaScript runtime is needed. UnwrapNPMModule writes the standard layout.
// FetchNSFWJS obtains nsfwjs@4.4.0 with `npm pack` into the preconv cache.
//
// Weights may be float32, float16, or uint8/uint16-quantized
// ({dtype, scale, min}: value = q·scale + min). Every manifest group's
// shard bytes must equal the sum of its weights' sizes (ErrShards names the
// shard files otherwise).
//
// # Layers
//
// InputLayer, Conv2D, DepthwiseConv2D, SeparableConv2D, BatchNormalization,
// ReLU (max_value), Activation (relu, relu6, sigmoid, softmax, tanh,
// linear), ZeroPadding2D, MaxPooling2D, AveragePooling2D,
// GlobalAveragePooling2D, GlobalMaxPooling2D, Add, Concatenate, Flatten,
// Dense and Dropout. Any other type fails with one ErrUnsupported error
// listing every unsupported type and the layers using it.
//
// # Layout
//
// Keras runs NHWC; the graph runs NCHW with the same numbers: Keras
// channel axes map to axis 1, kernels are converted (Conv2D HWIO → OIHW,
// DepthwiseConv2D (KH,KW,C,M) → (C·M,1,KH,KW)), Flatten flattens in NHWC
// order so Dense kernels (In×Out) apply unchanged, and TF 'same' padding
// is computed per layer from its input size with the odd extra pixel at
// the bottom/right. Node names are the Keras layer names, so any layer can
// be a tap (e.g. "block_13_expand_relu", "mixed5"); layers that expand to
// two nodes name the inner one "<layer>/<step>".
package tfjs
