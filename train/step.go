package train

import (
	"github.com/preconv/preconv/head"
)

// stepper runs one optimisation step on a batch; the training loop and the
// PyTorch parity test share it.
type stepper struct {
	h     *head.Head
	loss  head.Loss
	opt   Optimizer
	clip  float64
	grad  []float32
	probs []float32
}

// step: zero grads, forward in training mode, loss, backward, clip, update.
// It returns the batch's mean loss and the number of correct argmax predictions.
func (s *stepper) step(e *head.Exec, x []float32, labels []int, lr, momentum float64) (float64, int) {
	n, c := len(labels), s.h.Classes
	s.h.ZeroGrad()
	e.Train = true
	logits := s.h.Forward(e, x, n)
	correct := countCorrect(logits, labels, c)
	s.grad = grow(s.grad, n*c)
	l := s.loss.Forward(logits, labels, c, nil, s.grad)
	s.h.Backward(e, s.grad)
	params := s.h.Trainable()
	if s.clip > 0 {
		ClipGradNorm(params, s.clip)
	}
	s.opt.Step(lr, momentum)
	return l, correct
}

func countCorrect(logits []float32, labels []int, c int) int {
	correct := 0
	for i, y := range labels {
		if argmax(logits[i*c:(i+1)*c]) == y {
			correct++
		}
	}
	return correct
}

func argmax(row []float32) int {
	best := 0
	for k, v := range row {
		if v > row[best] {
			best = k
		}
	}
	return best
}

func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}
