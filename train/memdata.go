package train

import (
	"fmt"

	"github.com/preconv/preconv/tensor"
)

// MemDataset is an in-memory Dataset: item i's features are
// X[i*D:(i+1)*D] with D = prod(Shape).
type MemDataset struct {
	X          []float32
	Shape      []int
	Labels     []int
	ClassNames []string
}

// Len implements Dataset.
func (m *MemDataset) Len() int { return len(m.Labels) }

// FeatureShape implements Dataset.
func (m *MemDataset) FeatureShape() []int { return m.Shape }

// Classes implements Dataset.
func (m *MemDataset) Classes() []string { return m.ClassNames }

// Label implements Dataset.
func (m *MemDataset) Label(i int) int { return m.Labels[i] }

// Read implements Dataset.
func (m *MemDataset) Read(idx []int, dst []float32) error {
	d := tensor.Numel(m.Shape)
	if len(dst) != len(idx)*d {
		return fmt.Errorf("train: Read: dst has %d values, want %d", len(dst), len(idx)*d)
	}
	for k, i := range idx {
		if i < 0 || i >= len(m.Labels) {
			return fmt.Errorf("train: Read: item %d out of range [0, %d)", i, len(m.Labels))
		}
		copy(dst[k*d:(k+1)*d], m.X[i*d:(i+1)*d])
	}
	return nil
}
