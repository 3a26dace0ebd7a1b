package extract_test

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/extract"
	"github.com/preconv/preconv/imageset"
	"github.com/preconv/preconv/nn"
)

// flipViews returns, for each item, the backbone's features of the image
// (view 0) and of its horizontal flip (the true flip view: "flip=1" view 1).
func flipViews(t *testing.T, b *backbone.Backbone, items []imageset.Item) (v0, v1 [][]float32) {
	t.Helper()
	if err := imageset.Hash(ctx, items, 2); err != nil {
		t.Fatal(err)
	}
	a, err := imageset.ParseAugment("flip=1")
	if err != nil {
		t.Fatal(err)
	}
	var views []imageset.View
	for i, it := range items {
		views = append(views, imageset.View{Item: i, K: 0, Key: it.SHA256}, imageset.View{Item: i, K: 1, Key: imageset.ViewKey(it.SHA256, a, 1)})
	}
	e := &nn.Exec{Threads: 2}
	for bt, err := range imageset.LoadViews(ctx, items, views, b.Preprocess, a, imageset.LoadOptions{Batch: 2, Workers: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		if len(bt.Errors) > 0 {
			t.Fatal(bt.Errors[0])
		}
		y, err := b.Features(e, bt.X)
		if err != nil {
			t.Fatal(err)
		}
		d := len(y.Data) / len(bt.Index)
		for j, k := range bt.Index {
			f := append([]float32(nil), y.Data[j*d:(j+1)*d]...)
			if views[k].K == 0 {
				v0 = append(v0, f)
			} else {
				v1 = append(v1, f)
			}
		}
	}
	return v0, v1
}

func relErr(a, b []float32) float64 {
	var num, den float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		num += d * d
		den += float64(b[i]) * float64(b[i])
	}
	return math.Sqrt(num / max(den, 1e-30))
}

func avgPool(x []float32, shape []int) []float32 {
	out := make([]float32, shape[0])
	hw := shape[1] * shape[2]
	for c := range out {
		var s float64
		for _, v := range x[c*hw : (c+1)*hw] {
			s += float64(v)
		}
		out[c] = float32(s / float64(hw))
	}
	return out
}

// TestCheapFlipExact: where the "backbone" commutes with horizontal flips
// (the pixels pseudo-backbone: the preprocessed image itself, whose
// resampling filters are symmetric), the cheap flip of the stored features
// is the true flip view, up to one 8-bit rounding step of the resize.
func TestCheapFlipExact(t *testing.T) {
	root := folder(t, 3)
	b := open(t, "pixels", backbone.Options{})
	b.Preprocess = b.Preprocess.WithSize(8)
	ds, err := extract.LoadDataset(ctx, extract.Config{Data: root})
	if err != nil {
		t.Fatal(err)
	}
	var items []imageset.Item
	for _, it := range ds.Items {
		if filepath.Base(it.Path) != "bad.png" {
			items = append(items, it)
		}
	}
	shape, err := b.FeatureShape()
	if err != nil {
		t.Fatal(err)
	}
	v0, v1 := flipViews(t, b, items)
	for i := range v0 {
		cheap := make([]float32, len(v0[i]))
		extract.FlipFeatureMap(cheap, v0[i], shape)
		var maxd float64
		for j := range cheap {
			maxd = max(maxd, math.Abs(float64(cheap[j]-v1[i][j])))
		}
		if maxd > 1.0/255+1e-6 {
			t.Errorf("%s: cheap flip differs from the true flip view by %g (more than one 8-bit step)", items[i].Rel, maxd)
		}
	}
}

// TestCheapFlipRealBackbone measures how far the cheap flip (flip the stored
// [576,14,14] map of nsfwjs MobileNetV2 block_13_expand_relu) is from the
// true flip view (the backbone over the flipped photo) on the real darknet
// photos. MobileNetV2 is not flip-equivariant (learned asymmetric kernels,
// TF "same" padding that pads right/bottom only at stride 2), so the cheap
// flip is an approximation; it must be closer to the true flip view than
// the unflipped map is. After global average pooling, the cheap flip is
// exactly view 0: pooled features gain nothing from it.
func TestCheapFlipRealBackbone(t *testing.T) {
	photos, _ := filepath.Glob("/usr/share/darknet/data/*.jpg")
	if len(photos) == 0 {
		missingTool(t, "no real photos: Debian package darknet (/usr/share/darknet/data/*.jpg) not installed")
	}
	b, err := backbone.Open(ctx, "nsfwjs/mobilenet_v2", backbone.Options{Pool: "none"})
	if err != nil {
		if _, lerr := exec.LookPath("npm"); lerr != nil {
			missingTool(t, "npm not installed and nsfwjs not cached: "+err.Error())
		}
		t.Fatal(err)
	}
	if os.Getenv("PRECONV_HEAVY") != "1" && len(photos) > 4 {
		photos = photos[:4]
	}
	var items []imageset.Item
	for _, p := range photos {
		items = append(items, imageset.Item{Path: p, Rel: filepath.Base(p)})
	}
	shape, err := b.FeatureShape()
	if err != nil {
		t.Fatal(err)
	}
	if len(shape) != 3 {
		t.Fatalf("feature shape %v, want a spatial map", shape)
	}
	v0, v1 := flipViews(t, b, items)
	var sumCheap, sumNone, sumPooled float64
	for i := range v0 {
		cheap := make([]float32, len(v0[i]))
		extract.FlipFeatureMap(cheap, v0[i], shape)
		eCheap, eNone := relErr(cheap, v1[i]), relErr(v0[i], v1[i])
		pc, p1 := avgPool(cheap, shape), avgPool(v1[i], shape)
		ePooled := relErr(pc, p1)
		if d := relErr(pc, avgPool(v0[i], shape)); d > 1e-6 {
			t.Errorf("%s: pooled cheap flip differs from pooled view 0 by %g", items[i].Rel, d)
		}
		if eCheap >= eNone {
			t.Errorf("%s: cheap flip rel err %.3f is not below the unflipped map's %.3f", items[i].Rel, eCheap, eNone)
		}
		t.Logf("%-12s map rel err: cheap flip %.3f, no flip %.3f; pooled: cheap flip (= view 0) vs true flip view %.4f", items[i].Rel, eCheap, eNone, ePooled)
		sumCheap, sumNone, sumPooled = sumCheap+eCheap, sumNone+eNone, sumPooled+ePooled
	}
	n := float64(len(v0))
	t.Logf("mean over %d photos: spatial map rel err cheap flip %.3f vs no flip %.3f; pooled vectors: %.4f", len(v0), sumCheap/n, sumNone/n, sumPooled/n)
}
