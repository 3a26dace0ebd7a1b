// Package nn holds the layers of CNN backbones and heads as plain structs
// operating on NCHW float32 tensors.
//
// Every layer implements Op. Weights are exported fields (PyTorch layouts:
// conv weight OIHW, linear weight out×in). Forward never modifies its inputs
// and returns a freshly allocated output (or, for identity-like ops, may
// return its input: callers must not mutate outputs they did not allocate).
//
// Ops in this package:
//
//   - Conv2d (im2col+GEMM in column blocks of ~4 MiB from a sync.Pool, 1×1
//     stride-1 fast path without im2col, direct depthwise path, FastConv hook
//     used by model.Graph.Fuse for the Winograd kernel of package nn/winograd)
//   - ReLU, Clip (ReLU6), and fused activations (Act) on Conv2d, Linear, Add
//   - MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, GlobalAvgPool, GlobalMaxPool
//   - BatchNorm2d (inference) and FoldBatchNorm
//   - Linear, Dropout, Flatten, Add, Concat, Pad
//
// Threads: an op given Exec.Threads = t works on up to t images of the
// batch at once, and only splits one image's GEMM over t goroutines when the
// batch has fewer than t images; thread pools are never nested.
//
// Errors: shape problems wrap ErrShape, invalid settings wrap ErrConfig;
// messages name the op and the shapes involved.
package nn
