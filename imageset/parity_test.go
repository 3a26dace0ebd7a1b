package imageset

import (
	"compress/gzip"
	"encoding/json"
	"image"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// refFile is written by testdata/gen_preprocess_ref.py (PIL 9.4 +
// torchvision 0.14, Debian packages).
type refFile struct {
	Source string `json:"source"`
	Images []struct {
		Path          string       `json:"path"`
		Name          string       `json:"name"`
		Width         int          `json:"width"`
		Height        int          `json:"height"`
		TVRowMeans    [][]float64  `json:"tv_row_means"`
		TVSamples     [][4]float64 `json:"tv_samples"`
		DecodeSamples [][5]int     `json:"decode_samples"`
		KerasTF       [][4]float64 `json:"keras-tf"`
		Unit          [][4]float64 `json:"unit"`
		KerasCaffe    [][4]float64 `json:"keras-caffe"`
	} `json:"images"`
}

func loadRef(t *testing.T) *refFile {
	t.Helper()
	f, err := os.Open("testdata/preprocess_ref.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var r refFile
	if err := json.NewDecoder(zr).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return &r
}

type errStat struct {
	sum, max float64
	n        int
}

func (e *errStat) add(d float64) {
	d = math.Abs(d)
	e.sum += d
	e.n++
	e.max = math.Max(e.max, d)
}
func (e *errStat) mean() float64 { return e.sum / float64(max(e.n, 1)) }

func mustPreset(t testing.TB, name string) Preprocess {
	t.Helper()
	p, err := Named(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestParityTorchvision compares the torchvision preset with PIL+torchvision
// on the sampled reference values (default tier). Thresholds from the issue:
// mean abs error <= 0.01 and max <= 0.1 in normalized units.
func TestParityTorchvision(t *testing.T) {
	ref := loadRef(t)
	tv := mustPreset(t, "torchvision")
	var all, allDec errStat
	for _, im := range ref.Images {
		if _, err := os.Stat(im.Path); err != nil {
			t.Logf("skip %s: %v (install darknet, python3-sklearn, python3-skimage)", im.Name, err)
			continue
		}
		img, err := DecodeFile(im.Path, 0)
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != im.Width || b.Dy() != im.Height {
			t.Fatalf("%s: size %v, PIL %dx%d", im.Name, b, im.Width, im.Height)
		}
		// Decode-only difference, 8-bit levels.
		var dec errStat
		rr := newRowReader(img)
		px := make([]uint8, 3)
		for _, s := range im.DecodeSamples {
			rr.row(s[0], s[1], s[1]+1, px)
			for c := 0; c < 3; c++ {
				dec.add(float64(px[c]) - float64(s[2+c]))
			}
		}
		x := make([]float32, 3*224*224)
		if err := tv.Apply(img, x); err != nil {
			t.Fatal(err)
		}
		var st, rows errStat
		for _, s := range im.TVSamples {
			c, y, xx := int(s[0]), int(s[1]), int(s[2])
			st.add(float64(x[c*224*224+y*224+xx]) - s[3])
		}
		for c := 0; c < 3; c++ {
			for y := 0; y < 224; y++ {
				m := 0.0
				for xx := 0; xx < 224; xx++ {
					m += float64(x[c*224*224+y*224+xx])
				}
				rows.add(m/224 - im.TVRowMeans[c][y])
			}
		}
		t.Logf("%-9s %4dx%-4d decode: mean|d| %.3f max %3.0f levels; torchvision: mean|d| %.5f max %.4f; row-mean max %.5f",
			im.Name, im.Width, im.Height, dec.mean(), dec.max, st.mean(), st.max, rows.max)
		if st.mean() > 0.01 || st.max > 0.1 {
			t.Errorf("%s: mean abs err %.5f (<= 0.01), max %.4f (<= 0.1)", im.Name, st.mean(), st.max)
		}
		// The photos are baseline JPEGs and PNGs: jpegdec decodes like
		// libjpeg-turbo and the chroma/color paths follow libjpeg, so the
		// decoded pixels equal PIL's exactly.
		if dec.max != 0 {
			t.Errorf("%s: decoded pixels differ from PIL's by up to %.0f levels (want exact)", im.Name, dec.max)
		}
		if rows.max > 0.01 {
			t.Errorf("%s: row means differ by %.5f", im.Name, rows.max)
		}
		all.sum += st.sum
		all.n += st.n
		all.max = math.Max(all.max, st.max)
		allDec.sum += dec.sum
		allDec.n += dec.n
		allDec.max = math.Max(allDec.max, dec.max)
	}
	if all.n == 0 {
		t.Skip("no reference photo found (Debian darknet, python3-sklearn, python3-skimage)")
	}
	t.Logf("all: torchvision mean|d| %.5f max %.4f; decode mean|d| %.3f max %.0f levels", all.mean(), all.max, allDec.mean(), allDec.max)
}

// TestParityPresets checks keras-tf, unit and keras-caffe against numpy
// formulas on PIL's bilinear 224x224 resize (gen_preprocess_ref.py).
func TestParityPresets(t *testing.T) {
	ref := loadRef(t)
	for _, name := range []string{"keras-tf", "unit", "keras-caffe"} {
		p := mustPreset(t, name)
		// Tolerance: 3 8-bit levels in the preset's units (decode differs).
		tol := 3 * p.Scale / p.Std[0]
		var all errStat
		for _, im := range ref.Images {
			if _, err := os.Stat(im.Path); err != nil {
				continue
			}
			img, err := DecodeFile(im.Path, 0)
			if err != nil {
				t.Fatal(err)
			}
			x := make([]float32, 3*224*224)
			if err := p.Apply(img, x); err != nil {
				t.Fatal(err)
			}
			samples := map[string][][4]float64{"keras-tf": im.KerasTF, "unit": im.Unit, "keras-caffe": im.KerasCaffe}[name]
			var st errStat
			for _, s := range samples {
				c, y, xx := int(s[0]), int(s[1]), int(s[2])
				st.add(float64(x[c*224*224+y*224+xx]) - s[3])
			}
			if st.mean() > tol/3 || st.max > 10*tol {
				t.Errorf("%s %s: mean %.5f max %.4f (tolerance %.4f)", name, im.Name, st.mean(), st.max, tol)
			}
			all.sum, all.n, all.max = all.sum+st.sum, all.n+st.n, math.Max(all.max, st.max)
		}
		t.Logf("%s: mean|d| %.5f max %.4f", name, all.mean(), all.max)
	}
}

// TestParityFullHeavy compares every value (PRECONV_HEAVY=1; needs
// /usr/bin/python3 with torchvision, generated at test time).
func TestParityFullHeavy(t *testing.T) {
	if os.Getenv("PRECONV_HEAVY") != "1" {
		t.Skip("heavy tier: set PRECONV_HEAVY=1")
	}
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("needs /usr/bin/python3 with python3-torchvision")
	}
	dir := t.TempDir()
	cmd := exec.Command("/usr/bin/python3", "testdata/gen_preprocess_ref.py", "--full", dir)
	cmd.Env = append(os.Environ(), "OPENBLAS_CORETYPE=SkylakeX")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("reference script failed (python3-torchvision missing?): %v\n%s", err, out)
	}
	ref := loadRef(t)
	tv := mustPreset(t, "torchvision")
	for _, im := range ref.Images {
		want := readF32(t, filepath.Join(dir, im.Name+".tv.f32"))
		rgb, err := os.ReadFile(filepath.Join(dir, im.Name+".rgb.u8"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := DecodeFile(im.Path, 0)
		if err != nil {
			t.Fatal(err)
		}
		var dec errStat
		hist := map[int]int{}
		rr := newRowReader(img)
		row := make([]uint8, 3*im.Width)
		for y := 0; y < im.Height; y++ {
			rr.row(y, 0, im.Width, row)
			for i, v := range row {
				d := int(v) - int(rgb[y*im.Width*3+i])
				dec.add(float64(d))
				hist[min(max(d, -3), 3)]++
			}
		}
		x := make([]float32, 3*224*224)
		if err := tv.Apply(img, x); err != nil {
			t.Fatal(err)
		}
		var st errStat
		for i := range x {
			st.add(float64(x[i]) - float64(want[i]))
		}
		// Resize-only difference: PIL's own decoded pixels through our resampler.
		pil := image.NewNRGBA(image.Rect(0, 0, im.Width, im.Height))
		for i := 0; i < im.Width*im.Height; i++ {
			copy(pil.Pix[4*i:4*i+3], rgb[3*i:3*i+3])
			pil.Pix[4*i+3] = 255
		}
		if err := tv.Apply(pil, x); err != nil {
			t.Fatal(err)
		}
		var rs errStat
		for i := range x {
			rs.add(float64(x[i]) - float64(want[i]))
		}
		t.Logf("%-9s decode mean|d| %.4f max %.0f levels (hist %v); full pipeline mean|d| %.5f max %.4f; resize-only (PIL pixels) mean|d| %.6f max %.5f",
			im.Name, dec.mean(), dec.max, hist, st.mean(), st.max, rs.mean(), rs.max)
		if st.mean() > 0.01 || st.max > 0.1 {
			t.Errorf("%s: mean abs err %.5f (<= 0.01), max %.4f (<= 0.1)", im.Name, st.mean(), st.max)
		}
		if rs.max > 1e-5 {
			t.Errorf("%s: resampling PIL's own pixels differs from PIL by %.6f (want exact)", im.Name, rs.max)
		}
		if dec.max != 0 {
			t.Errorf("%s: decoded pixels differ from PIL's by up to %.0f levels (want exact)", im.Name, dec.max)
		}
		// Other PIL filters, on PIL's pixels: exact too.
		for _, interp := range []string{"bicubic", "nearest"} {
			want := readF32(t, filepath.Join(dir, im.Name+"."+interp+".f32"))
			p := tv
			p.Interpolation = interp
			if err := p.Apply(pil, x); err != nil {
				t.Fatal(err)
			}
			var e errStat
			for i := range x {
				e.add(float64(x[i]) - float64(want[i]))
			}
			if e.max > 1e-5 {
				t.Errorf("%s %s: differs from PIL by mean %.6f max %.5f (want exact)", im.Name, interp, e.mean(), e.max)
			}
		}
	}
}

func readF32(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24)
	}
	return out
}
