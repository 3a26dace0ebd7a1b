// Package extract runs a backbone over an image dataset once and writes the
// features into a feature store: images → tensors → backbone → store.
//
// Extraction is incremental and crash-safe because the store is: items whose
// content key and spec already have features are reused (the plan says why
// anything is recomputed), and a killed run resumes where it stopped.
package extract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/imageset"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/store"
	"github.com/preconv/preconv/tensor"
)

// Config describes one extraction. Zero values are documented defaults.
type Config struct {
	// Data is an ImageFolder root, or a .csv/.jsonl manifest.
	Data string
	// Valid is an optional separate validation ImageFolder root.
	Valid string
	// ValidFraction > 0 splits Data deterministically by content hash.
	ValidFraction float64
	// Out is the store directory.
	Out string
	// Preprocess overrides the backbone's preprocessing (a preset name or
	// JSON); Size and Crop override its sizes (0: keep).
	Preprocess string
	Size, Crop int
	// DType is "f32" (default) or "f16".
	DType string
	// Batch is the images per forward pass (default 8).
	Batch int
	// Workers decode images (default runtime.NumCPU()).
	Workers int
	// Threads run the backbone (default runtime.NumCPU()).
	Threads int
	// ZstdLevel and ChunkRows tune the store (0: store defaults).
	ZstdLevel, ChunkRows int
	// Sources are other store directories whose features of the same items
	// (same content key, same spec digest) are copied instead of computed
	// (store.WithSources). `extract --from URL` pulls a shared store into a
	// local directory and names it here.
	Sources []string
	// created, when set, is the store's recorded creation time (shards fix
	// it so that every run of a shard writes the same bytes).
	created time.Time
	// Progress, if set, is called after each batch.
	Progress func(done, total int, rate float64, eta time.Duration)
	// Shard, if set (Of > 0), extracts only the items of shard i of N into
	// ShardDir(Out, Shard) and writes its manifest (see shard.go).
	Shard Shard
	// Log, if set, receives notes such as "shard 2/4 is being written by
	// pid 123 on host; waiting".
	Log func(msg string)
	// Augment is an augmentation spec (imageset.ParseAugment: "flip,crop"
	// or JSON) and Views the rows per training image (view 0 un-augmented);
	// see views.go. "" and 0: no augmentation, one row per image.
	Augment string
	Views   int
}

// Result summarises an extraction.
type Result struct {
	Store    string `json:"store"`
	Items    int    `json:"items"`
	Computed int    `json:"computed"`
	Kept     int    `json:"kept"`
	Reused   int    `json:"reused"`
	// FromSources counts the Reused items copied from Sources.
	FromSources  int      `json:"from_sources"`
	Failed       int      `json:"failed"`
	Reasons      []string `json:"reasons"`
	FeatureShape []int    `json:"feature_shape"`
	Seconds      float64  `json:"seconds"`
	ImagesPerSec float64  `json:"images_per_sec"`
	// Errors lists the images that could not be used ("path: reason").
	Errors []string `json:"errors,omitempty"`
	// SpecDigest identifies the extraction spec.
	SpecDigest string `json:"spec_digest"`
	// Rows is the store's row count and Views the rows per training image
	// (set by augmented extractions; Items counts images).
	Rows  int `json:"rows,omitempty"`
	Views int `json:"views,omitempty"`
	// Shard is "i/N" for a shard run (Store is then the shard's directory
	// and Items its items), and Total the whole dataset's items.
	Shard string `json:"shard,omitempty"`
	Total int    `json:"total,omitempty"`
}

// ErrNoImages means the dataset has no images.
var ErrNoImages = errors.New("extract: no images found")

// LoadDataset reads cfg.Data (and cfg.Valid) and hashes every item.
func LoadDataset(ctx context.Context, cfg Config) (*imageset.Dataset, error) {
	var ds *imageset.Dataset
	var err error
	low := strings.ToLower(cfg.Data)
	switch {
	case cfg.Data == "":
		return nil, fmt.Errorf("extract: no dataset given (--data DIR)")
	case strings.HasSuffix(low, ".csv") || strings.HasSuffix(low, ".jsonl"):
		ds, err = imageset.ReadManifest(cfg.Data, nil)
	case cfg.Valid != "":
		ds, err = imageset.ScanWithValid(cfg.Data, cfg.Valid, imageset.ScanOptions{})
	default:
		ds, err = imageset.Scan(cfg.Data, imageset.ScanOptions{})
	}
	if err != nil {
		return nil, err
	}
	if len(ds.Items) == 0 {
		return nil, fmt.Errorf("%w in %s", ErrNoImages, cfg.Data)
	}
	if err := imageset.Hash(ctx, ds.Items, workers(cfg.Workers)); err != nil {
		return nil, err
	}
	if cfg.ValidFraction > 0 && cfg.Valid == "" {
		imageset.SplitByHash(ds.Items, cfg.ValidFraction)
	}
	return ds, nil
}

func workers(n int) int {
	if n <= 0 {
		return runtime.NumCPU()
	}
	return n
}

// Preprocessing returns the preprocessing cfg asks for on backbone b.
func Preprocessing(cfg Config, b *backbone.Backbone) (imageset.Preprocess, error) {
	pre := b.Preprocess
	if cfg.Preprocess != "" {
		p, err := imageset.ParsePreprocess(cfg.Preprocess)
		if err != nil {
			return pre, err
		}
		pre = p
	}
	if cfg.Size > 0 {
		pre = pre.WithSize(cfg.Size)
	}
	if cfg.Crop > 0 {
		pre = pre.WithCrop(cfg.Crop)
	}
	return pre, pre.Validate()
}

// Spec returns the store spec of extracting with b and pre.
func Spec(b *backbone.Backbone, pre imageset.Preprocess, dtype string) (store.Spec, error) {
	bc := *b // do not change the caller's backbone
	bc.Preprocess = pre
	shape, err := bc.FeatureShape()
	if err != nil {
		return store.Spec{}, err
	}
	pj, err := json.Marshal(pre)
	if err != nil {
		return store.Spec{}, err
	}
	if dtype == "" {
		dtype = "f32"
	}
	return store.Spec{Model: b.Name, WeightsDigest: b.WeightsDigest, Arch: b.Arch, Tap: b.Tap, Pool: b.Pool,
		Preprocess: pj, DType: dtype, FeatureShape: shape}, nil
}

// Run extracts features of cfg.Data with backbone b into cfg.Out.
func Run(ctx context.Context, cfg Config, b *backbone.Backbone, ds *imageset.Dataset) (*Result, error) {
	if cfg.Augment != "" || cfg.Views > 1 {
		return runViews(ctx, cfg, b, ds) // views.go
	}
	if cfg.Shard.Enabled() {
		return runShard(ctx, cfg, b, ds)
	}
	start := time.Now()
	pre, err := Preprocessing(cfg, b)
	if err != nil {
		return nil, err
	}
	spec, err := Spec(b, pre, cfg.DType)
	if err != nil {
		return nil, err
	}
	refs := itemRefs(ds)
	sopts := storeOptions(cfg)
	w, plan, err := store.Prepare(ctx, cfg.Out, spec, ds.Classes, refs, sopts...)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	res := &Result{Store: cfg.Out, Items: len(ds.Items), Kept: plan.Kept, Reused: plan.Reused, FromSources: plan.FromSources,
		Reasons: plan.Reasons, FeatureShape: spec.FeatureShape, SpecDigest: spec.Digest()}
	if len(plan.Todo) > 0 {
		todo := make([]imageset.Item, len(plan.Todo))
		byPath := make(map[string]int, len(plan.Todo))
		for i, pos := range plan.Todo {
			todo[i] = ds.Items[pos]
			byPath[todo[i].Path] = pos
		}
		batch := cfg.Batch
		if batch <= 0 {
			batch = 8
		}
		e := &nn.Exec{Threads: workers(cfg.Threads)}
		lopts := imageset.LoadOptions{Batch: batch, Workers: workers(cfg.Workers), Progress: cfg.Progress}
		for bt, err := range imageset.Load(ctx, todo, pre, lopts) {
			if err != nil {
				return res, err
			}
			for _, ie := range bt.Errors {
				pos, ok := byPath[ie.Path]
				res.Errors = append(res.Errors, ie.Error())
				res.Failed++
				if ok {
					if err := w.Fail(pos, ie.Err.Error()); err != nil {
						return res, err
					}
				}
			}
			if len(bt.Index) == 0 {
				continue
			}
			if err := putBatch(w, b, e, bt.X, bt.Index, plan.Todo, res, todo[bt.Index[0]].Path); err != nil {
				return res, err
			}
		}
	}
	return finish(ctx, w, res, start)
}

// storeOptions are the store options cfg asks for.
func storeOptions(cfg Config) []store.Option {
	var o []store.Option
	if cfg.ZstdLevel > 0 {
		o = append(o, store.WithLevel(cfg.ZstdLevel))
	}
	if cfg.ChunkRows > 0 {
		o = append(o, store.WithChunkRows(cfg.ChunkRows))
	}
	if len(cfg.Sources) > 0 {
		o = append(o, store.WithSources(cfg.Sources...))
	}
	if !cfg.created.IsZero() {
		o = append(o, store.WithCreated(cfg.created))
	}
	return o
}

// putBatch runs the backbone on a loaded batch x whose rows are the plan's
// Todo entries idx and hands the features to the writer; first names the
// batch's first image for errors.
func putBatch(w *store.Writer, b *backbone.Backbone, e *nn.Exec, x *tensor.Tensor, idx, todo []int, res *Result, first string) error {
	y, err := b.Features(e, x)
	if err != nil {
		return fmt.Errorf("extract: %s: %w", filepath.Base(first), err)
	}
	pos := make([]int, len(idx))
	for j, k := range idx {
		pos[j] = todo[k]
	}
	if err := w.Put(pos, y.Data); err != nil {
		return err
	}
	res.Computed += len(pos)
	return nil
}

// finish commits the store unless ctx ended, and fills in the timing.
func finish(ctx context.Context, w *store.Writer, res *Result, start time.Time) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if err := w.Commit(); err != nil {
		return res, err
	}
	res.Seconds = time.Since(start).Seconds()
	if res.Seconds > 0 {
		res.ImagesPerSec = float64(res.Computed) / res.Seconds
	}
	return res, nil
}
