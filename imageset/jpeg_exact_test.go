package imageset

import (
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/preconv/preconv/imageset/internal/jpegdec"
)

// TestJPEGFixturesExact decodes jpegdec's fixtures (every sampling layout,
// grayscale, restart intervals, 16-bit tables, optimized Huffman tables,
// odd sizes; written by internal/jpegdec/testdata/gen_fixtures.py with
// libjpeg-turbo's cjpeg) through DecodeFile and the row readers and
// compares every pixel with PIL's decode of the same file (the .png next
// to it): the ones jpegdec handles must match exactly; the variants it
// declines (progressive, RGB) go to image/jpeg and must still decode,
// within a few levels; arithmetic coding, which image/jpeg lacks too, is a
// per-file format error.
func TestJPEGFixturesExact(t *testing.T) {
	files, err := filepath.Glob("internal/jpegdec/testdata/*.jpg")
	if err != nil || len(files) < 15 {
		t.Fatalf("fixtures missing: %v %v", files, err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".jpg")
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, ferr := jpegdec.Decode(b, 0)
		declined := errors.Is(ferr, jpegdec.ErrUnsupported)
		if ferr != nil && !declined {
			t.Errorf("%s: jpegdec: %v", name, ferr)
			continue
		}
		img, err := DecodeFile(f, 0)
		if name == "arithmetic" {
			// Neither jpegdec nor image/jpeg decodes arithmetic coding
			// (rare in datasets): a per-file format error, not a crash.
			if !errors.Is(err, ErrFormat) {
				t.Errorf("%s: error %v, want ErrFormat", name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		pf, err := os.Open(strings.TrimSuffix(f, ".jpg") + ".png")
		if err != nil {
			t.Fatal(err)
		}
		ref, err := png.Decode(pf)
		pf.Close()
		if err != nil {
			t.Fatal(err)
		}
		rb := ref.Bounds()
		if img.Bounds().Size() != rb.Size() {
			t.Errorf("%s: size %v, PIL %v", name, img.Bounds().Size(), rb.Size())
			continue
		}
		rr := newRowReader(img)
		row := make([]uint8, 3*rb.Dx())
		worst := 0
		for y := 0; y < rb.Dy(); y++ {
			rr.row(y, 0, rb.Dx(), row)
			for x := 0; x < rb.Dx(); x++ {
				c := ref.(*image.RGBA).RGBAAt(x, y)
				for k, v := range []uint8{c.R, c.G, c.B} {
					worst = max(worst, absInt(int(row[3*x+k])-int(v)))
				}
			}
		}
		t.Logf("%-16s %-9T jpegdec declined: %-5v max |d| vs PIL %d levels", name, img, declined, worst)
		switch {
		case !declined && worst != 0:
			t.Errorf("%s: decoded by jpegdec, differs from PIL by %d levels (want exact)", name, worst)
		case declined && worst > 8:
			t.Errorf("%s: image/jpeg fallback differs from PIL by %d levels", name, worst)
		}
	}
	for _, want := range []string{"arithmetic", "rgb"} {
		b, err := os.ReadFile("internal/jpegdec/testdata/" + want + ".jpg")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := jpegdec.Decode(b, 0); !errors.Is(err, jpegdec.ErrUnsupported) {
			t.Errorf("%s: jpegdec error %v, want ErrUnsupported", want, err)
		}
	}
}

func absInt(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// TestJPEGTooLarge: the pixel limit holds on both JPEG paths, jpegdec's
// (baseline, progressive) and image/jpeg's (RGB-coded), with the size in
// the message.
func TestJPEGTooLarge(t *testing.T) {
	for _, name := range []string{"q90_420_61x45", "progressive", "rgb"} {
		b, err := os.ReadFile("internal/jpegdec/testdata/" + name + ".jpg")
		if err != nil {
			t.Fatal(err)
		}
		_, err = Decode(b, 100)
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "61x45") {
			t.Errorf("%s with a 100-pixel limit: %v", name, err)
		}
		if _, err := Decode(b, 61*45); err != nil {
			t.Errorf("%s at exactly the limit: %v", name, err)
		}
	}
}
