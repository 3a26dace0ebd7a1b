package head

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

type memSource struct {
	x   []float32
	dim int
}

func (m memSource) Len() int { return len(m.x) / m.dim }
func (m memSource) Read(idx []int, dst []float32) error {
	for k, i := range idx {
		copy(dst[k*m.dim:(k+1)*m.dim], m.x[i*m.dim:(i+1)*m.dim])
	}
	return nil
}

// TestStandardizeFit checks the statistics against a direct float64
// computation (population std, as sklearn's StandardScaler) over more items
// than one streaming batch, and the gradient by finite differences.
func TestStandardizeFit(t *testing.T) {
	const n, dim = 600, 5
	rng := rand.New(rand.NewPCG(9, 9))
	x := make([]float32, n*dim)
	for i := range x {
		j := i % dim
		x[i] = float32(rng.NormFloat64()*float64(j+1)*3 + float64(10*j))
		if j == 4 {
			x[i] = 7 // constant feature
		}
	}
	s := NewStandardize("std", dim)
	if err := s.FitStandardize(context.Background(), memSource{x, dim}); err != nil {
		t.Fatal(err)
	}
	for j := 0; j < dim; j++ {
		var sum, sq float64
		for i := 0; i < n; i++ {
			sum += float64(x[i*dim+j])
		}
		mean := sum / n
		for i := 0; i < n; i++ {
			d := float64(x[i*dim+j]) - mean
			sq += d * d
		}
		std := math.Sqrt(sq / n)
		wantInv := 1.0
		if std >= 1e-6 {
			wantInv = 1 / std
		}
		if math.Abs(float64(s.Mean.Data[j])-mean) > 1e-4*math.Max(1, math.Abs(mean)) ||
			math.Abs(float64(s.InvStd.Data[j])-wantInv) > 1e-4*wantInv {
			t.Errorf("feature %d: mean %v inv_std %v, want %v %v", j, s.Mean.Data[j], s.InvStd.Data[j], mean, wantInv)
		}
	}
	y := s.Forward(&Exec{}, x, n)
	for j := 0; j < 4; j++ {
		var sum, sq float64
		for i := 0; i < n; i++ {
			sum += float64(y[i*dim+j])
			sq += float64(y[i*dim+j]) * float64(y[i*dim+j])
		}
		if m, v := sum/n, sq/n; math.Abs(m) > 1e-3 || math.Abs(v-1) > 1e-3 {
			t.Errorf("standardized feature %d: mean %g var %g", j, m, v)
		}
	}
	checkLayer(t, "Standardize", s, 3, true)
}

// TestStandardizeSaveLoad checks that the statistics travel with the head.
func TestStandardizeSaveLoad(t *testing.T) {
	h, err := New(Spec{Preset: "mlp", Hidden: []int{4}, Standardize: true}, []int{3}, 2, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := h.Standardizer()
	if st == nil {
		t.Fatal("no Standardize layer")
	}
	copy(st.Mean.Data, []float32{1, 2, 3})
	copy(st.InvStd.Data, []float32{0.5, 0.25, 2})
	x := []float32{0.3, -1, 4, 2, 2, 2}
	want := h.Predict(x, 2)
	dir := t.TempDir()
	if err := SaveDir(dir, h, []string{"a", "b"}, nil); err != nil {
		t.Fatal(err)
	}
	h2, _, _, err := Load(filepath.Join(dir))
	if err != nil {
		t.Fatal(err)
	}
	got := h2.Predict(x, 2)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("prediction %d: %v after load, %v before", i, got[i], want[i])
		}
	}
	if _, err := New(Spec{Preset: "vgg-classifier", Standardize: true}, []int{512, 7, 7}, 2, 1, nil); err == nil {
		t.Error("vgg-classifier with standardize should be refused")
	}
}
