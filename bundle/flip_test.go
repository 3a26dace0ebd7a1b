package bundle_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/bundle"
	"github.com/preconv/preconv/train"
)

// --feature-flip trains on spatial maps mirrored in about half the epochs
// (a different trajectory than without it) and refuses pooled features.
func TestTrainFeatureFlip(t *testing.T) {
	f := trained(t, "pixels", backbone.Options{}, "f32", 4)
	cfg := train.Config{Epochs: 3, BatchSize: 4, Seed: 1, Threads: 1, LR: 0.05}
	m, err := bundle.Train(ctx, bundle.TrainOptions{Store: f.store, Out: filepath.Join(t.TempDir(), "flip"), Config: cfg, FeatureFlip: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.History) != 3 || m.Valid == nil {
		t.Fatalf("history %d, valid %v", len(m.History), m.Valid)
	}
	if m.History[2].TrainLoss == f.meta.History[2].TrainLoss {
		t.Errorf("feature flip left the training loss unchanged (%g): no item was flipped", m.History[2].TrainLoss)
	}
	// A run without the flip reproduces the fixture's run exactly (the flip
	// is the only difference above).
	m2, err := bundle.Train(ctx, bundle.TrainOptions{Store: f.store, Out: filepath.Join(t.TempDir(), "plain"), Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if m2.History[2].TrainLoss != f.meta.History[2].TrainLoss {
		t.Errorf("plain rerun loss %g, fixture %g", m2.History[2].TrainLoss, f.meta.History[2].TrainLoss)
	}

	pooled := trained(t, tfjsSmall, backbone.Options{Tap: "c_same_s2", Pool: "avg"}, "f32", 0)
	_, err = bundle.Train(ctx, bundle.TrainOptions{Store: pooled.store, Out: filepath.Join(t.TempDir(), "p"), Config: cfg, FeatureFlip: true})
	if !errors.Is(err, train.ErrConfig) {
		t.Errorf("feature flip on pooled features: %v, want ErrConfig", err)
	}
}
