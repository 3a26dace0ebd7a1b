package train

import (
	"errors"
	"testing"
)

func TestFlipSet(t *testing.T) {
	const n, c, h, w = 200, 2, 3, 5
	base := &MemDataset{X: make([]float32, n*c*h*w), Shape: []int{c, h, w}, Labels: make([]int, n), ClassNames: []string{"a", "b"}}
	for i := range base.X {
		base.X[i] = float32(i)
	}
	fs, err := NewFlipSet(base)
	if err != nil {
		t.Fatal(err)
	}
	d := c * h * w
	for epoch := 0; epoch < 3; epoch++ {
		order := fs.EpochOrder(7, epoch)
		if len(order) != n {
			t.Fatalf("order has %d items", len(order))
		}
		got := make([]float32, n*d)
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		if err := fs.Read(idx, got); err != nil {
			t.Fatal(err)
		}
		flipped := 0
		for i := 0; i < n; i++ {
			fl := fs.Flipped(7, epoch, i)
			if fl {
				flipped++
			}
			for ch := 0; ch < c*h; ch++ {
				for x := 0; x < w; x++ {
					src := x
					if fl {
						src = w - 1 - x
					}
					if want := base.X[i*d+ch*w+src]; got[i*d+ch*w+x] != want {
						t.Fatalf("epoch %d item %d (flipped %v) row %d col %d: %g, want %g", epoch, i, fl, ch, x, got[i*d+ch*w+x], want)
					}
				}
			}
		}
		// About half flipped: a binomial(200, 0.5) lies in [70, 130] with
		// probability 1 - 2e-5.
		if flipped < 70 || flipped > 130 {
			t.Errorf("epoch %d: %d of %d items flipped", epoch, flipped, n)
		}
	}
	// The choice depends on the epoch: not the same items every epoch.
	same := 0
	for i := 0; i < n; i++ {
		if fs.Flipped(7, 0, i) == fs.Flipped(7, 1, i) {
			same++
		}
	}
	if same == n {
		t.Error("every item flips the same way in epochs 0 and 1")
	}
	pooled := &MemDataset{X: make([]float32, 4*8), Shape: []int{8}, Labels: make([]int, 4), ClassNames: []string{"a"}}
	if _, err := NewFlipSet(pooled); !errors.Is(err, ErrConfig) {
		t.Errorf("pooled features: %v, want ErrConfig", err)
	}
}
