package plan_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/imageset"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/plan"
	"github.com/preconv/preconv/tensor"
)

// tfjsSmall is the small TF.js LayersModel of model/tfjs (gen_small.js);
// its layer "sep" is a SeparableConv2D with ReLU activation.
const tfjsSmall = "../model/tfjs/testdata/small"

var ctx = context.Background()

func images(t *testing.T, n int) []imageset.Item {
	t.Helper()
	dir := t.TempDir()
	var items []imageset.Item
	for i := 0; i < n; i++ {
		img := image.NewNRGBA(image.Rect(0, 0, 13, 12))
		for y := 0; y < 12; y++ {
			for x := 0; x < 13; x++ {
				img.Set(x, y, color.NRGBA{uint8(x*19 + i*7), uint8(y*23 + i), uint8((x + y) * 11), 255})
			}
		}
		p := filepath.Join(dir, fmt.Sprintf("%02d.png", i))
		fh, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		png.Encode(fh, img)
		fh.Close()
		items = append(items, imageset.Item{Path: p, Rel: filepath.Base(p)})
	}
	return items
}

func TestMake(t *testing.T) {
	b, err := backbone.Open(ctx, tfjsSmall, backbone.Options{})
	if err != nil {
		t.Fatal(err)
	}
	items := images(t, 5)
	const total = 1000 // pretend the dataset is larger than the sample: only len(items) matters
	all := make([]imageset.Item, total)
	for i := range all {
		all[i] = items[i*len(items)/total] // blocks, so the evenly spread sample sees 4 distinct images
	}
	o := plan.Options{Taps: []string{"sep", "out"}, Pools: []string{"", "avg", "max"}, DTypes: []string{"f32", "f16"}, Sample: 4, Threads: 1}
	p, err := plan.Make(ctx, b, all, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Candidates) != 2*3*2 || p.Items != total || p.Sample != 4 || p.Model != "small" {
		t.Fatalf("plan %+v", p)
	}
	ratio := map[string]float64{}
	for _, c := range p.Candidates {
		cb, err := b.WithTap(c.Tap, c.Pool)
		if err != nil {
			t.Fatal(err)
		}
		want, err := cb.FeatureShape()
		if err != nil {
			t.Fatal(err)
		}
		if !tensor.SameShape(c.FeatureShape, want) {
			t.Errorf("%s/%s: shape %v, FeatureShape %v", c.Tap, c.Pool, c.FeatureShape, want)
		}
		elems := int64(tensor.Numel(want))
		if c.RawBytes != total*elems*4 {
			t.Errorf("%s/%s/%s: raw %d, want %d", c.Tap, c.Pool, c.DType, c.RawBytes, total*elems*4)
		}
		if c.Ratio <= 0 || math.Abs(float64(c.StoreBytes)-float64(c.RawBytes)/c.Ratio) > 1 {
			t.Errorf("%s/%s/%s: store %d, raw/ratio %.1f", c.Tap, c.Pool, c.DType, c.StoreBytes, float64(c.RawBytes)/c.Ratio)
		}
		if c.SecPerImage < 0 || math.Abs(c.ExtractSec-c.SecPerImage*total) > 1e-9*max(1, c.ExtractSec) {
			t.Errorf("times %v %v", c.SecPerImage, c.ExtractSec)
		}
		ratio[c.Tap+"/"+c.Pool+"/"+c.DType] = c.Ratio
	}
	// "sep" ends in a ReLU: f16 halves the bytes before zstd.
	if ratio["sep//f16"] <= ratio["sep//f32"] {
		t.Errorf("f16 ratio %.2f not above f32 %.2f on ReLU features", ratio["sep//f16"], ratio["sep//f32"])
	}
	if ratio["sep//f16"] < 1.5 {
		t.Errorf("f16 ratio %.2f: f16 alone should give about 2", ratio["sep//f16"])
	}
	// Check the sample really is ReLU-sparse (otherwise the test proves less).
	cb, _ := b.WithTap("sep", "")
	var x *tensor.Tensor
	for bt, err := range imageset.Load(ctx, items[:4], b.Preprocess, imageset.LoadOptions{Batch: 4, Workers: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		x = bt.X
	}
	y, err := cb.Features(&nn.Exec{Threads: 1}, x)
	if err != nil {
		t.Fatal(err)
	}
	zeros := 0
	for _, v := range y.Data {
		if v == 0 {
			zeros++
		}
	}
	if zeros == 0 {
		t.Errorf("tap sep has no exact zeros: not a ReLU output")
	}
	t.Logf("sep: %.0f%% zeros, ratio f32 %.2f f16 %.2f", 100*float64(zeros)/float64(len(y.Data)), ratio["sep//f32"], ratio["sep//f16"])
}

func TestDefaultsAndErrors(t *testing.T) {
	b, err := backbone.Open(ctx, tfjsSmall, backbone.Options{Tap: "sep"})
	if err != nil {
		t.Fatal(err)
	}
	items := images(t, 3)
	p, err := plan.Make(ctx, b, items, plan.Options{Sample: 50})
	if err != nil {
		t.Fatal(err)
	}
	// Defaults: taps {sep, out} × pools {"", avg} × dtypes {f32, f16}; sample clamped to 3.
	if len(p.Candidates) != 8 || p.Sample != 3 {
		t.Errorf("defaults: %d candidates, sample %d", len(p.Candidates), p.Sample)
	}
	if _, err := plan.Make(ctx, b, nil, plan.Options{}); err == nil {
		t.Error("no images accepted")
	}
	bad := filepath.Join(t.TempDir(), "x.png")
	os.WriteFile(bad, []byte("nope"), 0o644)
	if _, err := plan.Make(ctx, b, []imageset.Item{{Path: bad, Rel: "x.png"}}, plan.Options{}); err == nil {
		t.Error("unreadable sample accepted")
	}
	if _, err := plan.Make(ctx, b, items, plan.Options{Taps: []string{"nope"}}); err == nil {
		t.Error("unknown tap accepted")
	}
}
