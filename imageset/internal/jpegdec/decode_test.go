package jpegdec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Exactness against PIL (libjpeg-turbo) is tested in package imageset
// (TestJPEGFixturesExact, TestParityTorchvision), where the decoded planes
// are upsampled and converted as libjpeg does. The tests here cover the
// decoder's own contract.

func fixtures(t testing.TB) map[string][]byte {
	files, err := filepath.Glob("testdata/*.jpg")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	m := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m[strings.TrimSuffix(filepath.Base(f), ".jpg")] = b
	}
	return m
}

var declined = map[string]bool{"arithmetic": true, "rgb": true}

// TestFixturesClassified: every supported fixture decodes to the right
// type and size; the others are declined with ErrUnsupported.
func TestFixturesClassified(t *testing.T) {
	for name, b := range fixtures(t) {
		img, err := Decode(b, 0)
		if declined[name] {
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("%s: err %v, want ErrUnsupported", name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds() != image.Rect(0, 0, cfg.Width, cfg.Height) {
			t.Errorf("%s: bounds %v, header %dx%d", name, img.Bounds(), cfg.Width, cfg.Height)
		}
		_, gray := img.(*image.Gray)
		if gray != strings.Contains(name, "gray") {
			t.Errorf("%s: decoded as %T", name, img)
		}
	}
}

// TestCloseToImageJPEG compares the planes with image/jpeg's, whose IDCT
// differs from islow by a level or two: a gross error (wrong table, lost
// restart sync, misplaced block) shows as large differences.
func TestCloseToImageJPEG(t *testing.T) {
	for name, b := range fixtures(t) {
		if declined[name] {
			continue
		}
		got, err := Decode(b, 0)
		if err != nil {
			t.Fatal(name, err)
		}
		want, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(name, err)
		}
		worst := 0
		r := got.Bounds()
		for y := 0; y < r.Dy(); y++ {
			for x := 0; x < r.Dx(); x++ {
				var a, b uint8
				switch g := got.(type) {
				case *image.Gray:
					a, b = g.GrayAt(x, y).Y, want.(*image.Gray).GrayAt(x, y).Y
				case *image.YCbCr:
					a, b = g.YCbCrAt(x, y).Y, want.(*image.YCbCr).YCbCrAt(x, y).Y
				}
				worst = max(worst, abs(int(a)-int(b)))
			}
		}
		if worst > 3 {
			t.Errorf("%s: luma differs from image/jpeg by %d levels", name, worst)
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// TestDecoderReuse: a Decoder reused across files of different layouts
// gives the same pixels as fresh ones, and the images it returned earlier
// are not overwritten.
func TestDecoderReuse(t *testing.T) {
	fx := fixtures(t)
	order := []string{"q90_420_61x45", "progressive", "gray_restart", "q3_sof1_40x33", "progressive_gray", "restart_3blocks", "q90_420_61x45", "sequential_scans", "tall_5x150"}
	d := new(Decoder)
	var kept []image.Image
	for _, name := range order {
		got, err := d.Decode(fx[name], 0)
		if err != nil {
			t.Fatal(name, err)
		}
		kept = append(kept, got)
	}
	for i, name := range order {
		want, _ := Decode(fx[name], 0)
		if !samePixels(kept[i], want) {
			t.Errorf("%s (position %d): reused decoder differs from a fresh one", name, i)
		}
	}
}

// TestReusePlanes: with ReusePlanes each result, read before the next
// Decode, equals a fresh decode, across sizes growing and shrinking
// (planes reused without clearing must be fully overwritten).
func TestReusePlanes(t *testing.T) {
	fx := fixtures(t)
	order := []string{"q100_420_40x33", "q90_444_61x45", "tiny_1x1", "progressive", "wide_300x3", "q10_420_40x33", "progressive_gray", "gray_61x45", "q90_444_61x45"}
	d := &Decoder{ReusePlanes: true}
	for _, name := range order {
		got, err := d.Decode(fx[name], 0)
		if err != nil {
			t.Fatal(name, err)
		}
		want, _ := Decode(fx[name], 0)
		if !samePixels(got, want) {
			t.Errorf("%s: decoded into reused planes differs from a fresh decode", name)
		}
	}
}

func samePixels(a, b image.Image) bool {
	switch x := a.(type) {
	case *image.Gray:
		y := b.(*image.Gray)
		return bytes.Equal(x.Pix, y.Pix)
	case *image.YCbCr:
		y := b.(*image.YCbCr)
		return bytes.Equal(x.Y, y.Y) && bytes.Equal(x.Cb, y.Cb) && bytes.Equal(x.Cr, y.Cr)
	}
	return false
}

// TestTruncated: every prefix of a file either fails with an error that
// wraps ErrCorrupt or ErrUnsupported, or (only for single-scan files, and
// only when nothing but the EOI marker is missing) decodes to the same
// pixels. Multi-scan files need their EOI: a cut between scans would
// otherwise decode silently at lower quality.
func TestTruncated(t *testing.T) {
	fx := fixtures(t)
	for _, name := range []string{"q90_420_61x45", "restart_rows", "gray_restart", "progressive", "progressive_restart", "sequential_scans"} {
		b := fx[name]
		full, _ := Decode(b, 0)
		for cut := 0; cut < len(b); cut++ {
			img, err := Decode(b[:cut], 0)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) {
					t.Fatalf("%s cut %d: error %v wraps neither ErrCorrupt nor ErrUnsupported", name, cut, err)
				}
				continue
			}
			if cut < len(b)-2 || (cut < len(b) && (strings.Contains(name, "progressive") || strings.Contains(name, "scans"))) {
				t.Fatalf("%s: prefix of %d of %d bytes decoded without error", name, cut, len(b))
			}
			if !samePixels(img, full) {
				t.Fatalf("%s cut %d: pixels differ", name, cut)
			}
		}
	}
}

// TestHostileHeaders: oversized frames are refused before allocating;
// a header claiming far more blocks than the data can hold is corrupt.
func TestHostileHeaders(t *testing.T) {
	b := bytes.Clone(fixtures(t)["q90_420_61x45"])
	sof := bytes.Index(b, []byte{0xFF, 0xC0})
	if sof < 0 {
		t.Fatal("no SOF0")
	}
	set := func(w, h int) []byte {
		c := bytes.Clone(b)
		binary.BigEndian.PutUint16(c[sof+5:], uint16(h))
		binary.BigEndian.PutUint16(c[sof+7:], uint16(w))
		return c
	}
	if _, err := Decode(set(65535, 65535), 0); !errors.Is(err, ErrTooLarge) {
		t.Errorf("65535x65535: %v, want ErrTooLarge", err)
	}
	if _, err := Decode(set(100, 100), 5000); !errors.Is(err, ErrTooLarge) {
		t.Errorf("100x100 with limit 5000: %v, want ErrTooLarge", err)
	}
	if _, err := Decode(set(8000, 8000), 0); !errors.Is(err, ErrCorrupt) {
		t.Errorf("8000x8000 from 2 KB: %v, want ErrCorrupt", err)
	}
	allocs := testing.AllocsPerRun(5, func() { Decode(set(8000, 8000), 0) })
	var ms1, ms2 = new(runtimeMem), new(runtimeMem)
	ms1.read()
	for i := 0; i < 5; i++ {
		Decode(set(8000, 8000), 0)
	}
	ms2.read()
	if grown := ms2.total - ms1.total; grown > 5<<20 {
		t.Errorf("refusing an 8000x8000 header allocated %d bytes (%v allocs/run)", grown, allocs)
	}
}

// TestScanLimit: a progressive file whose scans repeat hundreds of times
// (each a pass over every block) is refused, not decoded for ever.
func TestScanLimit(t *testing.T) {
	b := fixtures(t)["progressive_gray"]
	// Repeat the first scan (the DC scan, which decodes the same way every
	// time): its SOS header and data up to the next marker.
	first := bytes.Index(b, []byte{0xFF, 0xDA})
	if first < 0 {
		t.Fatal("no SOS")
	}
	next := first + 2 + int(binary.BigEndian.Uint16(b[first+2:]))
	for next+1 < len(b) && (b[next] != 0xFF || b[next+1] == 0 || (b[next+1] >= 0xD0 && b[next+1] <= 0xD7)) {
		next++
	}
	build := func(repeats int) []byte {
		var f []byte
		f = append(f, b[:next]...)
		for i := 0; i < repeats; i++ {
			f = append(f, b[first:next]...)
		}
		return append(f, b[next:]...)
	}
	if _, err := Decode(build(10), 0); err != nil {
		t.Fatalf("10 repeated DC scans: %v", err)
	}
	if _, err := Decode(build(maxScans), 0); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "scans") {
		t.Errorf("%d repeated scans: %v", maxScans, err)
	}
}

// TestExtraneousBytes: junk between segments (after the scan, between
// header segments) is skipped as libjpeg skips it; the pixels are the
// clean file's.
func TestExtraneousBytes(t *testing.T) {
	for _, name := range []string{"q90_420_61x45", "progressive"} {
		b := fixtures(t)[name]
		want, err := Decode(b, 0)
		if err != nil {
			t.Fatal(err)
		}
		sos := bytes.Index(b, []byte{0xFF, 0xDA})
		dqt := bytes.Index(b, []byte{0xFF, 0xDB})
		junk := []byte{0x00, 0x12, 0x34}
		var f []byte
		f = append(f, b[:dqt]...)
		f = append(f, junk...)
		f = append(f, b[dqt:len(b)-2]...)
		f = append(f, junk...)
		f = append(f, b[len(b)-2:]...)
		got, err := Decode(f, 0)
		if err != nil {
			t.Fatalf("%s with junk (SOS at %d): %v", name, sos, err)
		}
		if !samePixels(got, want) {
			t.Errorf("%s: junk changed the pixels", name)
		}
	}
}
