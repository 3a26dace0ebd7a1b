package store

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/x448/float16"
)

const python = "/usr/bin/python3"

// needPythonZarr skips unless Debian's python3 can import zarr and numcodecs
// (apt-get install python3-zarr python3-numcodecs; CI installs them).
func needPythonZarr(t *testing.T) {
	t.Helper()
	if err := exec.Command(python, "-c", "import zarr, numcodecs").Run(); err != nil {
		t.Skipf("skipping: %s cannot import zarr/numcodecs (apt-get install python3-zarr python3-numcodecs): %v", python, err)
	}
}

type pyExpected map[string]struct {
	Shape  []int     `json:"shape"`
	Values []float64 `json:"values"`
}

// checkPyArrays reads arrays written by Python zarr (numcodecs.Zstd) and
// compares them with the values numpy wrote beside them.
func checkPyArrays(t *testing.T, dir string) {
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp pyExpected
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"f32", "f16", "flat"} {
		a, err := OpenArray(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := a.ReadFloat32()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := exp[name].Values
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
		}
		for i := range got {
			if float64(got[i]) != want[i] {
				t.Fatalf("%s[%d] = %v, python wrote %v", name, i, got[i], want[i])
			}
		}
	}
}

// TestGoReadsPythonZarr reads the committed fixture made by
// testdata/gen_pyzarr.py (python3-zarr 2.13.6, numcodecs 0.11.0).
func TestGoReadsPythonZarr(t *testing.T) { checkPyArrays(t, "testdata/pyzarr") }

// TestGoReadsPythonZarrLive regenerates the arrays with the installed zarr.
func TestGoReadsPythonZarrLive(t *testing.T) {
	needPythonZarr(t)
	dir := t.TempDir()
	if out, err := exec.Command(python, "testdata/gen_pyzarr.py", dir).CombinedOutput(); err != nil {
		t.Fatalf("gen_pyzarr.py: %v\n%s", err, out)
	}
	checkPyArrays(t, dir)
}

// TestPythonReadsGoStore writes f32 and f16 stores in Go and has Python zarr
// read features, labels, keys and records back.
func TestPythonReadsGoStore(t *testing.T) {
	needPythonZarr(t)
	for _, dt := range []string{"f32", "f16"} {
		t.Run(dt, func(t *testing.T) {
			dir := t.TempDir()
			items := testItems(23)
			spec := testSpec(dt, 4, 3, 2)
			extract(t, dir, spec, items, map[int]bool{7: true}, WithChunkRows(5))
			out := filepath.Join(t.TempDir(), "dump.json")
			if b, err := exec.Command(python, "testdata/check_store.py", dir, out).CombinedOutput(); err != nil {
				t.Fatalf("check_store.py: %v\n%s", err, b)
			}
			var d struct {
				DType      string    `json:"dtype"`
				Shape      []int     `json:"shape"`
				Features   []float64 `json:"features"`
				Labels     []int     `json:"labels"`
				Keys       []string  `json:"keys"`
				Records    []Record  `json:"records"`
				Classes    []string  `json:"classes"`
				SpecDigest string    `json:"spec_digest"`
			}
			b, _ := os.ReadFile(out)
			if err := json.Unmarshal(b, &d); err != nil {
				t.Fatal(err)
			}
			wantDT := map[string]string{"f32": "float32", "f16": "float16"}[dt]
			if d.DType != wantDT || len(d.Shape) != 4 || d.Shape[0] != 23 || len(d.Features) != 23*24 {
				t.Fatalf("python sees dtype %s shape %v (%d values)", d.DType, d.Shape, len(d.Features))
			}
			for p, it := range items {
				if d.Labels[p] != it.Label || d.Keys[p] != it.Key || d.Records[p].Path != it.Path || d.Records[p].Split != it.Split {
					t.Fatalf("item %d: python label %d key %s record %+v", p, d.Labels[p], d.Keys[p], d.Records[p])
				}
				if p == 7 {
					if d.Records[p].Failed == "" {
						t.Errorf("failed item has no reason in records.jsonl")
					}
					continue
				}
				f := featuresFor(it.Key, 24)
				for k, v := range f {
					want := float64(v)
					if dt == "f16" {
						want = float64(float16.Fromfloat32(v).Float32())
					}
					if d.Features[p*24+k] != want {
						t.Fatalf("item %d value %d: python reads %v, want %v", p, k, d.Features[p*24+k], want)
					}
				}
			}
			if d.SpecDigest != spec.Digest() || len(d.Classes) != 3 {
				t.Errorf("attrs: digest %s classes %v", d.SpecDigest, d.Classes)
			}
		})
	}
}
