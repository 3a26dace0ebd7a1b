package torch

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/preconv/preconv/tensor"
)

// TestDTypesAndViews loads dtypes.pth (zip) and dtypes_legacy.pth, written
// by testdata/gen_fixtures.py with torch 1.13, and compares with the values
// torch itself printed to dtypes.json.
func TestDTypesAndViews(t *testing.T) {
	raw, err := os.ReadFile("testdata/dtypes.json")
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Tensors map[string]struct {
			Shape  []int     `json:"shape"`
			Values []float32 `json:"values"`
		} `json:"tensors"`
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"testdata/dtypes.pth", "testdata/dtypes_legacy.pth"} {
		sd, err := Load(file)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(sd) != len(want.Tensors) {
			t.Errorf("%s: %d tensors, want %d", file, len(sd), len(want.Tensors))
		}
		for name, w := range want.Tensors {
			got, ok := sd[name]
			if !ok {
				t.Errorf("%s: missing %q", file, name)
				continue
			}
			if !tensor.SameShape(got.Shape, w.Shape) {
				t.Errorf("%s: %q shape %v, want %v", file, name, got.Shape, w.Shape)
				continue
			}
			for i := range w.Values {
				if got.Data[i] != w.Values[i] {
					t.Errorf("%s: %q[%d] = %g, want %g", file, name, i, got.Data[i], w.Values[i])
					break
				}
			}
		}
	}
}

// TestHostileRefused checks pickles that call os.system or builtins.eval
// (written by testdata/gen_fixtures.py) are refused naming the global.
func TestHostileRefused(t *testing.T) {
	os.Remove("/tmp/preconv_pwned")
	for file, global := range map[string]string{"testdata/hostile.pth": "system", "testdata/hostile_eval.pkl.pth": "eval"} {
		_, err := Load(file)
		if !errors.Is(err, ErrForbidden) {
			t.Errorf("%s: err = %v, want ErrForbidden", file, err)
			continue
		}
		if !strings.Contains(err.Error(), global) {
			t.Errorf("%s: error %q does not name %s", file, err, global)
		}
	}
	if _, err := os.Stat("/tmp/preconv_pwned"); err == nil {
		t.Fatal("hostile pickle was executed")
	}
}

func TestTruncatedAndCorrupt(t *testing.T) {
	for _, file := range []string{"testdata/dtypes.pth", "testdata/dtypes_legacy.pth", "../testdata/vggs.pth"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 3, 10, len(b) / 3, len(b) / 2, len(b) - 20, len(b) - 1} {
			if _, err := LoadReader(bytes.NewReader(b[:n]), int64(n)); err == nil {
				t.Errorf("%s truncated to %d bytes: no error", file, n)
			}
		}
		// Flip bytes at spread positions: must never panic.
		for i := 0; i < len(b); i += max(1, len(b)/200) {
			c := append([]byte(nil), b...)
			c[i] ^= 0xff
			LoadReader(bytes.NewReader(c), int64(len(c)))
		}
	}
}

func TestLimits(t *testing.T) {
	if _, err := Load("testdata/dtypes.pth", WithMaxTensorElements(10)); !errors.Is(err, ErrLimit) {
		t.Errorf("element limit: %v", err)
	}
	if _, err := Load("testdata/dtypes.pth", WithMaxTotalBytes(64)); !errors.Is(err, ErrLimit) {
		t.Errorf("byte limit: %v", err)
	}
	if _, err := Load("testdata/dtypes_legacy.pth", WithMaxTotalBytes(64)); !errors.Is(err, ErrLimit) {
		t.Errorf("legacy byte limit: %v", err)
	}
	if _, err := Load("testdata/dtypes.pth", WithMaxPickleBytes(100)); !errors.Is(err, ErrLimit) {
		t.Errorf("pickle limit: %v", err)
	}
}

func TestScanPickleLengths(t *testing.T) {
	// BINBYTES8 claiming 2^62 bytes must be refused before any allocation.
	p := []byte{0x80, 2, 0x8e, 0, 0, 0, 0, 0, 0, 0, 0x40, '.'}
	if _, err := scanPickle(p); !errors.Is(err, ErrFormat) {
		t.Errorf("huge BINBYTES8: %v", err)
	}
	if _, err := scanPickle([]byte{0x80, 2, 'c', 'o', 's', '\n', 's', 'y', 's', 't', 'e', 'm', '\n', '.'}); !errors.Is(err, ErrForbidden) {
		t.Errorf("GLOBAL os.system: %v", err)
	}
}

func TestHalf(t *testing.T) {
	// IEEE 754 binary16 reference values.
	for bits, want := range map[uint16]float32{0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: 5.960464477539063e-08, 0x3555: 0.333251953125} {
		if got := halfToFloat(bits); got != want {
			t.Errorf("half %#04x = %g, want %g", bits, got, want)
		}
	}
}

// TestAmplification: amplify.pth (gen_fixtures.py) stores 4 KB but views it
// 300 times; with a 100 KB budget the 1.2 MB of float32 output is refused.
func TestAmplification(t *testing.T) {
	sd, err := Load("testdata/amplify.pth")
	if err != nil || len(sd) != 300 {
		t.Fatalf("default limits: %d tensors, %v", len(sd), err)
	}
	if _, err := Load("testdata/amplify.pth", WithMaxTotalBytes(100<<10)); !errors.Is(err, ErrLimit) {
		t.Errorf("amplified output: %v, want ErrLimit", err)
	}
}

// cyclicPickle builds a list that contains itself and passes it, inside a
// tuple, as a persistent id: error messages must not try to print it.
var cyclicPickle = []byte{0x80, 2, ']', 'q', 0, 'h', 0, 'a', '(', 'h', 0, 't', 'Q', '.'}

func TestCyclicPickle(t *testing.T) {
	l := &loader{storages: map[string]*storage{}}
	l.o.setDefault()
	if _, _, err := l.unpickle(cyclicPickle); !errors.Is(err, ErrFormat) {
		t.Errorf("cyclic persistent id: %v", err)
	}
}

func TestBigEndianRefused(t *testing.T) {
	src, err := zip.OpenReader("testdata/dtypes.pth")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	prefix := ""
	for _, f := range src.File {
		if strings.HasSuffix(f.Name, "/data.pkl") {
			prefix = strings.TrimSuffix(f.Name, "data.pkl")
		}
		if strings.HasSuffix(f.Name, "/byteorder") {
			continue
		}
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Store})
		r, _ := f.Open()
		io.Copy(w, r)
		r.Close()
	}
	w, _ := zw.Create(prefix + "byteorder")
	w.Write([]byte("big"))
	zw.Close()
	if _, err := LoadReader(bytes.NewReader(buf.Bytes()), int64(buf.Len())); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "byteorder") {
		t.Errorf("big-endian checkpoint: %v", err)
	}
}
