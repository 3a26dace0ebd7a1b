package train

import (
	"context"
	"math"
	"testing"

	"github.com/preconv/preconv/head"
)

// TestSuperBatchSameAsPerBatch: Run's super-batched frozen prefix (with
// dropout inside it) gives the same losses as a plain mini-batch loop over
// the full head.
func TestSuperBatchSameAsPerBatch(t *testing.T) {
	ds := blobs(100, 12, 3, 8)
	spec := head.Spec{Preset: "mlp", Hidden: []int{16, 8}, Dropout: 0.3, TrainLayers: []string{"6"}}
	cfg := Config{Head: spec, Epochs: 2, BatchSize: 16, Seed: 4, Threads: 1}
	res, err := Run(context.Background(), cfg, ds, nil)
	if err != nil {
		t.Fatal(err)
	}
	if deterministicPrefix(res.Head) != 6 {
		t.Fatalf("prefix %d, want 6", deterministicPrefix(res.Head))
	}
	h, _ := head.New(spec, []int{12}, 3, 4, nil)
	s := &stepper{h: h, opt: &SGD{Params: h.Trainable(), Momentum: 0.9}}
	var step int64
	for epoch := 0; epoch < 2; epoch++ {
		order := seededOrder(100, 4, epoch)
		var sum float64
		for b := 0; b < 100; b += 16 {
			idx := order[b:min(b+16, 100)]
			x := make([]float32, len(idx)*12)
			ds.Read(idx, x)
			labels := make([]int, len(idx))
			for k, i := range idx {
				labels[k] = ds.Label(i)
			}
			l, _ := s.step(&head.Exec{Threads: 1, Step: step}, x, labels, 0.01, 0)
			step++
			sum += l * float64(len(idx))
		}
		got := res.History[epoch].TrainLoss
		if math.Abs(got-sum/100) > 1e-6 {
			t.Errorf("epoch %d: Run loss %.8f, per-batch loop %.8f", epoch+1, got, sum/100)
		}
	}
}
