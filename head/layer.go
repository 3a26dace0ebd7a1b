package head

// Exec carries the settings of one forward/backward pass.
type Exec struct {
	// Threads is how many goroutines a GEMM may use (<= 1: the calling one).
	Threads int
	// Train selects training behaviour (dropout active, batch statistics in
	// BatchNorm1d and running-stat updates).
	Train bool
	// Step is the global optimizer step; it seeds dropout masks.
	Step int64
}

// Param is a named parameter (or buffer) with its gradient.
type Param struct {
	Name  string    // e.g. "0.weight"
	Shape []int     // PyTorch layout
	Data  []float32 // values
	Grad  []float32 // gradient, same length as Data; nil for buffers
	// Frozen parameters are not updated and get no gradient.
	Frozen bool
	// Buffer marks non-trainable state (BatchNorm running stats).
	Buffer bool
}

// Trainable reports whether the optimizer should update p.
func (p *Param) Trainable() bool { return !p.Frozen && !p.Buffer }

// Layer is one trainable-head layer over flat batches.
type Layer interface {
	// Kind names the layer type: "Linear", "ReLU", "Dropout", "BatchNorm1d", "Flatten".
	Kind() string
	// In and Out are the per-item input and output sizes.
	In() int
	Out() int
	// Forward computes y (n×Out) from x (n×In). In training mode it keeps
	// what Backward needs. The result is owned by the layer.
	Forward(e *Exec, x []float32, n int) []float32
	// Backward takes dL/dy of the last Forward, accumulates parameter
	// gradients, and returns dL/dx when needDX (else nil).
	Backward(e *Exec, dy []float32, needDX bool) []float32
	// Params returns the layer's parameters and buffers (nil if none).
	Params() []*Param
}

func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}
