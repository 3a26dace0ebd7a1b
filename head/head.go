package head

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/preconv/preconv/tensor"
)

// Spec describes a head; it is JSON-serializable and stored with checkpoints.
// Zero values are the defaults noted on each field.
type Spec struct {
	// Preset is "linear" (default), "mlp" or "vgg-classifier".
	Preset string `json:"preset,omitempty"`
	// Hidden sizes of the mlp preset (default [256]).
	Hidden []int `json:"hidden,omitempty"`
	// BatchNorm adds BatchNorm1d after each hidden Linear of the mlp preset.
	BatchNorm bool `json:"batch_norm,omitempty"`
	// Dropout probability after each hidden ReLU (mlp; vgg-classifier
	// uses 0.5 when zero, set a negative value to disable it).
	Dropout float64 `json:"dropout,omitempty"`
	// TrainLayers names the layers (sequential indices, "3", "6") whose
	// parameters are trainable; empty means all layers, except for
	// vgg-classifier where it means only the last Linear ("6").
	TrainLayers []string `json:"train_layers,omitempty"`
	// Standardize z-scores every input feature with the training set's mean
	// and standard deviation (a first, frozen layer whose statistics are
	// saved with the head). linear and mlp only.
	Standardize bool `json:"standardize,omitempty"`
}

// Head is a sequential stack of layers ending in class logits.
type Head struct {
	Spec    Spec
	InShape []int // per-item feature shape, e.g. [512 7 7]
	Classes int
	Layers  []Layer
	// Threads for GEMMs (<= 1: the calling goroutine).
	Threads int
}

// In returns the flattened input size.
func (h *Head) In() int { return tensor.Numel(h.InShape) }

// Params returns every parameter and buffer in layer order.
func (h *Head) Params() []*Param {
	var ps []*Param
	for _, l := range h.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// Trainable returns the parameters the optimizer updates.
func (h *Head) Trainable() []*Param {
	var ps []*Param
	for _, p := range h.Params() {
		if p.Trainable() {
			ps = append(ps, p)
		}
	}
	return ps
}

// ZeroGrad sets all gradients to zero.
func (h *Head) ZeroGrad() {
	for _, p := range h.Params() {
		clear(p.Grad)
	}
}

// FirstTrainable returns the index of the first layer with a trainable
// parameter, or len(Layers) when none is.
func (h *Head) FirstTrainable() int {
	for i, l := range h.Layers {
		for _, p := range l.Params() {
			if p.Trainable() {
				return i
			}
		}
	}
	return len(h.Layers)
}

// Forward runs the layers on x (n×In) and returns the logits (n×Classes),
// owned by the last layer.
func (h *Head) Forward(e *Exec, x []float32, n int) []float32 {
	if e.Threads == 0 {
		e.Threads = h.Threads
	}
	for _, l := range h.Layers {
		x = l.Forward(e, x, n)
	}
	return x
}

// Backward propagates dL/dlogits back to the first trainable layer,
// accumulating parameter gradients.
func (h *Head) Backward(e *Exec, dlogits []float32) {
	first := h.FirstTrainable()
	d := dlogits
	for i := len(h.Layers) - 1; i >= first; i-- {
		d = h.Layers[i].Backward(e, d, i > first)
	}
}

// Predict returns softmax probabilities (n×Classes, freshly allocated) for
// features (n×In) in eval mode. It is not safe for concurrent use (layers
// hold scratch buffers).
func (h *Head) Predict(features []float32, n int) []float32 {
	logits := h.Forward(&Exec{Threads: h.Threads}, features, n)
	probs := make([]float32, n*h.Classes)
	c := h.Classes
	for i := 0; i < n; i++ {
		row := logits[i*c : (i+1)*c]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = math.Max(mx, float64(v))
		}
		var s float64
		for k, v := range row {
			e := math.Exp(float64(v) - mx)
			probs[i*c+k] = float32(e)
			s += e
		}
		for k := range row {
			probs[i*c+k] = float32(float64(probs[i*c+k]) / s)
		}
	}
	return probs
}

// layerName is the sequential index used in parameter names.
func layerName(i int) string { return strconv.Itoa(i) }

// New builds a head for items of shape inShape and the given number of
// classes. Fresh Linear layers are initialised like torch (see NewLinear)
// from a PCG stream seeded by seed. backbone supplies pretrained weights for
// vgg-classifier (keys classifier.0.weight, classifier.0.bias,
// classifier.3.weight, classifier.3.bias; classifier.6 is always replaced);
// it may be nil, then those layers are initialised fresh too.
func New(spec Spec, inShape []int, classes int, seed int64, backbone map[string]*tensor.Tensor) (*Head, error) {
	return newHead(spec, inShape, classes, seed, backbone, true)
}

// newHead is New; with init false, parameters are left zero (Load fills them).
func newHead(spec Spec, inShape []int, classes int, seed int64, backbone map[string]*tensor.Tensor, init bool) (*Head, error) {
	if classes < 2 {
		return nil, fmt.Errorf("head: %d classes, need at least 2: %w", classes, ErrSpec)
	}
	in := tensor.Numel(inShape)
	if in <= 0 {
		return nil, fmt.Errorf("head: empty input shape %v: %w", inShape, ErrSpec)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	if !init {
		rng = nil
	}
	h := &Head{Spec: spec, InShape: append([]int(nil), inShape...), Classes: classes}
	add := func(l Layer) { h.Layers = append(h.Layers, l) }
	dseed := func() uint64 { return uint64(seed)*1000003 + uint64(len(h.Layers)) }
	if spec.Standardize {
		if spec.Preset == "vgg-classifier" {
			return nil, fmt.Errorf("head: vgg-classifier starts from pretrained weights that expect raw features; standardize is for linear and mlp: %w", ErrSpec)
		}
		add(NewStandardize("std", in))
	}
	switch spec.Preset {
	case "", "linear":
		h.Spec.Preset = "linear"
		add(NewLinear("0", in, classes, rng))
	case "mlp":
		hidden := spec.Hidden
		if len(hidden) == 0 {
			hidden = []int{256}
			h.Spec.Hidden = hidden
		}
		if spec.Dropout < 0 || spec.Dropout >= 1 {
			return nil, fmt.Errorf("head: dropout %g outside [0, 1): %w", spec.Dropout, ErrSpec)
		}
		d := in
		for _, hs := range hidden {
			if hs <= 0 {
				return nil, fmt.Errorf("head: hidden size %d: %w", hs, ErrSpec)
			}
			add(NewLinear(layerName(len(h.Layers)), d, hs, rng))
			if spec.BatchNorm {
				add(NewBatchNorm1d(layerName(len(h.Layers)), hs))
			}
			add(NewReLU(hs))
			if spec.Dropout > 0 {
				add(NewDropout(hs, spec.Dropout, dseed()))
			}
			d = hs
		}
		add(NewLinear(layerName(len(h.Layers)), d, classes, rng))
	case "vgg-classifier":
		if in != 25088 {
			return nil, fmt.Errorf("head: vgg-classifier needs 25088 = 512×7×7 input features, have %v: %w", inShape, ErrSpec)
		}
		p := spec.Dropout
		if p == 0 {
			p = 0.5
		}
		if p < 0 {
			p = 0
		}
		if p >= 1 {
			return nil, fmt.Errorf("head: dropout %g outside [0, 1): %w", p, ErrSpec)
		}
		// Pretrained layers are not drawn (100M values) when the backbone
		// supplies them.
		prng := rng
		if backbone != nil {
			prng = nil
		}
		l0 := NewLinear("0", 25088, 4096, prng)
		add(l0)
		add(NewReLU(4096))
		add(NewDropout(4096, p, dseed()))
		l3 := NewLinear("3", 4096, 4096, prng)
		add(l3)
		add(NewReLU(4096))
		add(NewDropout(4096, p, dseed()))
		add(NewLinear("6", 4096, classes, rng))
		if backbone != nil {
			for _, c := range []struct {
				l   *Linear
				key string
			}{{l0, "classifier.0"}, {l3, "classifier.3"}} {
				for _, pp := range []*Param{c.l.Weight, c.l.Bias} {
					key := c.key + pp.Name[strings.IndexByte(pp.Name, '.'):]
					t, ok := backbone[key]
					if !ok {
						return nil, fmt.Errorf("head: backbone state dict has no %q: %w", key, ErrSpec)
					}
					if !tensor.SameShape(t.Shape, pp.Shape) {
						return nil, fmt.Errorf("head: backbone %q has shape %v, want %v: %w", key, t.Shape, pp.Shape, ErrSpec)
					}
					copy(pp.Data, t.Data)
				}
			}
		}
		if len(spec.TrainLayers) == 0 {
			h.Spec.TrainLayers = []string{"6"}
		}
	default:
		return nil, fmt.Errorf("head: unknown preset %q (want linear, mlp or vgg-classifier): %w", spec.Preset, ErrSpec)
	}
	if err := h.setTrainLayers(h.Spec.TrainLayers); err != nil {
		return nil, err
	}
	return h, nil
}

// setTrainLayers freezes every parameter outside the listed layers (empty:
// nothing frozen) and drops the gradient storage of frozen ones.
func (h *Head) setTrainLayers(names []string) error {
	if len(names) == 0 {
		return nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[strings.TrimSpace(n)] = true
	}
	found := map[string]bool{}
	for i, l := range h.Layers {
		name := layerName(i)
		for _, p := range l.Params() {
			if p.Buffer {
				continue
			}
			p.Frozen = !want[name]
			if p.Frozen {
				p.Grad = nil
			}
		}
		if want[name] && len(l.Params()) > 0 {
			found[name] = true
		}
	}
	for n := range want {
		if !found[n] {
			return fmt.Errorf("head: train layer %q is not a layer with parameters: %w", n, ErrSpec)
		}
	}
	return nil
}
