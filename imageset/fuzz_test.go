package imageset

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzImageDecode: any bytes either fail with an error or decode to an image
// that preprocesses without panicking, within a 1M-pixel limit. Seeds: the
// corpus in testdata/bad (good and broken files).
func FuzzImageDecode(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/bad/*/*")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x10, 'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0, 0, 0, 8})
	pre, err := Named("torchvision")
	if err != nil {
		f.Fatal(err)
	}
	pre = pre.WithSize(20).WithCrop(16)
	dst := make([]float32, 3*16*16)
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := Decode(b, 1<<20)
		if err != nil {
			return
		}
		if r := img.Bounds(); r.Dx()*r.Dy() > 1<<20 {
			t.Fatalf("decoded %v above the limit", r)
		}
		if err := pre.Apply(img, dst); err != nil {
			t.Fatalf("Apply after a successful decode: %v", err)
		}
		jpegOrientation(b)
	})
}

// FuzzReadManifest: any manifest text parses or fails with an error, and
// parsed items have labels inside Classes.
func FuzzReadManifest(f *testing.F) {
	f.Add([]byte("path,label\na.jpg,dog\nb.jpg,cat\n"), true)
	f.Add([]byte("a.jpg,1\n\"b,c.jpg\",0,valid\n"), true)
	f.Add([]byte(`{"path":"a.jpg","label":3}`+"\n"), false)
	f.Add([]byte(`{"path":"a.jpg","label":"x","split":"train"}`), false)
	f.Fuzz(func(t *testing.T, b []byte, csv bool) {
		name := "m.jsonl"
		if csv {
			name = "m.csv"
		}
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		ds, err := ReadManifest(p, nil)
		if err != nil {
			return
		}
		for _, it := range ds.Items {
			if it.Label < 0 || it.Label >= len(ds.Classes) || ds.Classes[it.Label] != it.Class {
				t.Fatalf("item %+v outside classes %v", it, ds.Classes)
			}
		}
	})
}
