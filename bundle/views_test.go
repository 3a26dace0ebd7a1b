package bundle_test

import (
	"errors"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/bundle"
	"github.com/preconv/preconv/extract"
	"github.com/preconv/preconv/train"
)

// TestTrainWithViews: a store with augmented views trains one view per
// image per epoch, validates on view 0, evaluates on a plain store of the
// same backbone, and scores with TTA over the stored views.
func TestTrainWithViews(t *testing.T) {
	root, _ := folder(t, 8)
	dir := t.TempDir()
	b, err := backbone.Open(ctx, tfjsSmall, backbone.Options{Tap: "c_same_s2", Pool: "avg"})
	if err != nil {
		t.Fatal(err)
	}
	aug, plain := filepath.Join(dir, "aug"), filepath.Join(dir, "plain")
	for _, cfg := range []extract.Config{
		{Data: root, Out: aug, ValidFraction: 0.3, Workers: 1, Threads: 1, Augment: "flip,crop=0.5", Views: 3},
		{Data: root, Out: plain, ValidFraction: 0.3, Workers: 1, Threads: 1},
	} {
		ds, err := extract.LoadDataset(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := extract.Run(ctx, cfg, b, ds); err != nil {
			t.Fatal(err)
		}
	}
	run := filepath.Join(dir, "run")
	m, err := bundle.Train(ctx, bundle.TrainOptions{Store: aug, Out: run, ViewPolicy: train.ViewRoundRobin,
		Config: train.Config{Epochs: 3, BatchSize: 4, Seed: 1, Threads: 1, LR: 0.05}})
	if err != nil {
		t.Fatal(err)
	}
	tr, va, err := bundle.Splits(plain, "")
	if err != nil {
		t.Fatal(err)
	}
	if m.Valid == nil || m.Valid.Items != va.Len() {
		t.Fatalf("validation scored %v items, want the %d view-0 images", m.Valid, va.Len())
	}
	if len(m.History) != 3 {
		t.Errorf("%d epochs", len(m.History))
	}
	// The run evaluates a plain store of the same backbone (the augmentation
	// is not part of the features' identity) and gets the same score as on
	// its own view-0 rows.
	_, onPlain, err := bundle.Evaluate(ctx, run, plain, "valid", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, onAug, err := bundle.Evaluate(ctx, run, aug, "valid", nil)
	if err != nil {
		t.Fatal(err)
	}
	if onPlain.Accuracy != onAug.Accuracy || onPlain.Items != onAug.Items || math.Abs(onPlain.Loss-onAug.Loss) > 1e-9 {
		t.Errorf("plain %+v vs augmented view 0 %+v", onPlain, onAug)
	}
	_, all, err := bundle.Evaluate(ctx, run, aug, "train", nil)
	if err != nil || all.Items != tr.Len() {
		t.Fatalf("train split: %v items (want %d images, view 0), %v", all, tr.Len(), err)
	}
	_, tta, err := bundle.EvaluateTTAMode(ctx, run, aug, "train", bundle.TTAViews, nil)
	if err != nil || tta.Items != tr.Len() {
		t.Fatalf("TTA views: %+v %v", tta, err)
	}
	t.Logf("train split: view 0 acc %.3f, TTA over 3 views %.3f", all.Accuracy, tta.Accuracy)
	// Pooled features cannot be flipped.
	if _, _, err := bundle.EvaluateTTAMode(ctx, run, aug, "valid", bundle.TTAFlip, nil); !errors.Is(err, bundle.ErrSpecMismatch) {
		t.Errorf("flip TTA on pooled features: %v", err)
	}
	if _, err := bundle.Train(ctx, bundle.TrainOptions{Store: aug, Out: filepath.Join(dir, "bad"), ViewPolicy: "sometimes",
		Config: train.Config{Epochs: 1}}); !errors.Is(err, train.ErrConfig) {
		t.Errorf("bad policy: %v", err)
	}
}

// TestPredictFlipTTA: predict --tta flip gives the mean of the
// probabilities of the image and of a flipped copy of the file.
func TestPredictFlipTTA(t *testing.T) {
	f := trained(t, tfjsSmall, backbone.Options{Tap: "c_same_s2", Pool: "avg"}, "f32", 0)
	p, err := bundle.NewPredictor(ctx, f.run, tfjsSmall, backbone.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.Threads = 1
	src := f.paths[0]
	fl, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(fl)
	fl.Close()
	if err != nil {
		t.Fatal(err)
	}
	bd := img.Bounds()
	flipped := image.NewNRGBA(bd)
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			flipped.Set(bd.Max.X-1-(x-bd.Min.X), y, img.At(x, y))
		}
	}
	fp := filepath.Join(t.TempDir(), "flipped.png")
	out, _ := os.Create(fp)
	png.Encode(out, flipped)
	out.Close()
	plain, err := p.Predict(ctx, []string{src, fp}, 0)
	if err != nil {
		t.Fatal(err)
	}
	p.TTA = bundle.TTAFlip
	tta, err := p.Predict(ctx, []string{src}, 0)
	if err != nil {
		t.Fatal(err)
	}
	prob := func(pr bundle.Prediction, class string) float64 {
		for _, c := range pr.Top {
			if c.Class == class {
				return c.Prob
			}
		}
		t.Fatalf("%s missing", class)
		return 0
	}
	for _, c := range p.Classes {
		// The preprocessing resizes after the flip in one case and before
		// it in the other; PIL's symmetric filters make both the same up to
		// float rounding.
		want := (prob(plain[0], c) + prob(plain[1], c)) / 2
		if d := math.Abs(prob(tta[0], c) - want); d > 1e-5 {
			t.Errorf("%s: TTA %.7f, mean of image and flipped file %.7f", c, prob(tta[0], c), want)
		}
	}
}
