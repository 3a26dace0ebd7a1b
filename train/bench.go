package train

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/preconv/preconv/head"
	"github.com/preconv/preconv/internal/cputime"
	"github.com/preconv/preconv/tensor"
)

// SyntheticFeatures returns n items of the given shape drawn like the
// PyTorch peer benchmark's features, relu(N(0,1)) (half the values zero),
// with labels i mod classes. Deterministic in seed.
func SyntheticFeatures(n int, shape []int, classes int, seed uint64) *MemDataset {
	d := tensor.Numel(shape)
	rng := rand.New(rand.NewPCG(seed, 7))
	m := &MemDataset{X: make([]float32, n*d), Shape: append([]int(nil), shape...), Labels: make([]int, n)}
	for k := 0; k < classes; k++ {
		m.ClassNames = append(m.ClassNames, fmt.Sprintf("class%d", k))
	}
	for i := range m.X {
		if v := rng.NormFloat64(); v > 0 {
			m.X[i] = float32(v)
		}
	}
	for i := range m.Labels {
		m.Labels[i] = i % classes
	}
	return m
}

// HeadBench is one measured configuration of BenchHead.
type HeadBench struct {
	Items   int  `json:"items"`
	Threads int  `json:"threads"`
	Fold    bool `json:"fold"`
	// EpochSeconds is the second epoch's training time (the first one
	// also builds cached transposed weights, like the peer's warm-up epoch).
	EpochSeconds float64 `json:"epoch_seconds"`
	ItemsPerSec  float64 `json:"items_per_sec"`
	// FoldSeconds is the one-off cost of folding the frozen prefix.
	FoldSeconds float64 `json:"fold_seconds,omitempty"`
	// CPUSeconds is the process CPU time (user+system, all threads) of the
	// measured epoch, and ItemsPerCPUSec the items per CPU second: on a
	// shared machine they are steadier than wall time (0 where unknown).
	CPUSeconds     float64 `json:"cpu_seconds,omitempty"`
	ItemsPerCPUSec float64 `json:"items_per_cpu_sec,omitempty"`
}

// BenchHead times the seed's head configuration: vgg-classifier
// (25088→4096→4096→classes, only layer 6 trainable, dropout 0.5 active
// unless folded), SGD momentum 0.9, lr 0.01, batch 64, on ds (which must have
// 25088-d items), for 2 epochs, and reports the second.
func BenchHead(ctx context.Context, ds Dataset, threads int, fold bool) (*HeadBench, error) {
	cfg := Config{Head: head.Spec{Preset: "vgg-classifier"}, Optimizer: "sgd", LR: 0.01, Momentum: 0.9,
		BatchSize: 64, Epochs: 2, Seed: 1, Threads: threads, Fold: fold, FoldMemLimit: 4 << 30}
	var cpu0 time.Duration
	mark := func(ev Event) {
		if ev.Kind == "epoch" && ev.Epoch == 1 {
			cpu0 = cputime.Process()
		}
	}
	res, err := Run(ctx, cfg, ds, nil, mark)
	if err != nil {
		return nil, err
	}
	cpu := (cputime.Process() - cpu0).Seconds()
	e := res.History[1]
	hb := &HeadBench{Items: ds.Len(), Threads: threads, Fold: fold, EpochSeconds: float64(ds.Len()) / e.ItemsPerSec,
		ItemsPerSec: e.ItemsPerSec, FoldSeconds: res.FoldSeconds}
	if cpu0 > 0 && cpu > 0 {
		hb.CPUSeconds, hb.ItemsPerCPUSec = cpu, float64(ds.Len())/cpu
	}
	return hb, nil
}
