package bundle_test

import (
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/bundle"
	"github.com/preconv/preconv/extract"
	"github.com/preconv/preconv/head"
	"github.com/preconv/preconv/store"
	"github.com/preconv/preconv/train"
)

// tfjsSmall is the small TF.js LayersModel of model/tfjs (gen_small.js).
const tfjsSmall = "../model/tfjs/testdata/small"

var ctx = context.Background()

func writePNG(t *testing.T, path string, class, n, w, h int) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := uint8((x*17 + y*31 + n*53) % 256)
			img.Set(x, y, color.NRGBA{v, uint8(40 + 150*class), uint8(200 - 150*class), 255})
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// folder writes root/{cat,dog}/img*.png, perClass each, and returns root
// and the image paths.
func folder(t *testing.T, perClass int) (string, []string) {
	root := filepath.Join(t.TempDir(), "data")
	var paths []string
	for c, name := range []string{"cat", "dog"} {
		for i := 0; i < perClass; i++ {
			p := filepath.Join(root, name, "img"+string(rune('a'+i))+".png")
			writePNG(t, p, c, i, 16, 14)
			paths = append(paths, p)
		}
	}
	return root, paths
}

type fixture struct {
	root, store, run string
	paths            []string
	model            string // backbone ref
	meta             *bundle.Meta
}

// trained extracts a 2-class folder with backbone ref (tap/pool) and
// trains a linear head on it with a valid split.
func trained(t *testing.T, ref string, o backbone.Options, dtype string, size int) *fixture {
	t.Helper()
	f := &fixture{model: ref}
	f.root, f.paths = folder(t, 8)
	dir := t.TempDir()
	f.store, f.run = filepath.Join(dir, "store"), filepath.Join(dir, "run")
	b, err := backbone.Open(ctx, ref, o)
	if err != nil {
		t.Fatal(err)
	}
	cfg := extract.Config{Data: f.root, Out: f.store, ValidFraction: 0.3, DType: dtype, Size: size, Workers: 1, Threads: 1}
	ds, err := extract.LoadDataset(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := extract.Run(ctx, cfg, b, ds); err != nil {
		t.Fatal(err)
	}
	f.meta, err = bundle.Train(ctx, bundle.TrainOptions{Store: f.store, Out: f.run,
		Config: train.Config{Epochs: 3, BatchSize: 4, Seed: 1, Threads: 1, LR: 0.05}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestTrainEvaluate(t *testing.T) {
	f := trained(t, "pixels", backbone.Options{}, "f32", 4)
	m := f.meta
	s, err := store.Open(f.store)
	if err != nil {
		t.Fatal(err)
	}
	if m.SpecDigest != s.Spec().Digest() || m.Spec.Model != "pixels" || m.Store != f.store ||
		strings.Join(m.Classes, ",") != "cat,dog" || len(m.History) != 3 || m.Valid == nil || m.Format != 1 {
		t.Fatalf("meta %+v", m)
	}
	nv := s.Split("valid").Len()
	if nv == 0 || m.Valid.Items != nv {
		t.Errorf("valid items %d, store valid split %d", m.Valid.Items, nv)
	}
	for _, p := range []string{bundle.MetaFile, head.CheckpointFile, filepath.Join(bundle.ReportDir, "index.html")} {
		if st, err := os.Stat(filepath.Join(f.run, p)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
	back, err := bundle.Read(f.run)
	if err != nil {
		t.Fatal(err)
	}
	if back.SpecDigest != m.SpecDigest || back.Valid.Accuracy != m.Valid.Accuracy || len(back.History) != 3 {
		t.Errorf("run.json round trip: %+v", back)
	}

	_, met, err := bundle.Evaluate(ctx, f.run, f.store, "valid", nil)
	if err != nil {
		t.Fatal(err)
	}
	if met.Accuracy != m.Valid.Accuracy || met.Items != m.Valid.Items {
		t.Errorf("Evaluate valid accuracy %v (%d items), Train recorded %v (%d)", met.Accuracy, met.Items, m.Valid.Accuracy, m.Valid.Items)
	}
	if math.Abs(met.Loss-m.Valid.Loss) > 1e-6 {
		t.Errorf("loss %v vs %v", met.Loss, m.Valid.Loss)
	}
	_, all, err := bundle.Evaluate(ctx, f.run, f.store, "", nil)
	if err != nil || all.Items != s.Len() {
		t.Errorf("all items: %+v %v", all, err)
	}
	if _, _, err := bundle.Evaluate(ctx, f.run, f.store, "nosuchsplit", nil); err == nil {
		t.Error("empty split accepted")
	}

	// A store of another spec (another size) is refused.
	other := filepath.Join(t.TempDir(), "other")
	b, _ := backbone.Open(ctx, "pixels", backbone.Options{})
	cfg := extract.Config{Data: f.root, Out: other, Size: 5, Workers: 1, Threads: 1}
	ds, err := extract.LoadDataset(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := extract.Run(ctx, cfg, b, ds); err != nil {
		t.Fatal(err)
	}
	if _, _, err := bundle.Evaluate(ctx, f.run, other, "", nil); !errors.Is(err, bundle.ErrSpecMismatch) {
		t.Errorf("other spec: %v, want ErrSpecMismatch", err)
	}
	// Training with a validation store of another spec is refused too.
	if _, err := bundle.Train(ctx, bundle.TrainOptions{Store: f.store, ValidStore: other, Out: t.TempDir(),
		Config: train.Config{Epochs: 1}}); err == nil {
		t.Error("train with mismatched valid store accepted")
	}
	if _, err := bundle.Read(t.TempDir()); !errors.Is(err, bundle.ErrNotRun) {
		t.Errorf("Read(empty dir): %v", err)
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, bundle.MetaFile), []byte("{"), 0o644)
	if _, err := bundle.Read(bad); !errors.Is(err, bundle.ErrNotRun) || !strings.Contains(err.Error(), "run.json") {
		t.Errorf("Read(bad json): %v", err)
	}
}

// storedProbs returns head.Predict on the stored features of every readable
// store item, keyed by the image's path relative to the dataset root.
func storedProbs(t *testing.T, f *fixture) map[string][]float32 {
	t.Helper()
	s, err := store.Open(f.store)
	if err != nil {
		t.Fatal(err)
	}
	h, _, _, err := head.Load(f.run)
	if err != nil {
		t.Fatal(err)
	}
	d := 1
	for _, v := range s.FeatureShape() {
		d *= v
	}
	out := map[string][]float32{}
	for i := 0; i < s.Len(); i++ {
		x := make([]float32, d)
		if err := s.Read([]int{i}, x); err != nil {
			t.Fatal(err)
		}
		out[s.Record(i).Path] = h.Predict(x, 1)
	}
	return out
}

func checkPredict(t *testing.T, f *fixture, modelRef string) {
	t.Helper()
	p, err := bundle.NewPredictor(ctx, f.run, modelRef, backbone.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.Threads = 1
	bad := filepath.Join(t.TempDir(), "broken.png")
	os.WriteFile(bad, []byte("\x89PNG broken"), 0o644)
	paths := append([]string{bad}, f.paths...)
	preds, err := p.Predict(ctx, paths, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(preds) != len(paths) {
		t.Fatalf("%d predictions for %d paths", len(preds), len(paths))
	}
	if preds[0].Error == "" || preds[0].Top != nil {
		t.Errorf("broken image: %+v", preds[0])
	}
	want := storedProbs(t, f)
	classIdx := map[string]int{}
	for i, c := range p.Classes {
		classIdx[c] = i
	}
	tol := 1e-6
	for _, pr := range preds[1:] {
		if pr.Error != "" || len(pr.Top) != 2 {
			t.Errorf("%s: %+v", pr.Path, pr)
			continue
		}
		sum := pr.Top[0].Prob + pr.Top[1].Prob
		if math.Abs(sum-1) > 1e-5 || pr.Top[0].Prob < pr.Top[1].Prob {
			t.Errorf("%s: probs %+v (sum %v)", pr.Path, pr.Top, sum)
		}
		rel, _ := filepath.Rel(f.root, pr.Path)
		w, ok := want[filepath.ToSlash(rel)]
		if !ok {
			t.Fatalf("%s not in the store", rel)
		}
		for _, cp := range pr.Top {
			if d := math.Abs(cp.Prob - float64(w[classIdx[cp.Class]])); d > tol {
				t.Errorf("%s: predict says %s %.8f, head on stored features %.8f", rel, cp.Class, cp.Prob, w[classIdx[cp.Class]])
			}
		}
	}
	top1, err := p.Predict(ctx, f.paths[:2], 1)
	if err != nil || len(top1[0].Top) != 1 {
		t.Errorf("topK 1: %+v %v", top1, err)
	}
}

// TestPredictMatchesStore checks that predict (backbone + head on a new
// image) agrees with extract + head on the stored features.
func TestPredictMatchesStore(t *testing.T) {
	t.Run("pixels-f32", func(t *testing.T) {
		checkPredict(t, trained(t, "pixels", backbone.Options{}, "f32", 4), "")
	})
	t.Run("pixels-f16", func(t *testing.T) {
		checkPredict(t, trained(t, "pixels", backbone.Options{}, "f16", 4), "")
	})
	t.Run("tfjs", func(t *testing.T) {
		f := trained(t, tfjsSmall, backbone.Options{Tap: "cat", Pool: "avg"}, "f32", 0)
		if f.meta.Spec.Tap != "cat" || f.meta.Spec.Pool != "avg" {
			t.Errorf("spec %+v", f.meta.Spec)
		}
		checkPredict(t, f, tfjsSmall)
	})
}

func TestPredictorWrongWeights(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "small")
	os.MkdirAll(dir, 0o755)
	for _, n := range []string{"model.json", "weights.bin"} {
		b, err := os.ReadFile(filepath.Join(tfjsSmall, n))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, n), b, 0o644)
	}
	f := trained(t, dir, backbone.Options{Tap: "c_same_s2", Pool: "max"}, "f32", 0)
	if _, err := bundle.NewPredictor(ctx, f.run, dir, backbone.Options{}); err != nil {
		t.Fatalf("same weights: %v", err)
	}
	w := filepath.Join(dir, "weights.bin")
	raw, _ := os.ReadFile(w)
	raw[0] ^= 1
	os.WriteFile(w, raw, 0o644)
	_, err := bundle.NewPredictor(ctx, f.run, dir, backbone.Options{})
	if !errors.Is(err, bundle.ErrSpecMismatch) || !strings.Contains(err.Error(), "sha256") {
		t.Errorf("changed weights: %v, want ErrSpecMismatch naming the digest", err)
	}
	// Another backbone entirely.
	if _, err := bundle.NewPredictor(ctx, f.run, "pixels", backbone.Options{}); err == nil {
		t.Error("pixels accepted for a run trained on TF.js features")
	}
	if _, err := bundle.NewPredictor(ctx, t.TempDir(), "", backbone.Options{}); !errors.Is(err, bundle.ErrNotRun) {
		t.Errorf("not a run: %v", err)
	}
}

// FuzzRead: any run.json bytes: Read returns a Meta or an error wrapping
// ErrNotRun (for malformed JSON), never panics.
func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"format":1,"spec":{"model":"pixels"},"classes":["a","b"]}`))
	f.Add([]byte(`{`))
	f.Add([]byte(`{"history":[{"epoch":1}],"valid":{"items":3}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, bundle.MetaFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := bundle.Read(dir)
		if err != nil && !errors.Is(err, bundle.ErrNotRun) {
			t.Errorf("error %v does not wrap ErrNotRun", err)
		}
		if err == nil && m == nil {
			t.Error("nil Meta without error")
		}
	})
}

// TestPredictRealJPEGs repeats the predict == extract check on the real
// photos Debian's darknet package ships (JPEG decoding, large images,
// resizing), when they are installed.
func TestPredictRealJPEGs(t *testing.T) {
	jpgs, _ := filepath.Glob("/usr/share/darknet/data/*.jpg")
	if len(jpgs) < 4 {
		t.Skip("needs /usr/share/darknet/data/*.jpg (apt-get install darknet)")
	}
	f := &fixture{model: "pixels"}
	f.root = filepath.Join(t.TempDir(), "data")
	for i, src := range jpgs {
		cls := []string{"a", "b"}[i%2]
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(f.root, cls, filepath.Base(src))
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
		f.paths = append(f.paths, dst)
	}
	dir := t.TempDir()
	f.store, f.run = filepath.Join(dir, "store"), filepath.Join(dir, "run")
	b, err := backbone.Open(ctx, "pixels", backbone.Options{Pool: "avg"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := extract.Config{Data: f.root, Out: f.store, Size: 32, Workers: 2, Threads: 1}
	ds, err := extract.LoadDataset(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := extract.Run(ctx, cfg, b, ds); err != nil || r.Computed != len(jpgs) {
		t.Fatalf("extract: %+v %v", r, err)
	}
	if f.meta, err = bundle.Train(ctx, bundle.TrainOptions{Store: f.store, Out: f.run,
		Config: train.Config{Epochs: 2, BatchSize: 2, Seed: 1, Threads: 1}}); err != nil {
		t.Fatal(err)
	}
	checkPredict(t, f, "")
}
