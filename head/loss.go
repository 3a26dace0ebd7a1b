package head

import "math"

// Loss is softmax cross-entropy with PyTorch semantics
// (F.cross_entropy(logits, y, weight=w, label_smoothing=ε), reduction mean):
//
//	L = (1-ε)·Σ_i w[y_i]·(-log p_i,y_i) / W  +  (ε/C)·Σ_i Σ_c w[c]·(-log p_i,c) / W,
//	W = Σ_i w[y_i]
//
// with w ≡ 1 when Weights is nil (then W = n).
type Loss struct {
	// Smoothing is the label-smoothing ε in [0, 1).
	Smoothing float64
	// Weights are per-class weights (len C), or nil.
	Weights []float32
}

// Forward returns the mean loss over the batch and writes dL/dlogits into
// grad (n×C, may be nil to skip), and the softmax probabilities into probs
// (n×C, may be nil). logits is n×C, labels has n entries in [0, C).
func (l *Loss) Forward(logits []float32, labels []int, c int, probs, grad []float32) float64 {
	n := len(labels)
	eps := l.Smoothing
	w := func(k int) float64 {
		if l.Weights == nil {
			return 1
		}
		return float64(l.Weights[k])
	}
	var sumW float64
	var wAll float64
	for k := 0; k < c; k++ {
		wAll += w(k)
	}
	for _, y := range labels {
		sumW += w(y)
	}
	if sumW == 0 {
		sumW = 1
	}
	p := make([]float64, c)
	var total float64
	for i := 0; i < n; i++ {
		row := logits[i*c : (i+1)*c]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = math.Max(mx, float64(v))
		}
		var s float64
		for k, v := range row {
			p[k] = math.Exp(float64(v) - mx)
			s += p[k]
		}
		lse := mx + math.Log(s)
		y := labels[i]
		wy := w(y)
		nll := lse - float64(row[y])
		var smooth float64
		if eps != 0 {
			for k, v := range row {
				smooth += w(k) * (lse - float64(v))
			}
		}
		total += (1-eps)*wy*nll + eps/float64(c)*smooth
		for k := range p {
			p[k] /= s
			if probs != nil {
				probs[i*c+k] = float32(p[k])
			}
		}
		if grad != nil {
			for k := 0; k < c; k++ {
				d := (1 - eps) * wy * p[k]
				if k == y {
					d -= (1 - eps) * wy
				}
				if eps != 0 {
					d += eps / float64(c) * (wAll*p[k] - w(k))
				}
				grad[i*c+k] = float32(d / sumW)
			}
		}
	}
	return total / sumW
}
