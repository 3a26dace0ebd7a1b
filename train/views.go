package train

import (
	"fmt"
	"math/rand/v2"
	"sync"
)

// View policies of ViewSet.
const (
	// ViewUniform draws each image's view uniformly among its views, seeded
	// by (seed, epoch, image).
	ViewUniform = "uniform"
	// ViewRoundRobin walks each image's views in order, one per epoch, from
	// an offset seeded by (seed, image): every view is used once per K
	// epochs.
	ViewRoundRobin = "round-robin"
)

// ViewSet is a Dataset of images over a Dataset of rows that holds several
// augmented views of each image (a feature store extracted with
// --augment/--views). Len, Label and the epoch order count images; Read
// reads, for each image, the view that the policy picks for the current
// epoch. Run calls EpochOrder once at the start of each epoch, before
// reading it, and ViewSet remembers that (seed, epoch) for Read; reads
// outside Run (e.g. before the first EpochOrder) use epoch 0 of seed 0.
// Safe for concurrent Read calls.
type ViewSet struct {
	base   Dataset
	groups [][]int
	policy string

	mu    sync.Mutex
	seed  int64
	epoch int
}

// NewViewSet groups base's rows by image: groups[i] lists the rows of image
// i's views (groups[i][0] is view 0). policy is ViewUniform (default, "")
// or ViewRoundRobin. Every row of a group must have the image's label.
func NewViewSet(base Dataset, groups [][]int, policy string) (*ViewSet, error) {
	switch policy {
	case "":
		policy = ViewUniform
	case ViewUniform, ViewRoundRobin:
	default:
		return nil, fmt.Errorf("view policy %q (uniform, round-robin): %w", policy, ErrConfig)
	}
	for i, g := range groups {
		if len(g) == 0 {
			return nil, fmt.Errorf("image %d has no views: %w", i, ErrData)
		}
		for _, r := range g {
			if r < 0 || r >= base.Len() {
				return nil, fmt.Errorf("image %d: row %d outside %d rows: %w", i, r, base.Len(), ErrData)
			}
			if base.Label(r) != base.Label(g[0]) {
				return nil, fmt.Errorf("image %d: views with labels %d and %d: %w", i, base.Label(g[0]), base.Label(r), ErrData)
			}
		}
	}
	return &ViewSet{base: base, groups: groups, policy: policy}, nil
}

// Len is the number of images.
func (v *ViewSet) Len() int { return len(v.groups) }

// FeatureShape is the rows' feature shape.
func (v *ViewSet) FeatureShape() []int { return v.base.FeatureShape() }

// Classes are the rows' classes.
func (v *ViewSet) Classes() []string { return v.base.Classes() }

// Label is image i's label.
func (v *ViewSet) Label(i int) int { return v.base.Label(v.groups[i][0]) }

// Views is the number of views of image i.
func (v *ViewSet) Views(i int) int { return len(v.groups[i]) }

// EpochOrder selects the views of (seed, epoch) for the following Reads and
// returns a permutation of the images seeded by (seed, epoch).
func (v *ViewSet) EpochOrder(seed int64, epoch int) []int {
	v.mu.Lock()
	v.seed, v.epoch = seed, epoch
	v.mu.Unlock()
	return seededOrder(len(v.groups), seed, epoch)
}

// View returns the view of image i that the policy picks in epoch epoch of
// a run seeded with seed (an index into the image's views).
func (v *ViewSet) View(seed int64, epoch, i int) int {
	k := len(v.groups[i])
	if k == 1 {
		return 0
	}
	switch v.policy {
	case ViewRoundRobin:
		off := mix(uint64(seed), 0x726f756e64, uint64(i))
		return int((off + uint64(epoch)) % uint64(k))
	default:
		return int(mix(uint64(seed), uint64(epoch), uint64(i)) % uint64(k))
	}
}

// mix is a counter-based hash of (a, b, c) (SplitMix64 finalizer over a
// PCG draw), so a view choice depends on nothing but its inputs.
func mix(a, b, c uint64) uint64 {
	r := rand.New(rand.NewPCG(a^0x9e3779b97f4a7c15, b*0xbf58476d1ce4e5b9+c))
	return r.Uint64()
}

// Read writes the features of the current epoch's views of images idx.
func (v *ViewSet) Read(idx []int, dst []float32) error {
	v.mu.Lock()
	seed, epoch := v.seed, v.epoch
	v.mu.Unlock()
	rows := make([]int, len(idx))
	for j, i := range idx {
		if i < 0 || i >= len(v.groups) {
			return fmt.Errorf("image %d outside %d: %w", i, len(v.groups), ErrData)
		}
		rows[j] = v.groups[i][v.View(seed, epoch, i)]
	}
	return v.base.Read(rows, dst)
}

var (
	_ Dataset = (*ViewSet)(nil)
	_ Orderer = (*ViewSet)(nil)
)

// SeededOrder is the permutation of 0..n-1 that Run uses for a dataset
// without an Orderer in epoch epoch of a run seeded with seed.
func SeededOrder(n int, seed int64, epoch int) []int { return seededOrder(n, seed, epoch) }
