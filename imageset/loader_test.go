package imageset

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// realItems lists the darknet photos (Debian darknet) and the corpus,
// repeated, so batches mix good and bad files.
func realItems(t testing.TB) []Item {
	t.Helper()
	photos, _ := filepath.Glob("/usr/share/darknet/data/*.jpg")
	corpus, _ := filepath.Glob("testdata/bad/*/*")
	var items []Item
	for r := 0; r < 2; r++ {
		for i, p := range append(photos, corpus...) {
			items = append(items, Item{Path: p, Rel: filepath.Base(p), Label: i % 3})
		}
	}
	return items
}

func loadAll(t *testing.T, items []Item, pre Preprocess, opts LoadOptions) ([]byte, []string) {
	t.Helper()
	var buf bytes.Buffer
	var errs []string
	for b, err := range Load(context.Background(), items, pre, opts) {
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range b.Index {
			binary.Write(&buf, binary.LittleEndian, int32(i))
		}
		binary.Write(&buf, binary.LittleEndian, b.X.Data)
		for _, e := range b.Errors {
			errs = append(errs, e.Error())
		}
	}
	return buf.Bytes(), errs
}

func TestLoadDeterministic(t *testing.T) {
	items := realItems(t)
	pre := mustPreset(t, "torchvision").WithSize(128).WithCrop(112) // smaller for speed
	ref, refErrs := loadAll(t, items, pre, LoadOptions{Batch: 5, Workers: 1})
	if len(ref) == 0 {
		t.Fatal("nothing loaded")
	}
	for _, w := range []int{2, 8} {
		got, errs := loadAll(t, items, pre, LoadOptions{Batch: 5, Workers: w, Prefetch: 3})
		if !bytes.Equal(got, ref) {
			t.Errorf("workers=%d: batches differ from workers=1", w)
		}
		if len(errs) != len(refErrs) {
			t.Errorf("workers=%d: %d errors, workers=1 %d", w, len(errs), len(refErrs))
		}
		for i := range errs {
			if errs[i] != refErrs[i] {
				t.Errorf("workers=%d error %d: %q vs %q", w, i, errs[i], refErrs[i])
			}
		}
	}
	// And each good item equals Apply on its own.
	img, err := DecodeFile(items[0].Path, 0)
	if err != nil {
		t.Skip(err)
	}
	one := make([]float32, 3*112*112)
	if err := pre.Apply(img, one); err != nil {
		t.Fatal(err)
	}
	var first []float32
	for b, err := range Load(context.Background(), items[:1], pre, LoadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		first = b.X.Data
	}
	for i := range one {
		if math.Float32bits(one[i]) != math.Float32bits(first[i]) {
			t.Fatalf("Load and Apply differ at %d", i)
		}
	}
}

func TestLoadCancelAndProgress(t *testing.T) {
	items := realItems(t)
	pre := mustPreset(t, "unit").WithSize(64)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	var lastErr error
	n := 0
	for b, err := range Load(ctx, items, pre, LoadOptions{Batch: 2, Workers: 2,
		Progress: func(done, total int, rate float64, eta time.Duration) {
			calls++
			if done > total || total != len(items) || rate <= 0 || eta < 0 {
				t.Errorf("progress %d/%d rate %v eta %v", done, total, rate, eta)
			}
		}}) {
		if err != nil {
			lastErr = err
			break
		}
		n += len(b.Index) + len(b.Errors)
		if n >= 4 {
			cancel()
		}
	}
	if !errors.Is(lastErr, context.Canceled) {
		t.Errorf("after cancel: %v, want context.Canceled", lastErr)
	}
	if calls == 0 {
		t.Error("no progress calls")
	}
	// Breaking out early stops cleanly.
	for range Load(context.Background(), items, pre, LoadOptions{Batch: 1}) {
		break
	}
	// A preprocess without a fixed size is refused up front.
	p := mustPreset(t, "torchvision").WithCrop(0)
	for _, err := range Load(context.Background(), items, p, LoadOptions{}) {
		if !errors.Is(err, ErrPreprocess) {
			t.Errorf("no-crop preprocess: %v", err)
		}
	}
}

func TestPreprocessJSON(t *testing.T) {
	for _, name := range Presets() {
		p := mustPreset(t, name)
		q, err := ParsePreprocess(p.Key())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if q != p || q.Key() != p.Key() {
			t.Errorf("%s: round trip %+v != %+v", name, q, p)
		}
	}
	tv := mustPreset(t, "torchvision")
	// The canonical form is fixed: changing it changes every cache key.
	want := `{"name":"torchvision","version":2,"resize_short":256,"resize_h":0,"resize_w":0,"crop_h":224,"crop_w":224,"interpolation":"bilinear","antialias":true,"scale":0.00392156862745098,"mean":[0.485,0.456,0.406],"std":[0.229,0.224,0.225],"channel_order":"RGB","layout":"CHW"}`
	if tv.Key() != want {
		t.Errorf("canonical torchvision:\n%s\nwant\n%s", tv.Key(), want)
	}
	if s := tv.WithSize(342).WithCrop(299).OutShape(); s != [3]int{3, 299, 299} {
		t.Errorf("OutShape %v", s)
	}
	for _, bad := range []string{"nope", `{"name":"x"}`, `{"bogus":1}`, `{"name":"x","version":2,"crop_h":10,"crop_w":10,"interpolation":"lanczos","scale":1,"std":[1,1,1],"channel_order":"RGB","layout":"CHW"}`} {
		if _, err := ParsePreprocess(bad); !errors.Is(err, ErrPreprocess) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// TestCropPadding checks torchvision's CenterCrop padding on a small image:
// 40x30 with no resize and a 50x50 crop puts the image at (5, 10) and zeros
// around it (torchvision pads (crop-size)//2 before, the rest after).
func TestCropPadding(t *testing.T) {
	img, err := DecodeFile("testdata/bad/good/image.bmp", 0)
	if err != nil {
		t.Fatal(err)
	}
	p := mustPreset(t, "unit")
	p.ResizeH, p.ResizeW = 0, 0
	p = p.WithCrop(50)
	x := make([]float32, 3*50*50)
	if err := p.Apply(img, x); err != nil {
		t.Fatal(err)
	}
	rr := newRowReader(img)
	px := make([]uint8, 3)
	for y := 0; y < 50; y++ {
		for xx := 0; xx < 50; xx++ {
			iy, ix := y-10, xx-5
			for c := 0; c < 3; c++ {
				want := float32(0)
				if iy >= 0 && iy < 30 && ix >= 0 && ix < 40 {
					rr.row(iy, ix, ix+1, px)
					want = float32(float64(px[c]) / 255)
				}
				if got := x[c*2500+y*50+xx]; got != want {
					t.Fatalf("(%d,%d,%d) = %v, want %v", c, y, xx, got, want)
				}
			}
		}
	}
}

func TestEXIFOrientation(t *testing.T) {
	b, err := os.ReadFile("testdata/bad/good/exif6.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if o := jpegOrientation(b); o != 6 {
		t.Fatalf("orientation %d, want 6 (gen_corpus.py wrote 6)", o)
	}
	img, err := Decode(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r := img.Bounds(); r.Dx() != 30 || r.Dy() != 40 {
		t.Errorf("oriented size %v, want 30x40", r)
	}
	if o := jpegOrientation([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x02}); o != 0 {
		t.Errorf("empty APP1: %d", o)
	}
}
