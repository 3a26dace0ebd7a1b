package imageset

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// corpusRef is written by testdata/gen_corpus.py (PIL 9.4 convert("RGB")).
type corpusRef struct {
	Images map[string]struct {
		Width  int     `json:"width"`
		Height int     `json:"height"`
		RGB    []uint8 `json:"rgb"`
	} `json:"images"`
}

func TestCorpusGoodDecode(t *testing.T) {
	b, err := os.ReadFile("testdata/corpus_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref corpusRef
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	// Allowed max difference in 8-bit levels: CMYK JPEGs are decoded by
	// image/jpeg, whose IDCT differs from libjpeg's, and go through two
	// lossy conversions; everything else (baseline, progressive, gray and
	// EXIF-rotated JPEGs through jpegdec included) is exact.
	tol := map[string]int{"cmyk.jpg": 4}
	names := make([]string, 0, len(ref.Images))
	for n := range ref.Images {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		want := ref.Images[name]
		img, err := DecodeFile(filepath.Join("testdata/bad/good", name), 0)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		bd := img.Bounds()
		if bd.Dx() != want.Width || bd.Dy() != want.Height {
			t.Errorf("%s: %dx%d, PIL %dx%d", name, bd.Dx(), bd.Dy(), want.Width, want.Height)
			continue
		}
		rr := newRowReader(img)
		row := make([]uint8, 3*want.Width)
		worst, sum := 0, 0
		for y := 0; y < want.Height; y++ {
			rr.row(y, 0, want.Width, row)
			for i, v := range row {
				d := int(v) - int(want.RGB[y*3*want.Width+i])
				d = max(d, -d)
				worst = max(worst, d)
				sum += d
			}
		}
		t.Logf("%-16s %T: max |d| %d levels, mean %.3f", name, img, worst, float64(sum)/float64(len(want.RGB)))
		if worst > tol[name] {
			t.Errorf("%s: max difference to PIL %d levels, want <= %d", name, worst, tol[name])
		}
	}
}

func TestCorpusBroken(t *testing.T) {
	wantErr := map[string]error{
		"zero.jpg":       ErrEmpty,
		"truncated.jpg":  ErrCorrupt,
		"truncated.png":  ErrCorrupt,
		"text.jpg":       ErrFormat,
		"bomb.png":       ErrTooLarge,
		"dir.jpg":        ErrNotFile,
		"unreadable.jpg": os.ErrNotExist,
	}
	for name, want := range wantErr {
		p := filepath.Join("testdata/bad/broken", name)
		_, err := DecodeFile(p, 0)
		if !errors.Is(err, want) {
			t.Errorf("%s: err %v, want %v", name, err, want)
			continue
		}
		t.Logf("%s", err)
	}
	// The bomb is refused from its header whatever the limit, and a limit
	// below a good image's size refuses it too.
	if _, err := DecodeFile("testdata/bad/good/image.bmp", 40*30-1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("limit 1199 pixels on 40x30: %v, want ErrTooLarge", err)
	}
	if _, err := DecodeFile("testdata/bad/good/image.bmp", 40*30); err != nil {
		t.Errorf("limit 1200 pixels on 40x30: %v", err)
	}
}

// TestChmodUnreadable covers a permission failure where it can happen: as
// root, chmod 000 does not stop reads, so the sub-case is skipped there (the
// committed broken symlink testdata/bad/broken/unreadable.jpg covers an
// unreadable path in every environment).
func TestChmodUnreadable(t *testing.T) {
	p := filepath.Join(t.TempDir(), "noperm.png")
	if err := os.WriteFile(p, []byte("\x89PNG\r\n\x1a\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	if f, err := os.Open(p); err == nil {
		f.Close()
		t.Skip("running as root (or with CAP_DAC_OVERRIDE): chmod 000 files stay readable")
	}
	if _, err := DecodeFile(p, 0); !errors.Is(err, os.ErrPermission) {
		t.Fatalf("err %v, want permission error", err)
	}
}

func TestCorpusLoad(t *testing.T) {
	ds, err := Scan("testdata/bad", ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ds.Classes; len(got) != 2 || got[0] != "broken" || got[1] != "good" {
		t.Fatalf("classes %v", got)
	}
	// dir.jpg is a directory: Scan walks it instead of listing it; feed it
	// to the loader explicitly as a manifest would.
	items := append(ds.Items, Item{Path: "testdata/bad/broken/dir.jpg", Rel: "broken/dir.jpg", Class: "broken"})
	pre := mustPreset(t, "torchvision")
	var good, bad []string
	for b, err := range Load(context.Background(), items, pre, LoadOptions{Batch: 4, Workers: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		if b.X.Shape[0] != len(b.Index) {
			t.Fatalf("X %v for %d items", b.X.Shape, len(b.Index))
		}
		for _, i := range b.Index {
			good = append(good, items[i].Rel)
		}
		for _, e := range b.Errors {
			if e.Path == "" || e.Err == nil {
				t.Errorf("bad ItemError %#v", e)
			}
			bad = append(bad, filepath.Base(e.Path))
			t.Logf("report: %v", e)
		}
	}
	sort.Strings(bad)
	wantBad := []string{"bomb.png", "dir.jpg", "text.jpg", "truncated.jpg", "truncated.png", "unreadable.jpg", "zero.jpg"}
	if len(bad) != len(wantBad) {
		t.Fatalf("errors for %v, want %v", bad, wantBad)
	}
	for i := range bad {
		if bad[i] != wantBad[i] {
			t.Fatalf("errors for %v, want %v", bad, wantBad)
		}
	}
	// .gif is not in torchvision's IMG_EXTENSIONS: anim.gif is not listed.
	if len(good) != 11 {
		t.Errorf("%d good items %v, want the 11 non-GIF files in bad/good", len(good), good)
	}
}
