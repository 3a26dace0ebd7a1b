package train

import (
	"fmt"
	"sync"
)

// FlipSet is a Dataset that mirrors each item's spatial feature map
// (C, H, W) horizontally in about half of the epochs: a view computed from the
// stored features instead of re-running the backbone ("cheap flip").
// Whether item i is flipped in an epoch depends only on (seed, epoch, i).
//
// The flipped map is the true features of the flipped image only where the
// backbone commutes with a horizontal flip (a network whose every filter is
// left-right symmetric, or the identity/pixels backbone); for real CNNs it is
// an approximation — measured on nsfwjs MobileNetV2 `block_13_expand_relu`
// maps of real photos, its relative distance to the true flip view is 0.61
// (not flipping at all: 0.81), see extract/views_flip_test.go. After global
// pooling a flip changes nothing, so FlipSet refuses features that are not
// (C, H, W) with W > 1.
//
// Like ViewSet it learns the current (seed, epoch) from EpochOrder, which
// Run calls at the start of each epoch; it delegates the order to the base
// dataset when that is an Orderer. Safe for concurrent Read calls.
type FlipSet struct {
	base  Dataset
	shape []int

	mu    sync.Mutex
	seed  int64
	epoch int
}

// NewFlipSet wraps base, whose features must be (C, H, W) with W > 1.
func NewFlipSet(base Dataset) (*FlipSet, error) {
	sh := base.FeatureShape()
	if len(sh) != 3 || sh[2] < 2 {
		return nil, fmt.Errorf("feature flip needs spatial (C, H, W) features, these are %v (pooled features do not change under a flip): %w", sh, ErrConfig)
	}
	return &FlipSet{base: base, shape: append([]int(nil), sh...)}, nil
}

func (f *FlipSet) Len() int            { return f.base.Len() }
func (f *FlipSet) FeatureShape() []int { return append([]int(nil), f.shape...) }
func (f *FlipSet) Classes() []string   { return f.base.Classes() }
func (f *FlipSet) Label(i int) int     { return f.base.Label(i) }

// EpochOrder records (seed, epoch) for the following Reads and returns the
// base dataset's order for them (or the trainer's seeded permutation).
func (f *FlipSet) EpochOrder(seed int64, epoch int) []int {
	f.mu.Lock()
	f.seed, f.epoch = seed, epoch
	f.mu.Unlock()
	if o, ok := f.base.(Orderer); ok {
		return o.EpochOrder(seed, epoch)
	}
	return seededOrder(f.base.Len(), seed, epoch)
}

// Flipped reports whether item i is mirrored in epoch epoch of a run
// seeded with seed.
func (f *FlipSet) Flipped(seed int64, epoch, i int) bool {
	return mix(uint64(seed), uint64(epoch)^0x666c6970, uint64(i))&1 == 1
}

// Read writes the items' features, mirrored where Flipped says so.
func (f *FlipSet) Read(idx []int, dst []float32) error {
	if err := f.base.Read(idx, dst); err != nil {
		return err
	}
	f.mu.Lock()
	seed, epoch := f.seed, f.epoch
	f.mu.Unlock()
	c, h, w := f.shape[0], f.shape[1], f.shape[2]
	d := c * h * w
	for j, i := range idx {
		if !f.Flipped(seed, epoch, i) {
			continue
		}
		m := dst[j*d : (j+1)*d]
		for r := 0; r < c*h; r++ {
			row := m[r*w : (r+1)*w]
			for a, b := 0, w-1; a < b; a, b = a+1, b-1 {
				row[a], row[b] = row[b], row[a]
			}
		}
	}
	return nil
}

var (
	_ Dataset = (*FlipSet)(nil)
	_ Orderer = (*FlipSet)(nil)
)
