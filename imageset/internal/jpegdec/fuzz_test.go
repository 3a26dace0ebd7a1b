package jpegdec

import (
	"errors"
	"image"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode: arbitrary bytes never panic, errors wrap the package's
// sentinels, and a decoded image has planes large enough for its bounds.
// Seeds: the committed fixtures.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.jpg")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	d := new(Decoder)
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := d.Decode(b, 1<<20)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		r := img.Bounds()
		switch m := img.(type) {
		case *image.Gray:
			if len(m.Pix) < (r.Dy()-1)*m.Stride+r.Dx() {
				t.Fatalf("gray plane %d too small for %v", len(m.Pix), r)
			}
			_ = m.GrayAt(r.Dx()-1, r.Dy()-1)
		case *image.YCbCr:
			_ = m.YCbCrAt(r.Dx()-1, r.Dy()-1)
		default:
			t.Fatalf("type %T", img)
		}
	})
}
