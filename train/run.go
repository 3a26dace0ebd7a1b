package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/preconv/preconv/head"
	"github.com/preconv/preconv/safetensors"
	"github.com/preconv/preconv/tensor"
)

// EpochMetrics are one epoch's numbers.
type EpochMetrics struct {
	Epoch     int     `json:"epoch"` // 1-based
	LR        float64 `json:"lr"`    // at the epoch's first step
	TrainLoss float64 `json:"train_loss"`
	TrainAcc  float64 `json:"train_acc"`
	ValidLoss float64 `json:"valid_loss"`
	ValidAcc  float64 `json:"valid_acc"`
	Seconds   float64 `json:"seconds"`
	// ItemsPerSec is training throughput (excluding validation).
	ItemsPerSec float64 `json:"items_per_sec"`
}

// Event is reported to hooks: Kind "batch" after each training step,
// "epoch" after each epoch (with Metrics), "fold" when the frozen prefix
// has been folded, "warning" with Message.
type Event struct {
	Kind           string
	Epoch, Epochs  int // Epoch is 1-based
	Batch, Batches int // Batch is 1-based
	Loss           float64
	Metrics        *EpochMetrics
	Message        string
}

// Hook observes training; it runs on the training goroutine (keep it cheap).
type Hook func(Event)

// Result is what Run returns.
type Result struct {
	Head    *head.Head
	Classes []string
	History []EpochMetrics
	// BestEpoch (1-based) by the early-stopping metric; 0 without validation.
	BestEpoch int
	// Stopped is "completed" or "early-stopped".
	Stopped string
	// Warnings that did not stop training (absent classes, skipped items,
	// folding notes).
	Warnings []string
	// Folded reports whether the frozen prefix was folded, up to layer
	// FoldedUpTo (exclusive), and how long folding took.
	Folded      bool
	FoldedUpTo  int
	FoldSeconds float64
	// Skipped lists training/validation items left out (SkipBadItems).
	SkippedTrain, SkippedValid []int
	// ResumedFrom is the number of epochs loaded from a checkpoint.
	ResumedFrom int
	// RestoredBest reports that the head holds the best epoch's weights
	// (EarlyStop.RestoreBest).
	RestoredBest bool
}

// BestFile holds the best epoch's non-frozen parameters and buffers
// (EarlyStop.RestoreBest) inside a run directory.
const BestFile = "best.safetensors"

// snapshot copies h's non-frozen parameters and buffers.
func snapshot(h *head.Head) map[*head.Param][]float32 {
	m := map[*head.Param][]float32{}
	for _, p := range h.Params() {
		if !p.Frozen {
			m[p] = append([]float32(nil), p.Data...)
		}
	}
	return m
}

// loadBest reads BestFile (nil, nil when absent).
func loadBest(path string, h *head.Head) (map[*head.Param][]float32, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, nil
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	m := map[*head.Param][]float32{}
	for _, p := range h.Params() {
		if p.Frozen {
			continue
		}
		t, err := f.Tensor(p.Name)
		if err != nil || len(t.Data) != len(p.Data) {
			return nil, fmt.Errorf("%s: tensor %q missing or of wrong size: %w", path, p.Name, ErrCheckpoint)
		}
		m[p] = t.Data
	}
	return m, nil
}

func seededOrder(n int, seed int64, epoch int) []int {
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(epoch)+0x9e37))
	return rng.Perm(n)
}

// checkDataset validates a split's class list, shape and labels.
func checkDataset(name string, ds Dataset, classes []string, shape []int) error {
	if ds.Len() == 0 {
		return fmt.Errorf("%s set is empty: %w", name, ErrData)
	}
	if strings.Join(ds.Classes(), "\x00") != strings.Join(classes, "\x00") {
		return fmt.Errorf("%s set classes %v differ from training classes %v: %w", name, ds.Classes(), classes, ErrData)
	}
	if !tensor.SameShape(ds.FeatureShape(), shape) {
		return fmt.Errorf("%s set feature shape %v differs from training %v: %w", name, ds.FeatureShape(), shape, ErrData)
	}
	for i := 0; i < ds.Len(); i++ {
		if y := ds.Label(i); y < 0 || y >= len(classes) {
			return fmt.Errorf("%s set item %d: label %d outside the %d classes %v: %w", name, i, y, len(classes), classes, ErrData)
		}
	}
	return nil
}

// Run trains a head on trainDS, validating on validDS (may be nil) after
// every epoch. It streams mini-batches (one batch of prefetch), in the
// dataset's EpochOrder when it implements Orderer, else a permutation seeded
// by (Seed, epoch). With cfg.RunDir it checkpoints after each epoch and,
// with cfg.Resume, continues from the last checkpoint. It stops early on
// ctx cancellation (returning ctx.Err() and the result so far).
func Run(ctx context.Context, cfg Config, trainDS, validDS Dataset, hooks ...Hook) (*Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	emit := func(e Event) {
		for _, h := range hooks {
			h(e)
		}
	}
	res := &Result{Stopped: "completed"}
	warn := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		res.Warnings = append(res.Warnings, msg)
		emit(Event{Kind: "warning", Message: msg})
	}
	if trainDS == nil || trainDS.Len() == 0 {
		return nil, fmt.Errorf("training set is empty: %w", ErrData)
	}
	classes := trainDS.Classes()
	shape := trainDS.FeatureShape()
	if len(classes) < 2 {
		return nil, fmt.Errorf("training set has %d classes %v, need at least 2: %w", len(classes), classes, ErrData)
	}
	if err := checkDataset("training", trainDS, classes, shape); err != nil {
		return nil, err
	}
	if validDS != nil {
		if err := checkDataset("validation", validDS, classes, shape); err != nil {
			return nil, err
		}
		seen := make([]bool, len(classes))
		for i := 0; i < validDS.Len(); i++ {
			seen[validDS.Label(i)] = true
		}
		for k, s := range seen {
			if !s {
				warn("class %q has no validation items: its recall cannot be measured", classes[k])
			}
		}
	}
	if cfg.ClassWeights != nil && len(cfg.ClassWeights) != len(classes) {
		return nil, fmt.Errorf("%d class weights for %d classes: %w", len(cfg.ClassWeights), len(classes), ErrConfig)
	}
	h, err := head.New(cfg.Head, shape, len(classes), cfg.Seed, cfg.Backbone)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	h.Threads = cfg.Threads
	res.Head, res.Classes = h, classes
	cfg.Head = h.Spec
	opt := cfg.optimizer(h.Trainable())
	if len(h.Trainable()) == 0 {
		return nil, fmt.Errorf("head has no trainable parameters: %w", ErrConfig)
	}
	cp := &Checkpoint{Provenance: cfg.Provenance, Classes: classes, Config: cfg}
	frozenWritten := false
	var best map[*head.Param][]float32
	if cfg.RunDir != "" {
		if err := os.MkdirAll(cfg.RunDir, 0o755); err != nil {
			return nil, err
		}
		if cfg.Resume {
			old, err := readCheckpoint(cfg.RunDir, h, opt, cfg.Provenance, classes)
			if err != nil {
				return nil, err
			}
			if old != nil {
				old.Config, old.Provenance = cfg, cfg.Provenance
				cp = old
				res.ResumedFrom = cp.Epoch
				if cfg.EarlyStop.RestoreBest {
					if best, err = loadBest(filepath.Join(cfg.RunDir, BestFile), h); err != nil {
						return nil, err
					}
				}
				frozenWritten = true
			}
		}
	}

	if st := h.Standardizer(); st != nil && res.ResumedFrom == 0 {
		if err := st.FitStandardize(ctx, trainDS); err != nil {
			return nil, fmt.Errorf("standardizing features over the training set: %w", err)
		}
	}

	// Frozen-prefix folding.
	trainH, tds, vds := h, trainDS, validDS
	first := h.FirstTrainable()
	if cfg.Fold && first > 0 {
		t0 := time.Now()
		tmp := cfg.RunDir
		ft, sk, err := fold(ctx, h, first, trainDS, 512, cfg.FoldMemLimit, tmp, cfg.SkipBadItems)
		if err != nil {
			return nil, fmt.Errorf("folding frozen layers over the training set: %w", err)
		}
		defer ft.close()
		res.SkippedTrain = sk
		tds = ft
		if validDS != nil {
			fv, sk, err := fold(ctx, h, first, validDS, 512, cfg.FoldMemLimit, tmp, cfg.SkipBadItems)
			if err != nil {
				return nil, fmt.Errorf("folding frozen layers over the validation set: %w", err)
			}
			defer fv.close()
			res.SkippedValid = sk
			vds = fv
		}
		trainH = &head.Head{Spec: h.Spec, Layers: h.Layers[first:], Classes: h.Classes, InShape: []int{h.Layers[first-1].Out()}, Threads: h.Threads}
		res.Folded, res.FoldedUpTo, res.FoldSeconds = true, first, time.Since(t0).Seconds()
		cp.Folded = true
		var kinds []string
		hasDropout := false
		for _, l := range h.Layers[:first] {
			kinds = append(kinds, l.Kind())
			if l.Kind() == "Dropout" || l.Kind() == "BatchNorm1d" {
				hasDropout = true
			}
		}
		msg := fmt.Sprintf("folded frozen layers 0..%d (%s) once in eval mode (%.1fs); training layers %d.. on %d-d derived features", first-1, strings.Join(kinds, ", "), res.FoldSeconds, first, h.Layers[first-1].Out())
		if hasDropout {
			msg += "; dropout/batch statistics inside the folded prefix no longer act"
		}
		warn("%s", msg)
		emit(Event{Kind: "fold", Message: msg})
	}
	skipTrain := map[int]bool{}
	for _, i := range res.SkippedTrain {
		skipTrain[i] = true
	}

	evalH := trainH
	// The leading frozen layers without batch statistics (Linear, ReLU,
	// Flatten, Dropout) are run on super-batches of superK mini-batches,
	// dropout masks drawn per mini-batch with that mini-batch's step: the
	// result is identical to mini-batch by mini-batch, and the GEMMs are far
	// more efficient with more rows (the seed's frozen 25088×4096 and
	// 4096×4096 layers dominate its epoch time).
	var pre *head.Head
	var scratch [2][]float32
	superK := 1
	if det := deterministicPrefix(trainH); det > 0 {
		pre = &head.Head{Layers: trainH.Layers[:det], Classes: trainH.Layers[det-1].Out(), InShape: trainH.InShape, Threads: trainH.Threads}
		trainH = &head.Head{Spec: trainH.Spec, Layers: trainH.Layers[det:], Classes: trainH.Classes, InShape: []int{pre.Classes}, Threads: trainH.Threads}
		superK = max(1, 512/cfg.BatchSize)
	}
	st := &stepper{h: trainH, opt: opt, clip: cfg.Clip, loss: head.Loss{Smoothing: cfg.LabelSmoothing, Weights: cfg.ClassWeights}}
	n := trainDS.Len() - len(skipTrain)
	if n <= 0 {
		return nil, fmt.Errorf("every training item was skipped: %w", ErrData)
	}
	stepsPerEpoch := (n + cfg.BatchSize - 1) / cfg.BatchSize
	res.History = cp.History
	for epoch := cp.Epoch; epoch < cfg.Epochs; epoch++ {
		if cfg.EarlyStop.Patience > 0 && cp.BestEpoch > 0 && epoch-cp.BestEpoch >= cfg.EarlyStop.Patience {
			res.Stopped = "early-stopped"
			break
		}
		t0 := time.Now()
		var order []int
		if o, ok := tds.(Orderer); ok {
			order = o.EpochOrder(cfg.Seed, epoch)
		} else {
			order = seededOrder(tds.Len(), cfg.Seed, epoch)
		}
		if len(skipTrain) > 0 {
			kept := order[:0:0]
			for _, i := range order {
				if !skipTrain[i] {
					kept = append(kept, i)
				}
			}
			order = kept
		}
		em := EpochMetrics{Epoch: epoch + 1}
		r := newBatchReader(ctx, tds, order, cfg.BatchSize*superK, cfg.SkipBadItems)
		var lossSum float64
		var correct, seen, bi int
		for {
			b, ok := r.next()
			if !ok {
				break
			}
			if b.err != nil {
				r.close()
				return res, fmt.Errorf("epoch %d: %w", epoch+1, b.err)
			}
			x, dim := b.x, tds.FeatureShape()
			d := tensor.Numel(dim)
			if pre != nil && len(b.idx) > 0 {
				x = prefixForward(pre, b.x, len(b.idx), cfg.BatchSize, cp.Step, cfg.Threads, &scratch)
				d = pre.Layers[len(pre.Layers)-1].Out()
			}
			for s := 0; s < len(b.idx); s += cfg.BatchSize {
				e := min(s+cfg.BatchSize, len(b.idx))
				lr, mom := cfg.Schedule.At(cfg.LR, epoch, int(cp.Step), cfg.Epochs, stepsPerEpoch)
				if bi == 0 {
					em.LR = lr
				}
				l, c := st.step(&head.Exec{Threads: cfg.Threads, Step: cp.Step}, x[s*d:e*d], b.labels[s:e], lr, mom)
				if math.IsNaN(l) || math.IsInf(l, 0) {
					r.close()
					return res, fmt.Errorf("epoch %d batch %d: loss is %v (learning rate %g too high?): %w", epoch+1, bi+1, l, lr, ErrData)
				}
				cp.Step++
				bi++
				lossSum += l * float64(e-s)
				correct += c
				seen += e - s
				emit(Event{Kind: "batch", Epoch: epoch + 1, Epochs: cfg.Epochs, Batch: bi, Batches: stepsPerEpoch, Loss: l})
			}
			r.release(b)
			if err := ctx.Err(); err != nil {
				r.close()
				return res, err
			}
		}
		r.close()
		if err := ctx.Err(); err != nil {
			return res, err
		}
		for _, i := range r.skipped {
			if !skipTrain[i] {
				skipTrain[i] = true
				res.SkippedTrain = append(res.SkippedTrain, i)
				warn("training item %d skipped: NaN/Inf features", i)
			}
		}
		trainSecs := time.Since(t0).Seconds()
		em.TrainLoss = lossSum / float64(max(seen, 1))
		em.TrainAcc = float64(correct) / float64(max(seen, 1))
		em.ItemsPerSec = float64(seen) / trainSecs
		if vds != nil {
			m, err := Evaluate(ctx, evalH, vds, &EvalOptions{TopK: -1, Loss: st.loss, SkipBadItems: cfg.SkipBadItems})
			if err != nil {
				return res, fmt.Errorf("epoch %d validation: %w", epoch+1, err)
			}
			em.ValidLoss, em.ValidAcc = m.Loss, m.Accuracy
			if epoch == cp.Epoch && len(m.Skipped) > 0 && res.SkippedValid == nil {
				res.SkippedValid = m.Skipped
				warn("%d validation items skipped: NaN/Inf features", len(m.Skipped))
			}
			v := em.ValidLoss
			better := cp.BestEpoch == 0 || v < cp.BestValue
			if cfg.EarlyStop.Metric == "valid_acc" {
				v = em.ValidAcc
				better = cp.BestEpoch == 0 || v > cp.BestValue
			}
			if better {
				cp.BestValue, cp.BestEpoch = v, epoch+1
				if cfg.EarlyStop.RestoreBest {
					best = snapshot(h)
					if cfg.RunDir != "" {
						if err := safetensors.WriteFile(filepath.Join(cfg.RunDir, BestFile), h.Entries(false), h.Metadata(classes, nil)); err != nil {
							return res, fmt.Errorf("epoch %d best weights: %w", epoch+1, err)
						}
					}
				}
			}
		}
		em.Seconds = time.Since(t0).Seconds()
		cp.History = append(cp.History, em)
		cp.Epoch = epoch + 1
		_, cp.OptSteps = opt.State()
		res.History = cp.History
		res.BestEpoch = cp.BestEpoch
		if cfg.RunDir != "" {
			if err := writeCheckpoint(cfg.RunDir, h, opt, cp, !frozenWritten); err != nil {
				return res, fmt.Errorf("epoch %d checkpoint: %w", epoch+1, err)
			}
			frozenWritten = true
		}
		emit(Event{Kind: "epoch", Epoch: epoch + 1, Epochs: cfg.Epochs, Metrics: &em})
	}
	res.BestEpoch = cp.BestEpoch
	if best != nil {
		for p, v := range best {
			copy(p.Data, v)
		}
		res.RestoredBest = true
		if cfg.RunDir != "" {
			if err := writeCheckpoint(cfg.RunDir, h, opt, cp, false); err != nil {
				return res, fmt.Errorf("checkpoint with best weights: %w", err)
			}
		}
	}
	return res, nil
}

// deterministicPrefix returns how many leading layers of h are frozen and
// have no batch statistics (Linear, ReLU, Flatten, Dropout), provided they
// include a Linear (otherwise 0: nothing to gain).
func deterministicPrefix(h *head.Head) int {
	first := h.FirstTrainable()
	n, linear := 0, false
	for _, l := range h.Layers[:first] {
		switch l.Kind() {
		case "Linear":
			linear = true
		case "ReLU", "Flatten", "Dropout":
		default:
			return map[bool]int{true: n, false: 0}[linear]
		}
		n++
	}
	if !linear {
		return 0
	}
	return n
}

// prefixForward runs the frozen prefix in training mode on a super-batch
// of n items: Dropout layers run per mini-batch of bs items with step
// step0+k for the k-th mini-batch (exactly the masks a per-mini-batch pass
// draws), the other layers on all n rows at once.
func prefixForward(pre *head.Head, x []float32, n, bs int, step0 int64, threads int, scratch *[2][]float32) []float32 {
	for li, l := range pre.Layers {
		d, ok := l.(*head.Dropout)
		if !ok || d.P <= 0 {
			x = l.Forward(&head.Exec{Threads: threads, Train: true}, x, n)
			continue
		}
		dim := l.In()
		buf := grow(scratch[li%2], n*dim)
		scratch[li%2] = buf
		for s, k := 0, int64(0); s < n; s, k = s+bs, k+1 {
			e := min(s+bs, n)
			y := l.Forward(&head.Exec{Threads: threads, Train: true, Step: step0 + k}, x[s*dim:e*dim], e-s)
			copy(buf[s*dim:e*dim], y)
		}
		x = buf
	}
	return x
}
