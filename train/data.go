// Package train trains classifier heads on cached features.
package train

// Dataset is what training reads: items with fixed-shape float32 features and
// integer labels. The feature store implements it (store.(*Store)); tests use
// in-memory datasets. Implementations must be safe for concurrent Read calls.
type Dataset interface {
	// Len is the number of items.
	Len() int
	// FeatureShape is the per-item feature shape, e.g. [512 7 7] or [1280].
	FeatureShape() []int
	// Classes names the classes; labels index into it.
	Classes() []string
	// Label returns item i's label.
	Label(i int) int
	// Read writes the features of items idx, back to back, into dst
	// (len(dst) == len(idx) * prod(FeatureShape())).
	Read(idx []int, dst []float32) error
}

// Orderer is optionally implemented by datasets that know a cheap reading
// order, e.g. a chunked store that shuffles chunk order and then items within
// a window. EpochOrder must be a permutation of 0..Len()-1 and depend only on
// (seed, epoch).
type Orderer interface {
	EpochOrder(seed int64, epoch int) []int
}
