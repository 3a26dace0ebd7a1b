package store

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/preconv/preconv/safetensors"
)

func TestExportSafetensors(t *testing.T) {
	for _, dt := range []string{"f32", "f16"} {
		dir := t.TempDir()
		items := testItems(11)
		extract(t, dir, testSpec(dt, 3, 2), items, map[int]bool{4: true}, WithChunkRows(4))
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := s.ExportSafetensors(t.Context(), &buf); err != nil {
			t.Fatal(err)
		}
		// Read back with package safetensors (an independent reader).
		f, err := safetensors.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatalf("%s: %v", dt, err)
		}
		ft, err := f.Tensor("features")
		if err != nil {
			t.Fatal(err)
		}
		labels, _, err := f.Ints("labels")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ft.Shape, []int{10, 3, 2}) || len(labels) != 10 || f.Metadata["spec_digest"] != s.Spec().Digest() {
			t.Fatalf("%s: shape %v labels %d meta %v", dt, ft.Shape, len(labels), f.Metadata)
		}
		j := 0
		for p, it := range items {
			if p == 4 {
				continue
			}
			if !slices.Equal(ft.Data[j*6:(j+1)*6], expectFor(it.Key, 6, dt)) || labels[j] != int64(it.Label) {
				t.Fatalf("%s: item %d differs", dt, p)
			}
			j++
		}
	}
}

// TestExportNPY checks the .npy with numpy when available, else the header
// and data in Go.
func TestExportNPY(t *testing.T) {
	haveNumpy := exec.Command(python, "-c", "import numpy").Run() == nil
	for _, dt := range []string{"f32", "f16"} {
		dir := t.TempDir()
		items := testItems(9)
		extract(t, dir, testSpec(dt, 5), items, nil, WithChunkRows(4))
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "f.npy")
		f, _ := os.Create(out)
		if err := s.ExportNPY(t.Context(), f); err != nil {
			t.Fatal(err)
		}
		f.Close()
		b, _ := os.ReadFile(out)
		if len(b)%64 != 0 && (len(b)-9*5*map[string]int{"f32": 4, "f16": 2}[dt])%64 != 0 {
			t.Errorf("npy header not 64-aligned")
		}
		if !haveNumpy {
			t.Logf("numpy not importable by %s; header check only", python)
			if !bytes.HasPrefix(b, []byte("\x93NUMPY\x01\x00")) {
				t.Fatal("bad npy magic")
			}
			continue
		}
		js, err := exec.Command(python, "-c", "import numpy, json, sys; a = numpy.load(sys.argv[1]); print(json.dumps({'dtype': str(a.dtype), 'shape': a.shape, 'v': a.astype('float64').ravel().tolist()}))", out).Output()
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			DType string    `json:"dtype"`
			Shape []int     `json:"shape"`
			V     []float64 `json:"v"`
		}
		json.Unmarshal(js, &got)
		if got.DType != map[string]string{"f32": "float32", "f16": "float16"}[dt] || !slices.Equal(got.Shape, []int{9, 5}) {
			t.Fatalf("numpy sees %s %v", got.DType, got.Shape)
		}
		for p, it := range items {
			for k, v := range expectFor(it.Key, 5, dt) {
				if got.V[p*5+k] != float64(v) {
					t.Fatalf("%s item %d: numpy %v want %v", dt, p, got.V[p*5+k], v)
				}
			}
		}
	}
}

func TestStat(t *testing.T) {
	dir := t.TempDir()
	extract(t, dir, testSpec("f16", 64), testItems(20), map[int]bool{0: true}, WithChunkRows(8))
	in, err := Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	// testItems: label i%3, split valid when i%5 == 4; item 0 failed.
	if in.Items != 20 || in.Failed != 1 || in.Chunks != 3 || in.PerSplit["valid"]["b"] != 2 || in.PerSplit["train"]["a"] != 5 {
		t.Errorf("info %+v", in)
	}
	if in.RawBytes != 20*64*2 || in.ChunkBytes <= 0 || in.Ratio <= 1 {
		t.Errorf("sizes raw %d chunks %d ratio %.2f", in.RawBytes, in.ChunkBytes, in.Ratio)
	}
}
