// Package transfer measures the seed experiment of preconv: training a head
// for E epochs on a frozen backbone (a) naively, recomputing the backbone's
// features of every image every epoch, and (b) extracting the features once
// into a feature store and training on the cache. Both paths use the same
// preprocessing, backbone, head, seed, data order and training code, so
// their accuracies agree and only the time differs.
package transfer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/bundle"
	"github.com/preconv/preconv/extract"
	"github.com/preconv/preconv/imageset"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/train"
)

// Options configure the benchmark.
type Options struct {
	Extract extract.Config // Data, ValidFraction, Batch, Workers, Threads, ... (Out is ignored)
	Train   train.Config   // Epochs etc.
	// WorkDir holds the temporary store and runs (default: a temp dir, removed).
	WorkDir string
	Log     func(format string, args ...any)
}

// Result holds both paths' figures.
type Result struct {
	Items        int     `json:"items"`
	TrainItems   int     `json:"train_items"`
	ValidItems   int     `json:"valid_items"`
	Epochs       int     `json:"epochs"`
	NaiveSec     float64 `json:"naive_seconds"`
	CachedSec    float64 `json:"cached_seconds"`
	ExtractSec   float64 `json:"cached_extract_seconds"`
	CachedTrain  float64 `json:"cached_train_seconds"`
	Speedup      float64 `json:"speedup"`
	NaiveAcc     float64 `json:"naive_valid_accuracy"`
	CachedAcc    float64 `json:"cached_valid_accuracy"`
	FeatureShape []int   `json:"feature_shape"`
}

// Run runs both paths on the dataset with backbone b.
func Run(ctx context.Context, o Options, b *backbone.Backbone, ds *imageset.Dataset) (*Result, error) {
	if o.Extract.DType == "f16" {
		return nil, fmt.Errorf("transfer: use f32 features so both paths see the same numbers")
	}
	logf := o.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	work := o.WorkDir
	if work == "" {
		d, err := os.MkdirTemp("", "preconv-bench-transfer-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		work = d
	}
	epochs := o.Train.Epochs
	if epochs <= 0 {
		epochs = 10
	}
	cfg := o.Train
	cfg.Epochs = epochs
	res := &Result{Items: len(ds.Items), Epochs: epochs}

	// (b) cached: extract once, then train on the store.
	t0 := time.Now()
	ecfg := o.Extract
	ecfg.Out = filepath.Join(work, "store")
	er, err := extract.Run(ctx, ecfg, b, ds)
	if err != nil {
		return nil, err
	}
	res.ExtractSec = time.Since(t0).Seconds()
	res.FeatureShape = er.FeatureShape
	logf("cached: extracted %d items in %.1fs", er.Computed, res.ExtractSec)
	t1 := time.Now()
	trS, vaS, err := bundle.Splits(ecfg.Out, "")
	if err != nil {
		return nil, err
	}
	// Both paths read in the same seeded order (the trainer's permutation,
	// not the store's chunk-aware order), so with bitwise-equal features
	// they train the same head: the comparison is then time alone.
	ccfg := cfg
	ccfg.RunDir = filepath.Join(work, "run-cached")
	var vaDS train.Dataset
	if vaS != nil {
		vaDS = plain{vaS}
	}
	cres, err := train.Run(ctx, ccfg, plain{trS}, vaDS)
	if err != nil {
		return nil, err
	}
	res.CachedTrain = time.Since(t1).Seconds()
	res.CachedSec = time.Since(t0).Seconds()
	if vaS != nil {
		met, err := train.Evaluate(ctx, cres.Head, vaS, nil)
		if err != nil {
			return nil, err
		}
		res.CachedAcc = met.Accuracy
	}
	logf("cached: %d epochs trained in %.1fs, valid accuracy %.4f", epochs, res.CachedTrain, res.CachedAcc)

	// (a) naive: every epoch, run the backbone over every image again and
	// train one more epoch (resuming the same run) on those features.
	pre, err := extract.Preprocessing(ecfg, b)
	if err != nil {
		return nil, err
	}
	var trItems, vaItems []imageset.Item
	for _, it := range ds.Items {
		if it.Split == "valid" {
			vaItems = append(vaItems, it)
		} else {
			trItems = append(trItems, it)
		}
	}
	res.TrainItems, res.ValidItems = len(trItems), len(vaItems)
	ncfg := cfg
	ncfg.RunDir = filepath.Join(work, "run-naive")
	ncfg.Resume = true
	e := &nn.Exec{Threads: ecfg.Threads}
	t2 := time.Now()
	var last *train.Result
	var lastValid *train.MemDataset
	for ep := 1; ep <= epochs; ep++ {
		trDS, err := features(ctx, b, e, pre, ecfg, trItems, ds.Classes)
		if err != nil {
			return nil, err
		}
		var vaDS train.Dataset
		if len(vaItems) > 0 {
			if lastValid, err = features(ctx, b, e, pre, ecfg, vaItems, ds.Classes); err != nil {
				return nil, err
			}
			vaDS = lastValid
		}
		ncfg.Epochs = ep
		if last, err = train.Run(ctx, ncfg, trDS, vaDS); err != nil {
			return nil, err
		}
		logf("naive: epoch %d/%d done at %.1fs", ep, epochs, time.Since(t2).Seconds())
	}
	res.NaiveSec = time.Since(t2).Seconds()
	if lastValid != nil {
		met, err := train.Evaluate(ctx, last.Head, lastValid, nil)
		if err != nil {
			return nil, err
		}
		res.NaiveAcc = met.Accuracy
	}
	if res.CachedSec > 0 {
		res.Speedup = res.NaiveSec / res.CachedSec
	}
	return res, nil
}

// plain hides a store's chunk-aware EpochOrder.
type plain struct{ train.Dataset }

// features runs the backbone over items into an in-memory dataset.
func features(ctx context.Context, b *backbone.Backbone, e *nn.Exec, pre imageset.Preprocess, ecfg extract.Config, items []imageset.Item, classes []string) (*train.MemDataset, error) {
	m := &train.MemDataset{ClassNames: classes}
	batch := ecfg.Batch
	if batch <= 0 {
		batch = 8
	}
	for bt, err := range imageset.Load(ctx, items, pre, imageset.LoadOptions{Batch: batch, Workers: ecfg.Workers}) {
		if err != nil {
			return nil, err
		}
		if len(bt.Errors) > 0 {
			return nil, fmt.Errorf("transfer: %v", bt.Errors[0])
		}
		y, err := b.Features(e, bt.X)
		if err != nil {
			return nil, err
		}
		m.Shape = append([]int(nil), y.Shape[1:]...)
		m.X = append(m.X, y.Data...)
		m.Labels = append(m.Labels, bt.Labels...)
	}
	return m, nil
}
