package nn

import (
	"errors"
	"testing"

	"github.com/preconv/preconv/tensor"
)

func seq(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i) - float32(n)/2
	}
	return v
}

func TestActivations(t *testing.T) {
	x := tensor.FromData([]float32{-3, -0.5, 0, 2, 7}, 5)
	e := &Exec{}
	r, _ := (&ReLU{}).Forward(e, x)
	r6, _ := NewReLU6().Forward(e, x)
	cl, _ := (&Clip{Min: -1, Max: 1}).Forward(e, x)
	for i, w := range [][]float32{{0, 0, 0, 2, 7}, {0, 0, 0, 2, 6}, {-1, -0.5, 0, 1, 1}} {
		got := []*tensor.Tensor{r, r6, cl}[i]
		if tensor.MaxRelErr(got.Data, w) != 0 {
			t.Errorf("activation %d: got %v want %v", i, got.Data, w)
		}
	}
	if x.Data[0] != -3 {
		t.Error("input modified")
	}
	if NewReLU6().Type() != "ReLU6" || (&Clip{Min: -1, Max: 1}).Type() != "Clip" {
		t.Error("clip type names")
	}
}

func TestAddConcatFlattenPad(t *testing.T) {
	e := &Exec{}
	a := tensor.FromData(seq(12), 1, 3, 2, 2)
	b := tensor.FromData(seq(12), 1, 3, 2, 2)
	s, err := (&Add{Act: Act{Kind: ActReLU}}).Forward(e, a, b)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range s.Data {
		w := max(2*a.Data[i], 0)
		if v != w {
			t.Fatalf("add[%d] = %g want %g", i, v, w)
		}
	}
	if _, err := (&Add{}).Forward(e, a, tensor.New(1, 3, 2, 3)); !errors.Is(err, ErrShape) {
		t.Errorf("add shape mismatch: %v", err)
	}
	c := tensor.FromData(seq(8), 1, 2, 2, 2)
	cat, err := NewConcat().Forward(e, a, c)
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(cat.Shape, []int{1, 5, 2, 2}) {
		t.Fatalf("concat shape %v", cat.Shape)
	}
	if tensor.MaxRelErr(cat.Data[:12], a.Data) != 0 || tensor.MaxRelErr(cat.Data[12:], c.Data) != 0 {
		t.Error("concat channel data")
	}
	// Last-axis concat of 2×2 and 2×1: rows interleave.
	m, _ := (&Concat{Axis: -1}).Forward(e, tensor.FromData([]float32{1, 2, 3, 4}, 2, 2), tensor.FromData([]float32{9, 8}, 2, 1))
	if tensor.MaxRelErr(m.Data, []float32{1, 2, 9, 3, 4, 8}) != 0 {
		t.Errorf("concat axis -1: %v", m.Data)
	}
	f, _ := (&Flatten{StartDim: 1}).Forward(e, a)
	if !tensor.SameShape(f.Shape, []int{1, 12}) {
		t.Errorf("flatten shape %v", f.Shape)
	}
	p, err := (&Pad{Pads: [4]int{1, 0, 0, 2}}).Forward(e, tensor.FromData([]float32{1, 2, 3, 4}, 1, 1, 2, 2))
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0}
	if !tensor.SameShape(p.Shape, []int{1, 1, 3, 4}) || tensor.MaxRelErr(p.Data, want) != 0 {
		t.Errorf("pad: %v %v", p.Shape, p.Data)
	}
	d, _ := (&Dropout{P: 0.5}).Forward(e, a)
	if d != a {
		t.Error("dropout is not identity")
	}
}

func TestGlobalPools(t *testing.T) {
	x := tensor.FromData(seq(2*3*4*5), 2, 3, 4, 5)
	ga, _ := (&GlobalAvgPool{}).Forward(nil, x)
	gm, _ := (&GlobalMaxPool{}).Forward(nil, x)
	ad, _ := (&AdaptiveAvgPool2d{Out: [2]int{1, 1}}).Forward(nil, x)
	if e := tensor.MaxRelErr(ga.Data, ad.Data); e > 1e-6 {
		t.Errorf("global avg vs adaptive(1): %g", e)
	}
	for i := range gm.Data {
		if w := x.Data[i*20+19]; gm.Data[i] != w { // seq increases within a plane
			t.Errorf("global max[%d] = %g want %g", i, gm.Data[i], w)
		}
	}
}
