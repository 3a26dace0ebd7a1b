package train

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/preconv/preconv/head"
	"github.com/preconv/preconv/safetensors"
)

func heavy(t *testing.T) {
	t.Helper()
	if os.Getenv("PRECONV_HEAVY") != "1" {
		t.Skip("heavy test: set PRECONV_HEAVY=1")
	}
}

// TestVGGClassifierTorch loads torchvision's VGG16 classifier weights into
// the vgg-classifier preset and checks eval logits and 5 SGD steps of the
// last layer against PyTorch (testdata/gen_vgg_classifier.py, run here).
func TestVGGClassifierTorch(t *testing.T) {
	heavy(t)
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("needs /usr/bin/python3 with Debian python3-torch, python3-torchvision")
	}
	dir := t.TempDir()
	cmd := exec.Command("/usr/bin/python3", "testdata/gen_vgg_classifier.py", dir)
	cmd.Env = append(os.Environ(), "OPENBLAS_CORETYPE=SkylakeX")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("reference script failed (torch missing?): %v\n%s", err, out)
	}
	f, err := safetensors.ReadFile(filepath.Join(dir, "classifier.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		X      []float32
		Y      []int
		Logits []float32
		Losses []float64
	}
	b, _ := os.ReadFile(filepath.Join(dir, "expect.json"))
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	h, err := head.New(head.Spec{Preset: "vgg-classifier", Dropout: -1}, []int{512, 7, 7}, 2, 0, f.Tensors())
	if err != nil {
		t.Fatal(err)
	}
	h.Threads = 2
	last := h.Layers[6].(*head.Linear)
	w6, _ := f.Tensor("classifier.6.weight")
	b6, _ := f.Tensor("classifier.6.bias")
	copy(last.Weight.Data, w6.Data)
	copy(last.Bias.Data, b6.Data)
	if n := len(h.Trainable()); n != 2 {
		t.Fatalf("%d trainable params, want 2 (layer 6 only)", n)
	}
	got := h.Forward(&head.Exec{}, want.X, 8)
	for i := range want.Logits {
		if d := math.Abs(float64(got[i] - want.Logits[i])); d > 1e-4 {
			t.Errorf("logit %d: %v, torch %v", i, got[i], want.Logits[i])
		}
	}
	s := &stepper{h: h, opt: &SGD{Params: h.Trainable(), Momentum: 0.9}}
	for i, wl := range want.Losses {
		l, _ := s.step(&head.Exec{Threads: 2, Step: int64(i)}, want.X, want.Y, 0.01, 0)
		if math.Abs(l-wl) > 1e-4 {
			t.Errorf("step %d: loss %.6f, torch %.6f", i, l, wl)
		}
	}
}

// TestFoldAccuracyHeavy trains the vgg-classifier preset (random
// torch-style init) on a separable synthetic 25088-d task unfolded (dropout
// acting) and folded, and logs accuracy and epoch times of both.
func TestFoldAccuracyHeavy(t *testing.T) {
	heavy(t)
	// Centre distance ≈ √(2·25088)·0.1 ≈ 22σ before the ReLU, but the random frozen projections blur it.
	all := blobsScaled(768, 25088, 2, 11, 0.1)
	for i := range all.X {
		all.X[i] = max(all.X[i], 0) // ReLU-sparse, like pooled conv features
	}
	d := 25088
	tr := &MemDataset{X: all.X[:512*d], Shape: []int{512, 7, 7}, Labels: all.Labels[:512], ClassNames: all.ClassNames}
	va := &MemDataset{X: all.X[512*d:], Shape: []int{512, 7, 7}, Labels: all.Labels[512:], ClassNames: all.ClassNames}
	for _, fold := range []bool{false, true} {
		t0 := time.Now()
		res, err := Run(context.Background(), Config{Head: head.Spec{Preset: "vgg-classifier"}, Epochs: 6, Seed: 1, Threads: 2, Fold: fold}, tr, va)
		if err != nil {
			t.Fatal(err)
		}
		last := res.History[len(res.History)-1]
		t.Logf("fold=%v: valid acc %.4f, epoch %.2fs (%.0f items/s), fold %.2fs, total %.1fs", fold, last.ValidAcc, 512/last.ItemsPerSec, last.ItemsPerSec, res.FoldSeconds, time.Since(t0).Seconds())
		if last.ValidAcc < 0.6 {
			t.Errorf("fold=%v: valid acc %.3f, want >= 0.6", fold, last.ValidAcc)
		}
	}
}
