// Package head holds trainable classifier heads: layers with Forward and
// Backward over flat row-major batches (n items × d features, float32), the
// softmax cross-entropy loss, presets (linear, mlp, vgg-classifier), and
// saving/loading a trained head.
//
// # Layout and ownership
//
// A batch is a []float32 of n×d values, item-major. Layer.Forward returns a
// buffer owned by the layer, valid until its next Forward; Backward returns a
// buffer owned by the layer, valid until its next Backward. Parameters
// follow PyTorch layouts (Linear weight out×in) and names ("0.weight",
// "1.running_mean", ...), so torch state dicts map one to one.
//
// # Gradients
//
// Backward accumulates into Param.Grad (callers zero them with
// (*Head).ZeroGrad before each step). Frozen parameters get no gradient, and
// Backward stops at the first layer that has a trainable parameter: nothing
// before it is differentiated.
//
// # Determinism
//
// Dropout masks are a pure function of (layer seed, Exec.Step, element), so a
// run is reproducible and resumable from the step counter alone. GEMMs go
// through gemm.SgemmParallel with Exec.Threads goroutines; results are
// deterministic for a given thread count.
package head
