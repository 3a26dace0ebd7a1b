package tensor

import (
	"math"
	"os"
	"strings"
	"testing"
)

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", what)
		}
	}()
	f()
}

func TestNumel(t *testing.T) {
	for _, c := range []struct {
		shape []int
		want  int
	}{{nil, 1}, {[]int{}, 1}, {[]int{3}, 3}, {[]int{2, 3, 4}, 24}, {[]int{5, 0, 7}, 0}} {
		if got := Numel(c.shape); got != c.want {
			t.Errorf("Numel(%v) = %d, want %d", c.shape, got, c.want)
		}
	}
	mustPanic(t, "negative", func() { Numel([]int{2, -1}) })
}

func TestCheckedNumel(t *testing.T) {
	cases := []struct {
		shape []int
		limit int64
		want  int
		err   string
	}{
		{[]int{2, 3}, 6, 6, ""},
		{[]int{2, 3}, 5, 0, "more than 5"},
		{[]int{}, 1, 1, ""},
		{[]int{0, 1 << 40}, 10, 0, ""}, // a zero dimension: no elements, whatever the others
		{[]int{3, -2}, 100, 0, "negative"},
		{[]int{1 << 31}, 0, 0, "more than 2147483647"},        // default limit MaxInt32
		{[]int{math.MaxInt32}, 0, math.MaxInt32, ""},          // exactly the default limit
		{[]int{1 << 32, 1 << 32, 1 << 32}, 0, 0, "more than"}, // would overflow int64
		{[]int{math.MaxInt64, 2}, math.MaxInt64, 0, "more than"},
	}
	for _, c := range cases {
		got, err := CheckedNumel(c.shape, c.limit)
		if c.err == "" {
			if err != nil || got != c.want {
				t.Errorf("CheckedNumel(%v, %d) = %d, %v; want %d", c.shape, c.limit, got, err, c.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("CheckedNumel(%v, %d) = %d, %v; want error %q", c.shape, c.limit, got, err, c.err)
		}
	}
}

func TestReshape(t *testing.T) {
	x := New(2, 3, 4)
	for i := range x.Data {
		x.Data[i] = float32(i)
	}
	for _, c := range []struct{ in, want []int }{
		{[]int{6, -1}, []int{6, 4}},
		{[]int{-1}, []int{24}},
		{[]int{2, -1, 3}, []int{2, 4, 3}},
		{[]int{24, 1}, []int{24, 1}},
	} {
		y := x.Reshape(c.in...)
		if !SameShape(y.Shape, c.want) || &y.Data[0] != &x.Data[0] {
			t.Errorf("Reshape(%v) = %v (shared %v), want %v", c.in, y.Shape, &y.Data[0] == &x.Data[0], c.want)
		}
	}
	in := []int{4, -1}
	x.Reshape(in...)
	if in[1] != -1 {
		t.Error("Reshape modified its argument")
	}
	mustPanic(t, "5,-1 of 24", func() { x.Reshape(5, -1) })
	mustPanic(t, "5,5", func() { x.Reshape(5, 5) })
	mustPanic(t, "0,-1", func() { x.Reshape(0, -1) })
	// An empty tensor: -1 cannot be inferred from 0 elements.
	e := New(0, 3)
	if y := e.Reshape(3, 0); !SameShape(y.Shape, []int{3, 0}) {
		t.Errorf("empty reshape %v", y.Shape)
	}
}

func TestFromDataItemClone(t *testing.T) {
	d := []float32{1, 2, 3, 4, 5, 6}
	x := FromData(d, 3, 2)
	if &x.Data[0] != &d[0] {
		t.Error("FromData copied")
	}
	it := x.Item(1)
	if !SameShape(it.Shape, []int{2}) || it.Data[0] != 3 || it.Data[1] != 4 {
		t.Errorf("Item(1) = %v %v", it.Shape, it.Data)
	}
	it.Data[0] = 30
	if d[2] != 30 {
		t.Error("Item does not share data")
	}
	c := x.Clone()
	c.Data[0] = -1
	c.Shape[0] = 99
	if d[0] != 1 || x.Shape[0] != 3 {
		t.Error("Clone shares data or shape")
	}
	mustPanic(t, "FromData length", func() { FromData(d, 4, 2) })
	if x.Numel() != 6 || x.Dims() != 2 || x.String() != "Tensor[3 2]" {
		t.Errorf("Numel %d Dims %d String %q", x.Numel(), x.Dims(), x.String())
	}
	if SameShape([]int{1, 2}, []int{1}) || !SameShape(nil, []int{}) {
		t.Error("SameShape")
	}
}

func TestMaxRelErr(t *testing.T) {
	nan := float32(math.NaN())
	inf := math.Inf(1)
	cases := []struct {
		got, want []float32
		res       float64
	}{
		{[]float32{1, 2}, []float32{1, 2}, 0},
		{[]float32{1, 2.5}, []float32{1, 2}, 0.25}, // |0.5| / max|want| 2
		{[]float32{0, 0}, []float32{-4, 1}, 1},     // scale is the largest magnitude, sign ignored
		{[]float32{1}, []float32{1, 2}, inf},       // length mismatch
		{[]float32{1, nan}, []float32{1, 2}, inf},  // NaN in got
		{nil, nil, 0},                                   // empty
		{[]float32{0}, []float32{0}, 0},                 // zero reference: no division by zero
		{[]float32{1e-20}, []float32{0}, 1e-20 / 1e-30}, // tiny floor 1e-30
	}
	for _, c := range cases {
		got := MaxRelErr(c.got, c.want)
		if math.IsInf(c.res, 1) {
			if !math.IsInf(got, 1) {
				t.Errorf("MaxRelErr(%v, %v) = %v, want +Inf", c.got, c.want, got)
			}
			continue
		}
		if math.Abs(got-c.res) > 1e-6*math.Max(1, c.res) {
			t.Errorf("MaxRelErr(%v, %v) = %v, want %v", c.got, c.want, got, c.res)
		}
	}
}

// knownBug skips a test that demonstrates a reported, not yet fixed bug
// unless PRECONV_KNOWN_BUGS=1.
func knownBug(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("PRECONV_KNOWN_BUGS") != "1" {
		t.Skip("known bug (set PRECONV_KNOWN_BUGS=1 to run): " + what)
	}
}

// TestMaxRelErrNaNReference: a NaN in want makes scale NaN and the result
// NaN, and `if err > tol` is false for NaN, so a parity test passes.
func TestMaxRelErrNaNReference(t *testing.T) {
	nan := float32(math.NaN())
	for _, c := range [][2][]float32{
		{{5, 1}, {nan, 1}},
		{{nan, 1}, {nan, 1}},
		{{float32(math.Inf(1))}, {float32(math.Inf(1))}},
	} {
		if r := MaxRelErr(c[0], c[1]); !math.IsInf(r, 1) {
			t.Errorf("MaxRelErr(%v, %v) = %v, want +Inf", c[0], c[1], r)
		}
	}
}

// TestReshapeNegative: Reshape(-1, -1) and Reshape(-2, -12) of 24 elements
// return shapes with negative dimensions instead of panicking.
func TestReshapeNegative(t *testing.T) {
	x := New(2, 3, 4)
	mustPanic(t, "-1,-1", func() { t.Logf("got %v", x.Reshape(-1, -1).Shape) })
	mustPanic(t, "-2,-12", func() { t.Logf("got %v", x.Reshape(-2, -12).Shape) })
}
