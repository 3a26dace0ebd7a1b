package nn

import (
	"testing"

	"github.com/preconv/preconv/tensor"
)

// fakeFast handles every call by writing a constant, to check Conv2d
// routes eligible convs to its FastConv and no others.
type fakeFast struct{ calls int }

func (f *fakeFast) ConvImage(c *Conv2d, dst, x []float32, h, w, threads int) bool {
	f.calls++
	for i := range dst {
		dst[i] = -7
	}
	c.Act.Apply(dst)
	return true
}

func TestFastConvHook(t *testing.T) {
	x := tensor.New(3, 2, 5, 5)
	f := &fakeFast{}
	c := NewConv2d(2, 4, 3, 1, 1, true)
	c.Fast, c.Act = f, Act{Kind: ActReLU}
	y, err := c.Forward(&Exec{Threads: 2}, x)
	if err != nil {
		t.Fatal(err)
	}
	if f.calls != 3 {
		t.Errorf("FastConv called %d times for 3 images", f.calls)
	}
	for _, v := range y.Data {
		if v != 0 { // -7 clamped by the fused ReLU, bias not re-added
			t.Fatalf("output %g, want 0", v)
		}
	}
	// Stride 2 is not eligible: the hook must not be used.
	f.calls = 0
	c.Stride = [2]int{2, 2}
	if _, err := c.Forward(nil, x); err != nil || f.calls != 0 {
		t.Errorf("stride-2 conv used FastConv (%d calls, %v)", f.calls, err)
	}
}
