package head

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(rng *rand.Rand, n int, scale float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64() * scale)
	}
	return s
}

// checkLayer verifies Backward of one layer by central finite differences of
// L = Σ r·y (float64 accumulation), for the input and every trainable param.
func checkLayer(t *testing.T, name string, l Layer, n int, train bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	x := randSlice(rng, n*l.In(), 1)
	r := randSlice(rng, n*l.Out(), 1)
	e := &Exec{Train: train, Step: 7}
	loss := func() float64 {
		// Running stats must not drift between evaluations.
		var saved [][]float32
		for _, p := range l.Params() {
			saved = append(saved, append([]float32(nil), p.Data...))
		}
		y := l.Forward(e, x, n)
		var s float64
		for i := range r {
			s += float64(r[i]) * float64(y[i])
		}
		for i, p := range l.Params() {
			if p.Buffer {
				copy(p.Data, saved[i])
			}
		}
		return s
	}
	for _, p := range l.Params() {
		clear(p.Grad)
	}
	loss()
	dx := append([]float32(nil), l.Backward(e, r, true)...)
	const h = 1e-2
	cmp := func(what string, v []float32, i int, analytic float32) {
		old := v[i]
		v[i] = old + h
		lp := loss()
		v[i] = old - h
		lm := loss()
		v[i] = old
		num := (lp - lm) / (2 * h)
		if d := math.Abs(num - float64(analytic)); d > 2e-3*math.Max(1, math.Abs(num)) {
			t.Errorf("%s: d/d%s[%d] analytic %g numeric %g", name, what, i, analytic, num)
		}
	}
	for i := range x {
		cmp("x", x, i, dx[i])
	}
	for _, p := range l.Params() {
		if !p.Trainable() {
			continue
		}
		for i := range p.Data {
			cmp(p.Name, p.Data, i, p.Grad[i])
		}
	}
}

func TestGradLayers(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	checkLayer(t, "Linear", NewLinear("0", 5, 4, rng), 3, true)
	checkLayer(t, "ReLU", NewReLU(6), 4, true)
	checkLayer(t, "Flatten", NewFlatten(6), 2, true)
	checkLayer(t, "Dropout", NewDropout(8, 0.3, 11), 3, true)
	bn := NewBatchNorm1d("1", 4)
	copy(bn.Weight.Data, []float32{0.5, 1.5, -1, 2})
	copy(bn.Bias.Data, []float32{0.1, -0.2, 0.3, 0})
	checkLayer(t, "BatchNorm1d/train", bn, 5, true)
	bn2 := NewBatchNorm1d("1", 3)
	copy(bn2.RunningMean.Data, []float32{0.2, -0.1, 0.5})
	copy(bn2.RunningVar.Data, []float32{0.7, 1.3, 2})
	bn2.Weight.Frozen, bn2.Bias.Frozen = true, true
	checkLayer(t, "BatchNorm1d/eval", bn2, 4, false)
}

func TestGradLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n, c = 4, 5
	logits := randSlice(rng, n*c, 2)
	labels := []int{0, 3, 3, 4}
	for _, l := range []Loss{{}, {Smoothing: 0.1}, {Weights: []float32{1, 2, 0.5, 3, 1}}, {Smoothing: 0.2, Weights: []float32{1, 2, 0.5, 3, 1}}} {
		grad := make([]float32, n*c)
		l.Forward(logits, labels, c, nil, grad)
		for i := range logits {
			old := logits[i]
			const h = 1e-2
			logits[i] = old + h
			lp := l.Forward(logits, labels, c, nil, nil)
			logits[i] = old - h
			lm := l.Forward(logits, labels, c, nil, nil)
			logits[i] = old
			num := (lp - lm) / (2 * h)
			if math.Abs(num-float64(grad[i])) > 1e-4 {
				t.Errorf("loss %+v: d/dz[%d] analytic %g numeric %g", l, i, grad[i], num)
			}
		}
	}
}

// TestGradHead checks a whole mlp (Linear, BN1d train, ReLU, Dropout, Linear)
// through the loss.
func TestGradHead(t *testing.T) {
	h, err := New(Spec{Preset: "mlp", Hidden: []int{6}, BatchNorm: true, Dropout: 0.2}, []int{2, 2}, 3, 9, nil)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	const n = 5
	x := randSlice(rng, n*4, 1)
	labels := []int{0, 1, 2, 1, 0}
	loss := Loss{Smoothing: 0.1, Weights: []float32{1, 2, 0.5}}
	e := &Exec{Train: true, Step: 3}
	f := func() float64 {
		bufs := map[*Param][]float32{}
		for _, p := range h.Params() {
			if p.Buffer {
				bufs[p] = append([]float32(nil), p.Data...)
			}
		}
		v := loss.Forward(h.Forward(e, x, n), labels, 3, nil, nil)
		for p, d := range bufs {
			copy(p.Data, d)
		}
		return v
	}
	h.ZeroGrad()
	logits := h.Forward(e, x, n)
	g := make([]float32, n*3)
	loss.Forward(logits, labels, 3, nil, g)
	h.Backward(e, g)
	for _, p := range h.Trainable() {
		for i := range p.Data {
			old := p.Data[i]
			const eps = 1e-2
			p.Data[i] = old + eps
			lp := f()
			p.Data[i] = old - eps
			lm := f()
			p.Data[i] = old
			num := (lp - lm) / (2 * eps)
			if math.Abs(num-float64(p.Grad[i])) > 2e-3*math.Max(1, math.Abs(num)) {
				t.Errorf("%s[%d]: analytic %g numeric %g", p.Name, i, p.Grad[i], num)
			}
		}
	}
}

func TestDropoutStats(t *testing.T) {
	d := NewDropout(1000, 0.5, 1)
	x := make([]float32, 10000)
	for i := range x {
		x[i] = 1
	}
	y := append([]float32(nil), d.Forward(&Exec{Train: true, Step: 1}, x, 10)...)
	var zeros int
	var sum float64
	for _, v := range y {
		if v == 0 {
			zeros++
		} else if v != 2 {
			t.Fatalf("kept value %v, want 2 (inverted scaling)", v)
		}
		sum += float64(v)
	}
	if zeros < 4800 || zeros > 5200 {
		t.Errorf("%d of 10000 dropped, want ≈5000", zeros)
	}
	y2 := append([]float32(nil), d.Forward(&Exec{Train: true, Step: 2}, x, 10)...)
	same := 0
	for i := range y2 {
		if y2[i] == y[i] {
			same++
		}
	}
	if same > 5500 {
		t.Errorf("masks of steps 1 and 2 agree on %d of 10000", same)
	}
	if ev := d.Forward(&Exec{}, x, 10); ev[0] != 1 {
		t.Error("eval mode not identity")
	}
}

// TestLinearTransposeThreads: the cached transposed weight (built in
// parallel for big layers) gives the same output as a naive loop.
func TestLinearTransposeThreads(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, sz := range [][2]int{{1 << 14, 70}, {300, 4000}, {1 << 20, 2}} {
		l := NewLinear("0", sz[0], sz[1], rng)
		l.Weight.Frozen = true
		x := randSlice(rng, 2*sz[0], 1)
		y := l.Forward(&Exec{Threads: 2}, x, 2)
		for i := 0; i < 2; i++ {
			for o := 0; o < sz[1]; o += 7 {
				var s float64
				for k := 0; k < sz[0]; k++ {
					s += float64(x[i*sz[0]+k]) * float64(l.Weight.Data[o*sz[0]+k])
				}
				s += float64(l.Bias.Data[o])
				if math.Abs(s-float64(y[i*sz[1]+o])) > 1e-3 {
					t.Fatalf("%v: y[%d,%d] = %v, want %v", sz, i, o, y[i*sz[1]+o], s)
				}
			}
		}
	}
}
