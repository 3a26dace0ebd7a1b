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

// fakeBatchFast records ConvBatch calls and fills dst with the image index.
type fakeBatchFast struct {
	fakeFast
	batches []int
}

func (f *fakeBatchFast) ConvBatch(c *Conv2d, dst, x []float32, n, h, w, threads int) bool {
	f.batches = append(f.batches, n)
	per := len(dst) / n
	for i := range dst {
		dst[i] = float32(i / per)
	}
	return true
}

// TestBatchFastConv: a FastConv that implements BatchFastConv gets the
// whole batch in one call (and ConvImage is not used); ineligible convs
// get neither.
func TestBatchFastConv(t *testing.T) {
	x := tensor.New(3, 2, 5, 5)
	f := &fakeBatchFast{}
	c := NewConv2d(2, 4, 3, 1, 1, true)
	c.Fast = f
	y, err := c.Forward(&Exec{Threads: 2}, x)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.batches) != 1 || f.batches[0] != 3 || f.calls != 0 {
		t.Fatalf("ConvBatch calls %v, ConvImage calls %d; want one batch of 3", f.batches, f.calls)
	}
	per := 4 * 5 * 5
	for i, v := range y.Data {
		if v != float32(i/per) {
			t.Fatalf("out[%d] = %g, want %d", i, v, i/per)
		}
	}
	f.batches = nil
	c.Stride = [2]int{2, 2}
	if _, err := c.Forward(nil, x); err != nil || len(f.batches) != 0 || f.calls != 0 {
		t.Errorf("stride-2 conv used the fast path (%v, %d, %v)", f.batches, f.calls, err)
	}
}
