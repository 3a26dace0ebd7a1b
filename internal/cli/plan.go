package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/extract"
	"github.com/preconv/preconv/plan"
)

func init() {
	c := &Command{Name: "plan", Short: "predict store size and extraction time before extracting",
		Usage: `Usage: preconv plan --model M --data DIR [--taps a,b] [--pools none,avg] [--dtypes f32,f16] [--sample 8]

Runs the backbone on a small sample of DIR and, for each candidate tap,
pooling and dtype, predicts the feature store's size (measured compression of
the real features) and the extraction time for the whole dataset.`}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, c)
		var bo backbone.Options
		var o plan.Options
		var ecfg extract.Config
		modelRef := fs.String("model", "", "backbone (required)")
		fs.StringVar(&bo.Arch, "arch", "", "architecture of a bare weights file")
		fs.StringVar(&ecfg.Data, "data", "", "ImageFolder root or manifest (required)")
		fs.StringVar(&ecfg.Preprocess, "preprocess", "", "preprocessing preset or JSON (default: the backbone's)")
		fs.IntVar(&ecfg.Size, "size", 0, "resize to this size")
		fs.IntVar(&ecfg.Crop, "crop", 0, "center-crop to this size")
		taps := fs.String("taps", "", "candidate taps, comma-separated (default: the backbone's feature layer and its output)")
		pools := fs.String("pools", "none,avg", "candidate poolings")
		dtypes := fs.String("dtypes", "f32,f16", "candidate dtypes")
		fs.IntVar(&o.Sample, "sample", 8, "images to measure")
		fs.IntVar(&o.Views, "views", 0, "plan an augmented extraction with K views per training image (extract --augment … --views K)")
		fs.Float64Var(&ecfg.ValidFraction, "valid-fraction", 0, "held-out fraction (one view per held-out image)")
		fs.IntVar(&o.Threads, "threads", 0, "threads (default: number of CPUs)")
		asJSON := fs.Bool("json", false, "print JSON")
		if _, err := parseFlags(fs, args); err != nil {
			return err
		}
		if *modelRef == "" || ecfg.Data == "" {
			return usageError("plan needs --model and --data")
		}
		split := func(s string) []string {
			var out []string
			for _, f := range strings.Split(s, ",") {
				if f = strings.TrimSpace(f); f == "none" {
					out = append(out, "")
				} else if f != "" {
					out = append(out, f)
				}
			}
			return out
		}
		o.Taps, o.Pools, o.DTypes = split(*taps), split(*pools), split(*dtypes)
		if *pools == "none" {
			o.Pools = []string{""}
		}
		b, err := backbone.Open(ctx, *modelRef, bo)
		if err != nil {
			return err
		}
		if b.Preprocess, err = extract.Preprocessing(ecfg, b); err != nil {
			return err
		}
		ds, err := extract.LoadDataset(ctx, extract.Config{Data: ecfg.Data, ValidFraction: ecfg.ValidFraction})
		if err != nil {
			return err
		}
		p, err := plan.Make(ctx, b, ds.Items, o)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(env.Stdout, p)
		}
		w := env.Stdout
		fmt.Fprintf(w, "%s on %d images (measured on %d)\n", p.Model, p.Items, p.Sample)
		if p.Views > 1 {
			fmt.Fprintf(w, "%d views per training image: %d rows (%.2f× the images); sizes and times below are for all rows\n",
				p.Views, p.Rows, float64(p.Rows)/float64(max(p.Items, 1)))
		}
		fmt.Fprintf(w, "%-26s %-5s %-5s %-16s %12s %12s %7s %12s\n", "tap", "pool", "dtype", "shape", "raw f32", "store", "ratio", "extract")
		for _, c := range p.Candidates {
			pool := c.Pool
			if pool == "" {
				pool = "none"
			}
			fmt.Fprintf(w, "%-26s %-5s %-5s %-16s %12s %12s %6.1f× %12s\n", c.Tap, pool, c.DType, fmt.Sprint(c.FeatureShape),
				humanBytes(c.RawBytes), humanBytes(c.StoreBytes), c.Ratio, humanDur(c.ExtractSec))
		}
		return nil
	}
	register(c)
}
