package extract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/imageset"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/store"
)

// ErrViews means an augmented extraction was asked for with settings that do
// not go together (views without an augmentation, shards with views).
var ErrViews = errors.New("extract: bad augmentation views")

// MaxViews bounds Config.Views.
const MaxViews = 1024

// Augmented extraction (Config.Augment, Config.Views)
//
// Each training image gets K rows: view 0 is the plain preprocessing and
// views 1..K-1 are augmented (imageset.AugmentImage, seeded by the view's
// content key imageset.ViewKey). Validation and test images get view 0 only.
// Row k of an image has content key ViewKey(image key, augment, k), path
// "REL#view=k" (k > 0), and records View = k and Image = the image key.
//
// Cache keys: the augmentation's canonical JSON is the store Spec's Augment
// field, so it is part of the spec digest. Changing the augmentation is
// therefore a spec change like any other: the plan says "augment…" with the
// changed fields and every row, view 0 included, is recomputed (view 0 costs
// 1/K of the run). The price of this choice is that view 0 is not shared
// with a store extracted without augmentation; its gain is that one store
// always holds one augmentation, and Spec.Diff explains a change. K is not in
// the spec: raising K→2K keeps the digest, and the store's reuse by key
// computes only the new views; lowering K drops rows.

// viewPlan expands ds into view rows.
func viewPlan(ds *imageset.Dataset, refs []store.ItemRef, a imageset.Augment, k int) ([]store.ItemRef, []imageset.View) {
	var rows []store.ItemRef
	var views []imageset.View
	for i, r := range refs {
		n := k
		if r.Split == "valid" || r.Split == "test" {
			n = 1
		}
		for v := 0; v < n; v++ {
			row := r
			row.View, row.Image = v, r.Key
			if v > 0 {
				row.Key = imageset.ViewKey(r.Key, a, v)
				row.Path = fmt.Sprintf("%s#view=%d", r.Path, v)
			}
			rows = append(rows, row)
			views = append(views, imageset.View{Item: i, K: v, Key: row.Key})
		}
	}
	return rows, views
}

// Augmentation returns the augmentation and view count cfg asks for
// (Augment "" and Views <= 1: none).
func Augmentation(cfg Config) (imageset.Augment, int, error) {
	a, err := imageset.ParseAugment(cfg.Augment)
	if err != nil {
		return a, 0, err
	}
	k := max(cfg.Views, 1)
	switch {
	case k > MaxViews:
		return a, 0, fmt.Errorf("%d views, at most %d: %w", k, MaxViews, ErrViews)
	case k > 1 && a.IsZero():
		return a, 0, fmt.Errorf("%d views without an augmentation (--augment flip,crop): %w", k, ErrViews)
	case !a.IsZero() && k == 1:
		return a, 0, fmt.Errorf("augmentation %s with one view: views 1.. hold the augmented images (--views K, K >= 2): %w", a, ErrViews)
	}
	return a, k, nil
}

// AugmentedSpec is Spec with the augmentation's canonical JSON in
// Spec.Augment (nothing changes without augmentation).
func AugmentedSpec(spec store.Spec, a imageset.Augment) store.Spec {
	if !a.IsZero() {
		spec.Augment = json.RawMessage(a.Key())
	}
	return spec
}

// runViews is Run with augmentation views.
func runViews(ctx context.Context, cfg Config, b *backbone.Backbone, ds *imageset.Dataset) (*Result, error) {
	start := time.Now()
	if cfg.Shard.Enabled() {
		return nil, fmt.Errorf("sharded extraction of augmented views is not supported yet: %w", ErrViews)
	}
	a, k, err := Augmentation(cfg)
	if err != nil {
		return nil, err
	}
	pre, err := Preprocessing(cfg, b)
	if err != nil {
		return nil, err
	}
	spec, err := Spec(b, pre, cfg.DType)
	if err != nil {
		return nil, err
	}
	spec = AugmentedSpec(spec, a)
	rows, views := viewPlan(ds, itemRefs(ds), a, k)
	sopts := storeOptions(cfg)
	w, plan, err := store.Prepare(ctx, cfg.Out, spec, ds.Classes, rows, sopts...)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	res := &Result{Store: cfg.Out, Items: len(ds.Items), Rows: len(rows), Views: k, Kept: plan.Kept, Reused: plan.Reused,
		FromSources: plan.FromSources, Reasons: plan.Reasons, FeatureShape: spec.FeatureShape, SpecDigest: spec.Digest()}
	if len(plan.Todo) > 0 {
		todo := make([]imageset.View, len(plan.Todo))
		for i, pos := range plan.Todo {
			todo[i] = views[pos]
		}
		batch := cfg.Batch
		if batch <= 0 {
			batch = 8
		}
		e := &nn.Exec{Threads: workers(cfg.Threads)}
		lopts := imageset.LoadOptions{Batch: batch, Workers: workers(cfg.Workers), Progress: cfg.Progress}
		next := 0 // LoadViews batches are consecutive ranges of todo
		for bt, err := range imageset.LoadViews(ctx, ds.Items, todo, pre, a, lopts) {
			if err != nil {
				return res, err
			}
			n := len(bt.Index) + len(bt.Errors)
			good := map[int]bool{}
			for _, j := range bt.Index {
				good[j] = true
			}
			ei := 0
			for j := next; j < next+n; j++ {
				if good[j] {
					continue
				}
				ie := bt.Errors[ei]
				ei++
				res.Errors = append(res.Errors, fmt.Sprintf("%s (view %d)", ie.Error(), todo[j].K))
				res.Failed++
				if err := w.Fail(plan.Todo[j], ie.Err.Error()); err != nil {
					return res, err
				}
			}
			next += n
			if len(bt.Index) == 0 {
				continue
			}
			if err := putBatch(w, b, e, bt.X, bt.Index, plan.Todo, res, ds.Items[todo[bt.Index[0]].Item].Path); err != nil {
				return res, err
			}
		}
	}
	return finish(ctx, w, res, start)
}

// FlipFeatureMap writes into dst the horizontal flip of a spatial feature
// map src of shape [C, H, W] (row-major): dst[c,y,x] = src[c,y,W-1-x]. It is
// the cheap flip view: the features of the flipped image computed from the
// stored features instead of the backbone. It is exact only for a backbone
// that commutes with horizontal flips (symmetric receptive fields and
// padding); real CNNs have asymmetric kernels and TF-style "same" padding,
// so it approximates the true flip view (the relative error is measured in
// views_real_test.go). After global average pooling a flipped map pools to
// the same vector, so for pooled features (shape [C]) the cheap flip view
// is the view 0 features themselves: it adds nothing, and the true flip
// view (a backbone pass over the flipped image) is needed. dst and src must
// not overlap; a shape that is not [C, H, W] panics.
func FlipFeatureMap(dst, src []float32, shape []int) {
	if len(shape) != 3 || len(src) != shape[0]*shape[1]*shape[2] || len(dst) != len(src) {
		panic(fmt.Sprintf("extract: FlipFeatureMap: shape %v with %d/%d values", shape, len(src), len(dst)))
	}
	w := shape[2]
	for r := 0; r < shape[0]*shape[1]; r++ {
		s, d := src[r*w:(r+1)*w], dst[r*w:(r+1)*w]
		for x := range d {
			d[x] = s[w-1-x]
		}
	}
}
