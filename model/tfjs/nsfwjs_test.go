package tfjs

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/preconv/preconv/internal/npmfetch"
	"github.com/preconv/preconv/tensor"
)

// nsfwjsDir returns the cached nsfwjs models (scripts/fetch-nsfwjs.sh) or
// skips the test.
func nsfwjsDir(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join(npmfetch.CacheDir(), "nsfwjs-4.4.0", name)
	if _, err := os.Stat(filepath.Join(dir, "model.min.js")); err != nil {
		t.Skipf("nsfwjs models not fetched (run scripts/fetch-nsfwjs.sh): %v", err)
	}
	return dir
}

type reference struct {
	Classes []string `json:"classes"`
	Models  map[string]struct {
		Input  string `json:"input"`
		Size   int    `json:"size"`
		Tap    string `json:"tap"`
		Images []struct {
			Name   string    `json:"name"`
			Probs  []float64 `json:"probs"`
			TapGAP []float64 `json:"tap_gap"`
		} `json:"images"`
	} `json:"models"`
}

// loadInputs reads testdata/inputs_SIZE.u8.gz (gen_inputs.py) as n NCHW
// images scaled to [0,1].
func loadInputs(t testing.TB, file string, size int) *tensor.Tensor {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	u8, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	per := size * size * 3
	n := len(u8) / per
	x := tensor.New(n, 3, size, size)
	for i := 0; i < n; i++ {
		for p := 0; p < size*size; p++ {
			for c := 0; c < 3; c++ {
				x.Data[(i*3+c)*size*size+p] = float32(u8[i*per+p*3+c]) / 255
			}
		}
	}
	return x
}

// TestNSFWJSParity checks the real nsfwjs weights loaded by this importer
// against TF.js: testdata/reference.json was produced by gen_reference.js
// (@tensorflow/tfjs 4.22.0, CPU backend) on the same committed inputs.
func TestNSFWJSParity(t *testing.T) {
	var ref reference
	b, err := os.ReadFile("testdata/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"mobilenet_v2", "inception_v3"} {
		t.Run(name, func(t *testing.T) {
			g, err := Load(nsfwjsDir(t, name), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := g.Validate(); err != nil {
				t.Fatal(err)
			}
			mr := ref.Models[name]
			x := loadInputs(t, mr.Input, mr.Size)
			if x.Shape[0] != len(mr.Images) {
				t.Fatalf("%d input images, reference has %d", x.Shape[0], len(mr.Images))
			}
			images := len(mr.Images)
			if os.Getenv("PRECONV_HEAVY") == "" && images > 2 {
				images = 2 // default tier: keep it quick
			}
			for i := 0; i < images; i++ {
				im := mr.Images[i]
				xi := tensor.FromData(x.Item(i).Data, 1, 3, mr.Size, mr.Size)
				y, err := forward(g, xi, "")
				if err != nil {
					t.Fatal(err)
				}
				worst, arg := 0.0, 0
				for c, p := range im.Probs {
					worst = math.Max(worst, math.Abs(float64(y.Data[c])-p))
					if y.Data[c] > y.Data[arg] {
						arg = c
					}
				}
				t.Logf("%s %s: probs %.5f, max |Δ| vs TF.js %.2e, class %s", name, im.Name, y.Data, worst, ref.Classes[arg])
				if worst > 1e-4 {
					t.Errorf("%s: probabilities differ from TF.js by %.2e > 1e-4", im.Name, worst)
				}
				if ref.Classes[arg] != "Neutral" {
					t.Errorf("%s: class %s, want Neutral", im.Name, ref.Classes[arg])
				}
				if im.TapGAP != nil {
					f, err := forward(g, xi, mr.Tap)
					if err != nil {
						t.Fatal(err)
					}
					gap := globalAvg(f)
					want := make([]float32, len(im.TapGAP))
					for j, v := range im.TapGAP {
						want[j] = float32(v)
					}
					if e := tensor.MaxRelErr(gap, want); e > 1e-4 {
						t.Errorf("%s: tap %s global-avg features differ from TF.js: max rel err %.2e", im.Name, mr.Tap, e)
					} else {
						t.Logf("%s: tap %s %v, GAP max rel err %.2e", im.Name, mr.Tap, f.Shape, e)
					}
				}
			}
		})
	}
}

func globalAvg(t *tensor.Tensor) []float32 {
	c, hw := t.Shape[1], tensor.Numel(t.Shape[2:])
	out := make([]float32, c)
	for ch := 0; ch < c; ch++ {
		var s float64
		for _, v := range t.Data[ch*hw : (ch+1)*hw] {
			s += float64(v)
		}
		out[ch] = float32(s / float64(hw))
	}
	return out
}
