package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/preconv/preconv/nn"

	"google.golang.org/protobuf/encoding/protowire"
)

// Hand-built protobufs (field numbers from onnx.proto).

func msg(fields ...[]byte) []byte {
	var b []byte
	for _, f := range fields {
		b = append(b, f...)
	}
	return b
}

func str(num protowire.Number, s string) []byte {
	b := protowire.AppendTag(nil, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func sub(num protowire.Number, m []byte) []byte {
	b := protowire.AppendTag(nil, num, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}

func varint(num protowire.Number, v uint64) []byte {
	b := protowire.AppendTag(nil, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func node(op, name string, ins, outs []string) []byte {
	var f [][]byte
	for _, i := range ins {
		f = append(f, str(1, i))
	}
	for _, o := range outs {
		f = append(f, str(2, o))
	}
	f = append(f, str(3, name), str(4, op))
	return sub(1, msg(f...))
}

// floatInput is a ValueInfoProto for a FLOAT tensor of the given dims.
func floatInput(num protowire.Number, name string, dims ...uint64) []byte {
	var ds [][]byte
	for _, d := range dims {
		ds = append(ds, sub(1, varint(1, d)))
	}
	tt := msg(varint(1, dtFloat), sub(2, msg(ds...)))
	return sub(num, msg(str(1, name), sub(2, sub(1, tt))))
}

func modelBytes(nodes ...[]byte) []byte {
	g := msg(append(nodes, floatInput(11, "x", 1, 3, 4, 4), floatInput(12, "y"))...)
	return msg(varint(1, 8), sub(7, g), sub(8, msg(str(1, ""), varint(2, 13))))
}

func TestBadInput(t *testing.T) {
	good := modelBytes(node("Relu", "r", []string{"x"}, []string{"y"}))
	if _, err := Decode(good, "", Options{}); err != nil {
		t.Fatalf("valid model: %v", err)
	}
	small, err := os.ReadFile("testdata/small_resnet.onnx")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		b    []byte
		want error
		msg  string
	}{
		{"truncated", small[:len(small)/2], ErrFormat, ""},
		{"truncated-small", good[:len(good)-3], ErrFormat, ""},
		{"cycle", modelBytes(node("Relu", "a", []string{"b"}, []string{"a_out"}), node("Relu", "b", []string{"a_out"}, []string{"b"}), node("Relu", "r", []string{"x"}, []string{"y"})), ErrGraph, "cycle"},
		{"dangling", modelBytes(node("Add", "adder", []string{"x", "nowhere"}, []string{"y"})), ErrGraph, "adder"},
		{"unsupported", modelBytes(node("Foo", "f1", []string{"x"}, []string{"t"}), node("Bar", "b1", []string{"t"}, []string{"u"}), node("Foo", "f2", []string{"u"}, []string{"y"})), ErrUnsupported, "Bar (nodes b1); Foo (nodes f1, f2)"},
		{"shape-mismatch", modelBytes(node("Flatten", "flat", []string{"x"}, []string{"t"}), node("Concat", "cat", []string{"x", "t"}, []string{"y"})), nn.ErrShape, "cat"},
		{"no-graph", msg(varint(1, 8)), ErrFormat, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.b, "", Options{})
			if err == nil {
				t.Fatal("no error")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("error %v, want %v", err, c.want)
			}
			if c.msg != "" && !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not mention %q", err, c.msg)
			}
			t.Log(err)
		})
	}
}

func TestExternalData(t *testing.T) {
	dir := t.TempDir()
	// Initializer w (FLOAT [4]) stored in w.bin at offset 4; y = x + w.
	ext := func(loc string) []byte {
		tp := msg(varint(1, 4), varint(2, dtFloat), str(8, "w"),
			sub(13, msg(str(1, "location"), str(2, loc))),
			sub(13, msg(str(1, "offset"), str(2, "4"))),
			sub(13, msg(str(1, "length"), str(2, "16"))),
			varint(14, 1))
		g := msg(node("Add", "add", []string{"x", "w"}, []string{"y"}), sub(5, tp), floatInput(11, "x", 1, 4), floatInput(12, "y"))
		return msg(varint(1, 8), sub(7, g), sub(8, msg(str(1, ""), varint(2, 13))))
	}
	data := []byte{0, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40} // pad, 1, 2, 3, 4
	if err := os.WriteFile(filepath.Join(dir, "w.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "m.onnx"), ext("w.bin"), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := Load(filepath.Join(dir, "m.onnx"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := g.Nodes[0].Op.(*Binary)
	if want := []float32{1, 2, 3, 4}; b.C == nil || len(b.C.Data) != 4 || b.C.Data[0] != want[0] || b.C.Data[3] != want[3] {
		t.Errorf("external weight %v, want %v", b.C, want)
	}
	for _, loc := range []string{"../w.bin", "/etc/passwd", "missing.bin"} {
		if _, err := Decode(ext(loc), dir, Options{}); !errors.Is(err, ErrExternal) {
			t.Errorf("location %q: error %v, want ErrExternal", loc, err)
		}
	}
	os.WriteFile(filepath.Join(dir, "w.bin"), data[:10], 0o644)
	if _, err := Decode(ext("w.bin"), dir, Options{}); !errors.Is(err, ErrExternal) {
		t.Errorf("short file: error %v, want ErrExternal", err)
	}
}

// TestTapAlias: ONNX node names are aliases of their output values.
func TestTapAlias(t *testing.T) {
	g, err := Decode(modelBytes(node("Relu", "my_relu", []string{"x"}, []string{"t"}), node("Sigmoid", "sig", []string{"t"}, []string{"y"})), "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Aliases["my_relu"] != "t" || g.Aliases["sig"] != "y" || g.Output != "y" {
		t.Errorf("aliases %v output %q", g.Aliases, g.Output)
	}
}

func FuzzONNXModel(f *testing.F) {
	for _, p := range []string{"testdata/small_vgg.onnx", "testdata/small_resnet.onnx"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add(modelBytes(node("Relu", "r", []string{"x"}, []string{"y"})))
	f.Add(modelBytes(node("Flatten", "f", []string{"x"}, []string{"t"}), node("Softmax", "s", []string{"t"}, []string{"y"})))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := Decode(b, "", Options{MaxElements: 1 << 20})
		if err != nil {
			return
		}
		if g.Input == "" || g.Output == "" {
			t.Fatalf("graph without input/output: %+v", g)
		}
	})
}
