package train

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/preconv/preconv/head"
)

// blobs returns a synthetic separable task: c Gaussian clusters in d
// dimensions (centres at distance ~3σ), n items, deterministic.
func blobs(n, d, c int, seed uint64) *MemDataset { return blobsScaled(n, d, c, seed, 1.5) }

// blobsScaled is blobs with centre coordinates drawn with standard
// deviation scale (noise has standard deviation 1).
func blobsScaled(n, d, c int, seed uint64, scale float64) *MemDataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	centres := make([]float32, c*d)
	for i := range centres {
		centres[i] = float32(rng.NormFloat64() * scale)
	}
	m := &MemDataset{X: make([]float32, n*d), Shape: []int{d}, Labels: make([]int, n)}
	for k := 0; k < c; k++ {
		m.ClassNames = append(m.ClassNames, string(rune('a'+k)))
	}
	for i := 0; i < n; i++ {
		y := i % c
		m.Labels[i] = y
		for j := 0; j < d; j++ {
			m.X[i*d+j] = centres[y*d+j] + float32(rng.NormFloat64())
		}
	}
	return m
}

func TestLearnsSynthetic(t *testing.T) {
	tr, va := blobs(600, 20, 3, 1), blobs(300, 20, 3, 1)
	// Same centres (same seed), fresh noise for validation.
	va2 := blobs(900, 20, 3, 1)
	va.X = va2.X[600*20:]
	va.Labels = va2.Labels[600:]
	for _, spec := range []head.Spec{{Preset: "linear"}, {Preset: "mlp", Hidden: []int{32}, BatchNorm: true, Dropout: 0.1}} {
		res, err := Run(context.Background(), Config{Head: spec, Epochs: 5, Seed: 3, Threads: 1, LR: 0.05}, tr, va)
		if err != nil {
			t.Fatal(err)
		}
		last := res.History[len(res.History)-1]
		if last.ValidAcc < 0.95 {
			t.Errorf("%s: valid acc %.3f after 5 epochs, want >= 0.95 (history %+v)", spec.Preset, last.ValidAcc, res.History)
		}
		if last.TrainLoss >= res.History[0].TrainLoss {
			t.Errorf("%s: train loss did not fall: %+v", spec.Preset, res.History)
		}
		m, err := Evaluate(context.Background(), res.Head, va, &EvalOptions{Names: func(i int) string { return "item" }, KeepProbs: true})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(m.Accuracy-last.ValidAcc) > 1e-12 {
			t.Errorf("Evaluate acc %v != history %v", m.Accuracy, last.ValidAcc)
		}
		sum := 0
		for _, row := range m.Confusion {
			for _, v := range row {
				sum += v
			}
		}
		if sum != 300 || len(m.Probs) != 900 {
			t.Errorf("confusion sums to %d, probs %d", sum, len(m.Probs))
		}
	}
}

func TestDeterministic(t *testing.T) {
	tr := blobs(200, 10, 2, 2)
	cfg := Config{Head: head.Spec{Preset: "mlp", Hidden: []int{8}, Dropout: 0.3}, Epochs: 2, Seed: 5, Threads: 1}
	a, err := Run(context.Background(), cfg, tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Run(context.Background(), cfg, tr, nil)
	if a.History[1].TrainLoss != b.History[1].TrainLoss {
		t.Errorf("not deterministic: %v vs %v", a.History[1].TrainLoss, b.History[1].TrainLoss)
	}
}

// TestResumeExact: 2 epochs, then resume to 4, equals 4 epochs straight.
func TestResumeExact(t *testing.T) {
	tr, va := blobs(200, 10, 3, 3), blobs(60, 10, 3, 3)
	prov := json.RawMessage(`{"store":"abc","digest":"123"}`)
	cfg := Config{Head: head.Spec{Preset: "mlp", Hidden: []int{8}, BatchNorm: true, Dropout: 0.2}, Optimizer: "adam", Epochs: 4, Seed: 9, Threads: 1, Provenance: prov, Schedule: Schedule{Kind: "cosine"}}
	straight, err := Run(context.Background(), cfg, tr, va)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c2 := cfg
	c2.RunDir = dir
	// "Crash" after epoch 2: cancel from the epoch hook.
	ctx, cancel := context.WithCancel(context.Background())
	crash := func(e Event) {
		if e.Kind == "epoch" && e.Epoch == 2 {
			cancel()
		}
	}
	if _, err := Run(ctx, c2, tr, va, crash); !errors.Is(err, context.Canceled) {
		t.Fatalf("crash run: %v", err)
	}
	c2.Resume = true
	resumed, err := Run(context.Background(), c2, tr, va)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.ResumedFrom != 2 || len(resumed.History) != 4 {
		t.Fatalf("resumed from %d, history %d", resumed.ResumedFrom, len(resumed.History))
	}
	if got, want := resumed.History[3].TrainLoss, straight.History[3].TrainLoss; got != want {
		t.Errorf("epoch 4 loss after resume %v, straight %v", got, want)
	}
	// Load the run dir as a head and predict.
	h, classes, _, err := head.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(classes) != 3 || len(h.Predict(va.X[:10], 1)) != 3 {
		t.Error("loaded head wrong")
	}
	var cp Checkpoint
	b, _ := os.ReadFile(filepath.Join(dir, CheckpointJSON))
	if err := json.Unmarshal(b, &cp); err != nil || cp.Epoch != 4 || len(cp.History) != 4 {
		t.Errorf("checkpoint.json: %v %+v", err, cp)
	}
	// Another store's checkpoint is refused.
	c2.Provenance = json.RawMessage(`{"store":"other"}`)
	if _, err := Run(context.Background(), c2, tr, va); !errors.Is(err, ErrProvenance) {
		t.Errorf("different provenance: err = %v", err)
	}
}

type nanDS struct {
	*MemDataset
	bad int
}

func (d nanDS) Read(idx []int, dst []float32) error {
	if err := d.MemDataset.Read(idx, dst); err != nil {
		return err
	}
	dim := d.Shape[0]
	for k, i := range idx {
		if i == d.bad {
			dst[k*dim+1] = float32(math.NaN())
		}
	}
	return nil
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Epochs: 1, Threads: 1}
	tr := blobs(50, 4, 2, 4)
	if _, err := Run(ctx, cfg, &MemDataset{Shape: []int{4}, ClassNames: []string{"a", "b"}}, nil); !errors.Is(err, ErrData) {
		t.Errorf("empty: %v", err)
	}
	bad := *tr
	bad.Labels = append([]int(nil), tr.Labels...)
	bad.Labels[7] = 5
	if _, err := Run(ctx, cfg, &bad, nil); !errors.Is(err, ErrData) {
		t.Errorf("label out of range: %v", err)
	}
	if _, err := Run(ctx, cfg, nanDS{tr, 13}, nil); !errors.Is(err, ErrData) {
		t.Errorf("NaN: %v", err)
	}
	c2 := cfg
	c2.SkipBadItems = true
	res, err := Run(ctx, c2, nanDS{tr, 13}, nil)
	if err != nil || len(res.SkippedTrain) != 1 || res.SkippedTrain[0] != 13 {
		t.Errorf("NaN skip: %v %+v", err, res)
	}
	va := blobs(10, 4, 2, 4)
	va.Labels = make([]int, 10) // class "b" absent
	res, err = Run(ctx, cfg, tr, va)
	if err != nil || len(res.Warnings) == 0 {
		t.Errorf("absent class: err %v warnings %v", err, res)
	}
	if _, err := Run(ctx, Config{Optimizer: "rmsprop"}, tr, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("bad optimizer: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Run(cctx, cfg, tr, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestFoldSameAsUnfolded: with no dropout in the frozen prefix, folded and
// unfolded training give the same result (up to float rounding).
func TestFoldSameAsUnfolded(t *testing.T) {
	tr, va := blobs(128, 12, 3, 5), blobs(30, 12, 3, 5)
	cfg := Config{Head: head.Spec{Preset: "mlp", Hidden: []int{16, 8}, TrainLayers: []string{"4"}}, Epochs: 2, Seed: 1, Threads: 1}
	a, err := Run(context.Background(), cfg, tr, va)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Fold = true
	b, err := Run(context.Background(), cfg, tr, va)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Folded || b.FoldedUpTo != 4 {
		t.Fatalf("folded %v up to %d", b.Folded, b.FoldedUpTo)
	}
	if d := math.Abs(a.History[1].ValidLoss - b.History[1].ValidLoss); d > 1e-5 {
		t.Errorf("valid loss unfolded %v folded %v", a.History[1].ValidLoss, b.History[1].ValidLoss)
	}
	// Spilled to a temp file.
	cfg.FoldMemLimit = 16
	c, err := Run(context.Background(), cfg, tr, va)
	if err != nil {
		t.Fatal(err)
	}
	if c.History[1].ValidLoss != b.History[1].ValidLoss {
		t.Errorf("file-backed fold %v vs memory %v", c.History[1].ValidLoss, b.History[1].ValidLoss)
	}
}

func TestEarlyStop(t *testing.T) {
	tr, va := blobs(100, 4, 2, 6), blobs(40, 4, 2, 7) // different centres: validation does not improve for long
	res, err := Run(context.Background(), Config{Epochs: 50, Threads: 1, LR: 0.5, EarlyStop: EarlyStop{Patience: 2}}, tr, va)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != "early-stopped" || len(res.History) != res.BestEpoch+2 {
		t.Errorf("stopped %q after %d epochs, best %d", res.Stopped, len(res.History), res.BestEpoch)
	}
}

func TestRestoreBest(t *testing.T) {
	tr, va := blobs(100, 4, 2, 6), blobs(40, 4, 2, 7)
	dir := t.TempDir()
	res, err := Run(context.Background(), Config{Epochs: 8, Threads: 1, LR: 0.5, RunDir: dir, EarlyStop: EarlyStop{Metric: "valid_acc", Patience: 3, RestoreBest: true}}, tr, va)
	if err != nil {
		t.Fatal(err)
	}
	if !res.RestoredBest || res.BestEpoch == 0 || res.BestEpoch == len(res.History) {
		t.Fatalf("restored %v best %d", res.RestoredBest, res.BestEpoch)
	}
	m, err := Evaluate(context.Background(), res.Head, va, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := res.History[res.BestEpoch-1].ValidLoss; math.Abs(m.Loss-want) > 1e-12 {
		t.Errorf("restored head loss %v, best epoch %d had %v", m.Loss, res.BestEpoch, want)
	}
	h, _, _, err := head.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	m2, _ := Evaluate(context.Background(), h, va, nil)
	if m2.Loss != m.Loss {
		t.Errorf("run dir head loss %v, restored %v", m2.Loss, m.Loss)
	}
}
