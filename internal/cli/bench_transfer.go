package cli

import (
	"context"
	"fmt"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/bench/transfer"
	"github.com/preconv/preconv/extract"
)

func init() {
	c := &Command{Name: "bench transfer", Short: "naive (backbone every epoch) vs cached features: time and accuracy",
		Usage: `Usage: preconv bench transfer --model M --data DIR [--epochs 10] [--valid-fraction 0.2]

The seed experiment: trains the same head for --epochs (a) naively, running
the frozen backbone over every image in every epoch, and (b) extracting the
features once into a store and training on the cache. Prints both times, the
speedup and both final validation accuracies.`}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, c)
		var o transfer.Options
		var bo backbone.Options
		modelRef := fs.String("model", "", "backbone (required)")
		fs.StringVar(&bo.Arch, "arch", "", "architecture of a bare weights file")
		fs.StringVar(&bo.Tap, "tap", "", "backbone layer")
		fs.StringVar(&bo.Pool, "pool", "avg", "global pooling after the tap: avg, max or none")
		fs.StringVar(&o.Extract.Data, "data", "", "ImageFolder root (required)")
		fs.Float64Var(&o.Extract.ValidFraction, "valid-fraction", 0.2, "held-out fraction (by content hash)")
		fs.IntVar(&o.Extract.Size, "size", 0, "resize to this size (overrides the preset)")
		fs.IntVar(&o.Extract.Batch, "batch", 8, "images per forward pass")
		fs.IntVar(&o.Extract.Threads, "threads", 0, "threads (default: number of CPUs)")
		fs.IntVar(&o.Train.Epochs, "epochs", 10, "epochs")
		fs.StringVar(&o.Train.Optimizer, "optimizer", "adam", "optimizer")
		fs.Float64Var(&o.Train.LR, "lr", 0.001, "learning rate")
		fs.StringVar(&o.Train.Head.Preset, "head", "linear", "head preset (linear or mlp)")
		asJSON := fs.Bool("json", false, "print JSON")
		quiet := fs.Bool("quiet", false, "no progress output")
		if _, err := parseFlags(fs, args); err != nil {
			return err
		}
		if *modelRef == "" || o.Extract.Data == "" {
			return usageError("bench transfer needs --model and --data")
		}
		o.Train.Threads, o.Extract.Workers = o.Extract.Threads, o.Extract.Threads
		o.Train.Seed = 1
		o.Train.Head.Standardize = o.Train.Head.Preset != "vgg-classifier"
		if !*quiet && !*asJSON {
			o.Log = func(f string, a ...any) { fmt.Fprintf(env.Stderr, f+"\n", a...) }
		}
		b, err := backbone.Open(ctx, *modelRef, bo)
		if err != nil {
			return err
		}
		ds, err := extract.LoadDataset(ctx, o.Extract)
		if err != nil {
			return err
		}
		res, err := transfer.Run(ctx, o, b, ds)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(env.Stdout, res)
		}
		w := env.Stdout
		fmt.Fprintf(w, "%s, tap %s, %d images (%d train / %d valid), %d epochs, features %v\n", b.Name, b.Tap, res.Items, res.TrainItems, res.ValidItems, res.Epochs, res.FeatureShape)
		fmt.Fprintf(w, "%-34s %10s %12s\n", "path", "seconds", "valid acc")
		fmt.Fprintf(w, "%-34s %10.1f %12.4f\n", "naive (backbone every epoch)", res.NaiveSec, res.NaiveAcc)
		fmt.Fprintf(w, "%-34s %10.1f %12.4f\n", "cached (extract once + train)", res.CachedSec, res.CachedAcc)
		fmt.Fprintf(w, "  of which extract %.1fs, train %.1fs\n", res.ExtractSec, res.CachedTrain)
		fmt.Fprintf(w, "speedup %.1f×\n", res.Speedup)
		return nil
	}
	register(c)
}
