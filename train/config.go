package train

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/preconv/preconv/head"
	"github.com/preconv/preconv/tensor"
)

// Config is everything a training run needs besides the data. It is a plain
// JSON-serializable struct; every zero value is the documented default.
type Config struct {
	// Head selects the head preset and its sizes (default: linear).
	Head head.Spec `json:"head"`
	// Optimizer is "sgd" (default), "adam" or "adamw".
	Optimizer string `json:"optimizer,omitempty"`
	// LR is the base learning rate (default 0.01 for sgd, 0.001 for adam/adamw).
	LR float64 `json:"lr,omitempty"`
	// Momentum for sgd (default 0.9; negative means none). Ignored by adam.
	Momentum float64 `json:"momentum,omitempty"`
	// Nesterov momentum for sgd.
	Nesterov bool `json:"nesterov,omitempty"`
	// WeightDecay (L2 added to the gradient for sgd and adam; decoupled for
	// adamw, where 0 means torch's default 0.01; negative means none).
	WeightDecay float64 `json:"weight_decay,omitempty"`
	// Schedule of the learning rate (default constant).
	Schedule Schedule `json:"schedule,omitempty"`
	// BatchSize (default 64) and Epochs (default 10).
	BatchSize int `json:"batch_size,omitempty"`
	Epochs    int `json:"epochs,omitempty"`
	// Seed for initialisation, data order and dropout.
	Seed int64 `json:"seed,omitempty"`
	// LabelSmoothing ε and per-class ClassWeights (len = classes) of the loss.
	LabelSmoothing float64   `json:"label_smoothing,omitempty"`
	ClassWeights   []float32 `json:"class_weights,omitempty"`
	// Clip is the max global gradient norm (0: no clipping).
	Clip float64 `json:"clip,omitempty"`
	// EarlyStop stops when the monitored validation metric has not improved
	// for Patience epochs (Patience 0: never).
	EarlyStop EarlyStop `json:"early_stop,omitempty"`
	// Threads for GEMMs (default runtime.NumCPU()). Results are
	// deterministic for a given thread count.
	Threads int `json:"threads,omitempty"`
	// Fold computes the frozen leading layers of the head once over both
	// splits (in eval mode: dropout and batch statistics inside that prefix
	// no longer act) and trains the rest on the derived features.
	Fold bool `json:"fold,omitempty"`
	// FoldMemLimit is the largest derived dataset kept in RAM, in bytes
	// (default 1 GiB); larger ones go to a float32 temp file in RunDir (or
	// the system temp directory), removed at the end of Run.
	FoldMemLimit int64 `json:"fold_mem_limit,omitempty"`
	// SkipBadItems skips items with NaN/Inf features (with a warning each)
	// instead of failing.
	SkipBadItems bool `json:"skip_bad_items,omitempty"`
	// RunDir receives checkpoint.safetensors, checkpoint.json (and
	// frozen.safetensors) after every epoch; empty: no checkpoints.
	RunDir string `json:"-"`
	// Resume continues from RunDir's checkpoint when there is one.
	Resume bool `json:"-"`
	// Provenance is the caller's opaque description of the feature store
	// (e.g. its spec digest); it is stored in checkpoints, and resuming from
	// a checkpoint with a different provenance fails with ErrProvenance.
	Provenance json.RawMessage `json:"provenance,omitempty"`
	// Backbone holds pretrained weights for the vgg-classifier preset.
	Backbone map[string]*tensor.Tensor `json:"-"`
}

// EarlyStop configures early stopping.
type EarlyStop struct {
	// Metric is "valid_loss" (default) or "valid_acc".
	Metric   string `json:"metric,omitempty"`
	Patience int    `json:"patience,omitempty"`
	// RestoreBest puts the weights of the best epoch back into the head at
	// the end of Run (also into RunDir's checkpoint, whose optimizer state
	// and epoch count stay those of the last epoch). The best weights are
	// kept in RunDir/best.safetensors while training, so resumed runs keep
	// them. Needs a validation set.
	RestoreBest bool `json:"restore_best,omitempty"`
}

// withDefaults returns cfg with defaults filled in, or an error.
func (cfg Config) withDefaults() (Config, error) {
	switch cfg.Optimizer {
	case "":
		cfg.Optimizer = "sgd"
	case "sgd", "adam", "adamw":
	default:
		return cfg, fmt.Errorf("optimizer %q (want sgd, adam or adamw): %w", cfg.Optimizer, ErrConfig)
	}
	if cfg.LR == 0 {
		cfg.LR = 0.01
		if cfg.Optimizer != "sgd" {
			cfg.LR = 0.001
		}
	}
	if cfg.Momentum == 0 {
		cfg.Momentum = 0.9
	}
	if cfg.Optimizer == "adamw" && cfg.WeightDecay == 0 {
		cfg.WeightDecay = 0.01
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 64
	}
	if cfg.Epochs == 0 {
		cfg.Epochs = 10
	}
	if cfg.Threads <= 0 {
		cfg.Threads = runtime.NumCPU()
	}
	if cfg.FoldMemLimit == 0 {
		cfg.FoldMemLimit = 1 << 30
	}
	if cfg.EarlyStop.Metric == "" {
		cfg.EarlyStop.Metric = "valid_loss"
	}
	switch {
	case cfg.LR < 0 || cfg.BatchSize < 0 || cfg.Epochs < 0:
		return cfg, fmt.Errorf("lr %g, batch size %d, epochs %d: must not be negative: %w", cfg.LR, cfg.BatchSize, cfg.Epochs, ErrConfig)
	case cfg.LabelSmoothing < 0 || cfg.LabelSmoothing >= 1:
		return cfg, fmt.Errorf("label smoothing %g outside [0, 1): %w", cfg.LabelSmoothing, ErrConfig)
	case cfg.EarlyStop.Metric != "valid_loss" && cfg.EarlyStop.Metric != "valid_acc":
		return cfg, fmt.Errorf("early-stop metric %q (want valid_loss or valid_acc): %w", cfg.EarlyStop.Metric, ErrConfig)
	case cfg.Clip < 0:
		return cfg, fmt.Errorf("clip %g is negative: %w", cfg.Clip, ErrConfig)
	}
	if err := cfg.Schedule.Validate(); err != nil {
		return cfg, err
	}
	for i, w := range cfg.ClassWeights {
		if !(w >= 0) {
			return cfg, fmt.Errorf("class weight %d is %g: %w", i, w, ErrConfig)
		}
	}
	return cfg, nil
}

func (cfg Config) optimizer(params []*head.Param) Optimizer {
	mom, wd := cfg.Momentum, cfg.WeightDecay
	if mom < 0 {
		mom = 0
	}
	if wd < 0 {
		wd = 0
	}
	switch cfg.Optimizer {
	case "adam", "adamw":
		return &Adam{Params: params, WeightDecay: wd, Decoupled: cfg.Optimizer == "adamw"}
	}
	return &SGD{Params: params, Momentum: mom, Nesterov: cfg.Nesterov, WeightDecay: wd}
}
