package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/extract"
)

func init() {
	c := &Command{Name: "extract", Short: "run a backbone over images once and cache the features",
		Usage: `Usage: preconv extract --model M --data DIR --out STORE [flags]

Runs the backbone M up to --tap (optionally global-pooled) over every image of
DIR (an ImageFolder root: DIR/<class>/<image>, or a .csv/.jsonl manifest of
path,label) and writes the features into the feature store STORE (a Zarr v2
group). Items already in STORE with the same image bytes and the same spec are
reused; the run says why anything is recomputed. A killed run resumes.

M is a path (.pth/.safetensors with --arch, .onnx, TF.js model.json or its
directory) or a known name: nsfwjs/mobilenet_v2, nsfwjs/inception_v3, pixels.

Scale-out: --shard i/N extracts only the images whose content hash falls in
shard i (of N) into STORE/.preconv/shards/i-of-N. Run the N shards anywhere,
at once (every shard lists and hashes the same --data); rerunning a shard is
a no-op, a killed one resumes. Then 'preconv store merge STORE' commits STORE.

Sharing: --from URL (http(s)://HOST/stores/NAME of 'preconv serve', or
s3://bucket/prefix) first checks that the shared store has this extraction's
spec, pulls it into the local cache and copies the features of the images it
already has (same bytes, same spec) instead of computing them. --push URL
pushes STORE there after a successful extraction: it becomes the current
version there (holding this dataset's images; earlier versions stay readable
as NAME@VERSION, and chunks already on the server are not sent again).
Token: $PRECONV_TOKEN.`}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, c)
		var cfg extract.Config
		var opts backbone.Options
		modelRef := fs.String("model", "", "backbone: a file or a known name (required)")
		fs.StringVar(&opts.Arch, "arch", "", "architecture of a bare weights file (vgg16, resnet18, …)")
		fs.StringVar(&opts.Tap, "tap", "", "layer whose output is stored (default: the backbone's frozen-feature layer)")
		fs.StringVar(&opts.Pool, "pool", "", "global pooling after the tap: avg, max or none")
		fs.StringVar(&cfg.Data, "data", "", "ImageFolder root or .csv/.jsonl manifest (required)")
		fs.StringVar(&cfg.Valid, "valid", "", "separate validation ImageFolder root")
		fs.Float64Var(&cfg.ValidFraction, "valid-fraction", 0, "hold out this fraction as the valid split (by content hash)")
		fs.StringVar(&cfg.Out, "out", "", "store directory, or s3://BUCKET/PREFIX or http(s)://HOST/stores/NAME (pulled, extracted into, pushed back) (required)")
		fs.StringVar(&cfg.Out, "store", "", "alias of --out")
		fs.StringVar(&cfg.Preprocess, "preprocess", "", "preprocessing preset (torchvision, keras-tf, keras-caffe, unit) or JSON; default: the backbone's")
		fs.IntVar(&cfg.Size, "size", 0, "resize to this size (overrides the preset)")
		fs.IntVar(&cfg.Crop, "crop", 0, "center-crop to this size (overrides the preset)")
		fs.StringVar(&cfg.DType, "dtype", "f32", "stored dtype: f32 or f16")
		fs.IntVar(&cfg.Batch, "batch", 8, "images per forward pass")
		fs.IntVar(&cfg.Workers, "workers", 0, "image decoding workers (default: number of CPUs)")
		fs.IntVar(&cfg.Threads, "threads", 0, "backbone threads (default: number of CPUs)")
		fs.IntVar(&cfg.ZstdLevel, "zstd-level", 0, "zstd level 1..19 (default 3)")
		fs.IntVar(&cfg.ChunkRows, "chunk-items", 0, "items per chunk (default: about 8 MiB of features)")
		fs.StringVar(&cfg.Augment, "augment", "", "augmentation of views 1..K-1: flip,crop,rotate,jitter (torchvision defaults; op=x sets its parameter) or JSON")
		fs.IntVar(&cfg.Views, "views", 0, "rows per training image with --augment (view 0 un-augmented; raising K later computes only the new views)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		quiet := fs.Bool("quiet", false, "no progress output")
		shard := fs.String("shard", "", "extract only shard i/N (by content hash) into STORE/.preconv/shards/; then 'preconv store merge STORE'")
		from := fs.String("from", "", "copy features of matching images from this shared store (http(s)://HOST/stores/NAME or s3://…)")
		pushTo := fs.String("push", "", "push STORE to this URL after a successful extraction")
		if _, err := parseFlags(fs, args); err != nil {
			return err
		}
		if *shard != "" {
			sh, err := extract.ParseShard(*shard)
			if err != nil {
				return usageError("--shard: %v", err)
			}
			cfg.Shard = sh
			cfg.Log = func(m string) { fmt.Fprintln(env.Stderr, m) }
		}
		if *modelRef == "" || cfg.Data == "" || cfg.Out == "" {
			return usageError("extract needs --model, --data and --out (see 'preconv extract -h')")
		}
		if cfg.DType != "f32" && cfg.DType != "f16" {
			return usageError("--dtype %q: want f32 or f16", cfg.DType)
		}
		outRef, openRef := cfg.Out, func() (string, func(bool) error, error) { return openStoreRef(ctx, env, cfg.Out, true) }
		if cfg.Shard.Enabled() { // a remote --out gets just this shard pulled and pushed
			openRef = func() (string, func(bool) error, error) { return openShardRef(ctx, env, cfg.Out, cfg.Shard) }
		}
		outDir, finish, err := openRef()
		if err != nil {
			return err
		}
		cfg.Out = outDir
		b, err := backbone.Open(ctx, *modelRef, opts)
		if err != nil {
			return err
		}
		ds, err := extract.LoadDataset(ctx, cfg)
		if err != nil {
			return err
		}
		if *pushTo != "" && *shard != "" {
			return usageError("--push cannot be used with --shard (push after 'preconv store merge')")
		}
		var shared *sharing
		if *from != "" {
			if shared, err = reuseFrom(ctx, env, *from, &cfg, b, *quiet || *asJSON); err != nil {
				return err
			}
		}
		pr := newProgress(env.Stderr, "extract", *quiet || *asJSON)
		cfg.Progress = pr.update
		res, err := extract.Run(ctx, cfg, b, ds)
		pr.done()
		if err == nil && *pushTo != "" {
			if shared == nil {
				shared = &sharing{}
			}
			if shared.PushedTo, shared.Pushed, err = pushStore(ctx, env, cfg.Out, *pushTo, *quiet || *asJSON); err != nil {
				return err
			}
		}
		if err != nil {
			if res != nil && res.Computed > 0 {
				return fmt.Errorf("%w (%d items computed so far are kept; rerun the same command to resume)", err, res.Computed)
			}
			return err
		}
		if err := finish(true); err != nil {
			return err
		}
		if *asJSON {
			var out any = res
			if shared != nil {
				shared.Result = res
				out = shared
			}
			if err := writeJSON(env.Stdout, out); err != nil {
				return err
			}
		} else if !*quiet {
			fmt.Fprintf(env.Stdout, "store %s: %d items, features %v (%s, tap %s", res.Store, res.Items, res.FeatureShape, b.Name, b.Tap)
			if b.Pool != "" {
				fmt.Fprintf(env.Stdout, ", %s-pooled", b.Pool)
			}
			fmt.Fprintf(env.Stdout, ")\n  computed %d, kept %d, reused %d, failed %d in %.1fs (%.1f img/s)\n",
				res.Computed, res.Kept, res.Reused, res.Failed, res.Seconds, res.ImagesPerSec)
			if res.Shard != "" {
				fmt.Fprintf(env.Stdout, "  shard %s: %d of %d items; when every shard is done: preconv store merge %s\n", res.Shard, res.Items, res.Total, outRef)
			}
			for _, r := range res.Reasons {
				fmt.Fprintf(env.Stdout, "  %s\n", r)
			}
			if shared != nil && shared.From != nil {
				fmt.Fprintf(env.Stdout, "  %d items copied from %s\n", res.FromSources, shared.FromURL)
			}
			for i, e := range res.Errors {
				if i == 20 {
					fmt.Fprintf(env.Stdout, "  … and %d more bad images\n", len(res.Errors)-20)
					break
				}
				fmt.Fprintf(env.Stdout, "  bad image: %s\n", e)
			}
		}
		if res.Failed > 0 {
			return partialError("%d of %d images could not be used (listed above: %s)", res.Failed, res.Items, strings.Join(res.Errors[:min(3, len(res.Errors))], "; "))
		}
		return nil
	}
	register(c)
}
