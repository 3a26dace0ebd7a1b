package safetensors_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/preconv/preconv/safetensors"
	"github.com/preconv/preconv/tensor"
)

// TestReadPythonFixture reads testdata/fixture.safetensors, written by the
// independent hand-made writer testdata/gen_fixture.py (values listed there).
func TestReadPythonFixture(t *testing.T) {
	f, err := safetensors.ReadFile("testdata/fixture.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata["format"] != "pt" || f.Metadata["note"] != "hand-written" {
		t.Errorf("metadata = %v", f.Metadata)
	}
	wantF := map[string][]float32{
		"w_f32":  {-1, -0.5, 0, 0.5, 1, 1.5},
		"h_f16":  {1, -2.5, 0.333251953125, 65504},
		"b_bf16": {1.5, -0.15625},
		"s":      {3.25},
	}
	for name, want := range wantF {
		tt, err := f.Tensor(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(tt.Data) != len(want) {
			t.Fatalf("%s: %v", name, tt.Data)
		}
		for i := range want {
			if tt.Data[i] != want[i] {
				t.Errorf("%s[%d] = %v, want %v", name, i, tt.Data[i], want[i])
			}
		}
	}
	if w, _ := f.Tensor("w_f32"); !tensor.SameShape(w.Shape, []int{2, 3}) {
		t.Errorf("w_f32 shape %v", w.Shape)
	}
	if s, _ := f.Tensor("s"); len(s.Shape) != 0 {
		t.Errorf("scalar shape %v", s.Shape)
	}
	lab, shape, err := f.Ints("lab")
	if err != nil || len(shape) != 1 || lab[0] != 0 || lab[1] != 7 || lab[2] != -1 {
		t.Errorf("lab = %v %v %v", lab, shape, err)
	}
	i32, _, err := f.Ints("i32")
	if err != nil || i32[3] != -4 {
		t.Errorf("i32 = %v %v", i32, err)
	}
	if _, err := f.Tensor("lab"); !errors.Is(err, safetensors.ErrDType) {
		t.Errorf("Tensor(int) err = %v", err)
	}
	if _, err := f.Tensor("nope"); !errors.Is(err, safetensors.ErrNotFound) {
		t.Errorf("missing err = %v", err)
	}
}

func sample() []safetensors.Entry {
	return []safetensors.Entry{
		{Name: "a", Shape: []int{2, 2}, F32: []float32{1, -2, 3.5, 1e-3}},
		{Name: "h", DType: safetensors.F16, Shape: []int{3}, F32: []float32{0.5, -1, 2049}},
		{Name: "lab", Shape: []int{2}, I64: []int64{3, -9}},
		{Name: "l32", DType: safetensors.I32, Shape: []int{1}, I64: []int64{42}},
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.safetensors")
	if err := safetensors.WriteFile(path, sample(), map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Names(); len(got) != 4 || got[0] != "a" || got[3] != "l32" {
		t.Errorf("names %v", got)
	}
	a, _ := f.Tensor("a")
	if a.Data[3] != 1e-3 || a.Data[1] != -2 {
		t.Errorf("a = %v", a.Data)
	}
	h, _ := f.Tensor("h")
	// 2049 is not representable in f16: round-to-nearest-even gives 2048.
	if h.Data[0] != 0.5 || h.Data[2] != 2048 {
		t.Errorf("h = %v", h.Data)
	}
	l, _, _ := f.Ints("lab")
	if l[1] != -9 {
		t.Errorf("lab = %v", l)
	}
	if f.Metadata["k"] != "v" {
		t.Errorf("meta %v", f.Metadata)
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("temp files left: %v", ents)
	}
}

// TestPythonReadsOurs checks the Go writer's output with the independent
// numpy reader testdata/read_check.py.
func TestPythonReadsOurs(t *testing.T) {
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("no /usr/bin/python3 with numpy")
	}
	path := filepath.Join(t.TempDir(), "x.safetensors")
	if err := safetensors.WriteFile(path, sample(), map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "testdata/read_check.py", path).Output()
	if err != nil {
		t.Skipf("python reader failed (numpy missing?): %v", err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	var a, h struct{ Values []float64 }
	json.Unmarshal(got["a"], &a)
	json.Unmarshal(got["h"], &h)
	if len(a.Values) != 4 || float32(a.Values[3]) != 1e-3 || h.Values[2] != 2048 {
		t.Errorf("python read a=%v h=%v", a.Values, h.Values)
	}
	if !bytes.Contains(got["__metadata__"], []byte(`"k"`)) {
		t.Errorf("metadata %s", got["__metadata__"])
	}
}

func build(hdr string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(hdr)))
	b.WriteString(hdr)
	b.Write(data)
	return b.Bytes()
}

func TestHostile(t *testing.T) {
	huge := make([]byte, 8)
	binary.LittleEndian.PutUint64(huge, 1<<40)
	cases := []struct {
		name string
		buf  []byte
		want error
	}{
		{"short", []byte{1, 2}, safetensors.ErrHeader},
		{"huge header", append(huge, '{', '}'), safetensors.ErrHeader},
		{"header past end", build(`{}`, nil)[:9], safetensors.ErrHeader},
		{"not json", build(`{x`, nil), safetensors.ErrHeader},
		{"array", build(`[1]`, nil), safetensors.ErrHeader},
		{"bad dtype", build(`{"a":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 1)), safetensors.ErrDType},
		{"out of range", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 4)), safetensors.ErrOffsets},
		{"negative", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, make([]byte, 4)), safetensors.ErrOffsets},
		{"size mismatch", build(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, make([]byte, 8)), safetensors.ErrOffsets},
		{"overlap", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), safetensors.ErrOffsets},
		{"neg dim", build(`{"a":{"dtype":"F32","shape":[-1,-4],"data_offsets":[0,16]}}`, make([]byte, 16)), safetensors.ErrOffsets},
		{"overflow shape", build(`{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, nil), safetensors.ErrOffsets},
		{"bad metadata", build(`{"__metadata__":{"a":1}}`, nil), safetensors.ErrHeader},
		{"one offset", build(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0]}}`, nil), safetensors.ErrOffsets},
	}
	for _, c := range cases {
		_, err := safetensors.Read(bytes.NewReader(c.buf), int64(len(c.buf)))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestWriteRejects(t *testing.T) {
	var b bytes.Buffer
	if err := safetensors.Write(&b, []safetensors.Entry{{Name: "a", Shape: []int{3}, F32: []float32{1}}}, nil); err == nil {
		t.Error("short data accepted")
	}
	if err := safetensors.Write(&b, []safetensors.Entry{{Name: "a", Shape: []int{1}, F32: []float32{1}}, {Name: "a", Shape: []int{1}, F32: []float32{1}}}, nil); err == nil {
		t.Error("duplicate accepted")
	}
	if err := safetensors.Write(&b, []safetensors.Entry{{Name: "a", DType: safetensors.BF16, Shape: []int{1}, F32: []float32{1}}}, nil); !errors.Is(err, safetensors.ErrDType) {
		t.Errorf("bf16 write err = %v", err)
	}
}

func FuzzSafetensors(f *testing.F) {
	fix, _ := os.ReadFile("testdata/fixture.safetensors")
	f.Add(fix)
	var b bytes.Buffer
	safetensors.Write(&b, sample(), map[string]string{"k": "v"})
	f.Add(b.Bytes())
	f.Add(build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := safetensors.Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		total := 0
		for _, e := range file.Entries {
			n := tensor.Numel(e.Shape)
			if len(e.F32)+len(e.I64) != n {
				t.Fatalf("%s: %d+%d values for %v", e.Name, len(e.F32), len(e.I64), e.Shape)
			}
			total += n
		}
		if total > len(data) {
			t.Fatalf("%d values from %d bytes", total, len(data))
		}
		// Whatever was read must write back and re-read identically (floats as F32).
		var out bytes.Buffer
		ents := make([]safetensors.Entry, len(file.Entries))
		for i, e := range file.Entries {
			e.DType = ""
			ents[i] = e
		}
		if err := safetensors.Write(&out, ents, file.Metadata); err != nil {
			t.Fatal(err)
		}
		if _, err := safetensors.Read(bytes.NewReader(out.Bytes()), int64(out.Len())); err != nil {
			t.Fatal(err)
		}
	})
}
