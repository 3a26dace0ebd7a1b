package cli

import (
	"context"
	"fmt"
	"github.com/preconv/preconv/remote"
	"path/filepath"
	"strings"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/bundle"
	"github.com/preconv/preconv/store"
	"github.com/preconv/preconv/train"
)

func init() {
	c := &Command{Name: "train", Short: "train a classifier head on cached features",
		Usage: `Usage: preconv train --store STORE [--valid STORE] --head linear|mlp|vgg-classifier --epochs N --out RUN

Trains only the head on the features in STORE (many fast epochs; the backbone
is never run). Validation uses --valid, or the store's "valid" split when it
has one. RUN receives the head's weights, a checkpoint every epoch (rerun with
--resume after a crash), run.json and an HTML report (RUN/report/index.html).

vgg-classifier is torchvision's VGG classifier initialised from the backbone
checkpoint (--backbone FILE.pth) with the last layer replaced for your classes
and only that layer trained (the classic recipe); --train-layers 3,6 unfreezes
more, --fold computes the frozen prefix once and trains on the result.`}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, c)
		var o bundle.TrainOptions
		cfg := &o.Config
		fs.StringVar(&o.Store, "store", "", "training feature store: a directory, s3://BUCKET/PREFIX or http(s)://HOST/stores/NAME (required)")
		fs.StringVar(&o.ValidStore, "valid", "", "validation feature store (default: the store's valid split)")
		fs.StringVar(&o.Out, "out", "", "run directory (required)")
		fs.StringVar(&cfg.Head.Preset, "head", "linear", "head preset: linear, mlp or vgg-classifier")
		hidden := fs.String("hidden", "", "mlp hidden sizes, e.g. 512,256 (default 256)")
		fs.BoolVar(&cfg.Head.BatchNorm, "batch-norm", false, "mlp: BatchNorm1d after each hidden layer")
		fs.Float64Var(&cfg.Head.Dropout, "dropout", 0, "dropout probability (mlp; vgg-classifier default 0.5, negative disables)")
		standardize := fs.Bool("standardize", true, "z-score features with the training set's statistics (linear and mlp heads)")
		trainLayers := fs.String("train-layers", "", "vgg-classifier: trainable layer indices, e.g. 3,6 (default 6)")
		backboneFile := fs.String("backbone", "", "vgg-classifier: the backbone checkpoint (.pth/.safetensors) whose classifier weights start the head")
		fs.IntVar(&cfg.Epochs, "epochs", 10, "epochs")
		fs.IntVar(&cfg.BatchSize, "batch", 64, "mini-batch size")
		fs.StringVar(&cfg.Optimizer, "optimizer", "sgd", "sgd, adam or adamw")
		fs.Float64Var(&cfg.LR, "lr", 0, "learning rate (default 0.01 sgd, 0.001 adam)")
		fs.Float64Var(&cfg.Momentum, "momentum", 0, "sgd momentum (default 0.9)")
		fs.BoolVar(&cfg.Nesterov, "nesterov", false, "sgd Nesterov momentum")
		fs.Float64Var(&cfg.WeightDecay, "weight-decay", 0, "weight decay")
		fs.StringVar(&cfg.Schedule.Kind, "schedule", "constant", "learning-rate schedule: constant, step, cosine, onecycle")
		fs.Int64Var(&cfg.Seed, "seed", 1, "seed (initialisation, order, dropout)")
		fs.Float64Var(&cfg.LabelSmoothing, "label-smoothing", 0, "label smoothing ε")
		fs.Float64Var(&cfg.Clip, "clip", 0, "max gradient norm (0: off)")
		fs.IntVar(&cfg.EarlyStop.Patience, "patience", 0, "early stopping patience in epochs (0: off)")
		fs.StringVar(&cfg.EarlyStop.Metric, "early-metric", "valid_loss", "early stopping metric: valid_loss or valid_acc")
		fs.BoolVar(&cfg.Fold, "fold", false, "fold the frozen leading head layers into derived features once")
		fs.BoolVar(&o.FeatureFlip, "feature-flip", false, "mirror each spatial (C,H,W) feature map in about half of the epochs: a flip view from the stored features, without the backbone (an approximation; see README)")
		fs.StringVar(&o.ViewPolicy, "view-policy", "uniform", "store with augmented views: the view each image gives each epoch, uniform or round-robin (validation uses view 0)")
		fs.BoolVar(&cfg.SkipBadItems, "skip-bad", false, "skip items with NaN/Inf features instead of failing")
		fs.IntVar(&cfg.Threads, "threads", 0, "threads (default: number of CPUs)")
		fs.BoolVar(&cfg.Resume, "resume", false, "continue from RUN's last checkpoint")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		quiet := fs.Bool("quiet", false, "no progress output")
		if _, err := parseFlags(fs, args); err != nil {
			return err
		}
		if o.Store == "" || o.Out == "" {
			return usageError("train needs --store and --out (see 'preconv train -h')")
		}
		var err error
		o.StoreRef, o.ValidRef = storeName(o.Store), storeName(o.ValidStore)      // run.json records what the user named (a URL stays a URL)
		if o.Store, _, err = openStoreRef(ctx, env, o.Store, false); err != nil { // s3://, http(s):// → local copy
			return err
		}
		if o.ValidStore, _, err = openStoreRef(ctx, env, o.ValidStore, false); err != nil {
			return err
		}
		if *hidden != "" {
			if cfg.Head.Hidden, err = intList(*hidden); err != nil {
				return usageError("--hidden: %v", err)
			}
		}
		cfg.Head.Standardize = *standardize && cfg.Head.Preset != "vgg-classifier"
		if *trainLayers != "" {
			cfg.Head.TrainLayers = strings.Split(*trainLayers, ",")
		}
		if cfg.Head.Preset == "vgg-classifier" {
			if *backboneFile == "" {
				return usageError("--head vgg-classifier needs --backbone FILE (the .pth the features were extracted with)")
			}
			s, err := store.Open(o.Store)
			if err != nil {
				return err
			}
			b, err := backbone.Open(ctx, *backboneFile, backbone.Options{Arch: s.Spec().Arch, Tap: s.Spec().Tap})
			if err != nil {
				return err
			}
			if b.WeightsDigest != s.Spec().WeightsDigest {
				return fmt.Errorf("--backbone %s has weights sha256 %.12s…, but %s was extracted with %.12s…", *backboneFile, b.WeightsDigest, o.Store, s.Spec().WeightsDigest)
			}
			cfg.Backbone = b.StateDict
		}
		bar := newProgress(env.Stderr, "train", *quiet || *asJSON)
		o.Hooks = append(o.Hooks, func(ev train.Event) {
			switch ev.Kind {
			case "batch":
				bar.label = fmt.Sprintf("epoch %d/%d", ev.Epoch, ev.Epochs)
				bar.update(ev.Batch, ev.Batches, 0, 0)
			case "epoch":
				bar.done()
				if !*quiet && !*asJSON && ev.Metrics != nil {
					m := ev.Metrics
					fmt.Fprintf(env.Stdout, "epoch %2d  lr %.4g  train loss %.4f acc %.4f  valid loss %.4f acc %.4f  (%.1fs, %.0f items/s)\n",
						m.Epoch, m.LR, m.TrainLoss, m.TrainAcc, m.ValidLoss, m.ValidAcc, m.Seconds, m.ItemsPerSec)
				}
			case "warning", "fold":
				bar.done()
				if !*quiet && ev.Message != "" {
					fmt.Fprintf(env.Stderr, "%s: %s\n", ev.Kind, ev.Message)
				}
			}
		})
		m, err := bundle.Train(ctx, o)
		bar.done()
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(env.Stdout, m)
		}
		if !*quiet {
			if m.Valid != nil {
				fmt.Fprintf(env.Stdout, "valid accuracy %.4f (%d items), loss %.4f\n", m.Valid.Accuracy, m.Valid.Items, m.Valid.Loss)
			}
			fmt.Fprintf(env.Stdout, "run %s (report: %s)\n", o.Out, filepath.Join(o.Out, bundle.ReportDir, "index.html"))
		}
		return nil
	}
	register(c)
}

// storeName is how run.json names a store the user gave as ref: a URL
// without credentials, or the path as given.
func storeName(ref string) string {
	if remote.IsRemote(ref) {
		return remote.Redact(ref)
	}
	return ref
}
