package transfer_test

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/bench/transfer"
	"github.com/preconv/preconv/extract"
	"github.com/preconv/preconv/head"
	"github.com/preconv/preconv/store"
	"github.com/preconv/preconv/tensor"
	"github.com/preconv/preconv/train"
)

var ctx = context.Background()

// folder writes root/{a,b}/NN.png, perClass each; class b is bluer, with
// per-image noise so the task is learnable but not trivial.
func folder(t *testing.T, perClass int) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "data")
	for c, name := range []string{"a", "b"} {
		os.MkdirAll(filepath.Join(root, name), 0o755)
		for i := 0; i < perClass; i++ {
			img := image.NewNRGBA(image.Rect(0, 0, 10, 9))
			for y := 0; y < 9; y++ {
				for x := 0; x < 10; x++ {
					n := uint8((x*37 + y*59 + i*101 + c*13) % 97)
					img.Set(x, y, color.NRGBA{100 + n, 80 + n/2, uint8(60+60*c) + n, 255})
				}
			}
			f, err := os.Create(filepath.Join(root, name, string(rune('a'+i))+".png"))
			if err != nil {
				t.Fatal(err)
			}
			png.Encode(f, img)
			f.Close()
		}
	}
	return root
}

func runBench(t *testing.T) (*transfer.Result, string) {
	t.Helper()
	work := t.TempDir()
	root := folder(t, 10)
	b, err := backbone.Open(ctx, "pixels", backbone.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ecfg := extract.Config{Data: root, ValidFraction: 0.3, Size: 4, Batch: 4, Workers: 1, Threads: 1}
	ds, err := extract.LoadDataset(ctx, ecfg)
	if err != nil {
		t.Fatal(err)
	}
	var logged int
	res, err := transfer.Run(ctx, transfer.Options{Extract: ecfg,
		Train:   train.Config{Epochs: 2, BatchSize: 4, Seed: 3, Threads: 1, LR: 0.05},
		WorkDir: work, Log: func(string, ...any) { logged++ }}, b, ds)
	if err != nil {
		t.Fatal(err)
	}
	if logged == 0 {
		t.Error("nothing logged")
	}
	return res, work
}

func TestSmallRun(t *testing.T) {
	res, _ := runBench(t)
	if res.Items != 20 || res.TrainItems+res.ValidItems != 20 || res.ValidItems == 0 || res.Epochs != 2 {
		t.Errorf("counts %+v", res)
	}
	for name, acc := range map[string]float64{"naive": res.NaiveAcc, "cached": res.CachedAcc} {
		if acc < 0 || acc > 1 {
			t.Errorf("%s accuracy %v", name, acc)
		}
	}
	if res.NaiveSec <= 0 || res.CachedSec <= 0 || res.ExtractSec <= 0 || res.CachedTrain <= 0 || res.Speedup <= 0 {
		t.Errorf("times %+v", res)
	}
	if res.CachedSec < res.ExtractSec || res.CachedSec < res.CachedTrain {
		t.Errorf("cached total %v below its parts %v + %v", res.CachedSec, res.ExtractSec, res.CachedTrain)
	}
	if len(res.FeatureShape) != 3 || res.FeatureShape[1] != 4 {
		t.Errorf("feature shape %v", res.FeatureShape)
	}
	t.Logf("naive acc %.4f, cached acc %.4f", res.NaiveAcc, res.CachedAcc)
}

// TestSameAccuracy checks the package's claim that both paths read the
// same data in the same order and so train the same head. (Before a080e98
// the cached path trained in store.Store.EpochOrder and the naive path in
// train's seeded order, and the heads differed by ~0.12 relative.)
func TestSameAccuracy(t *testing.T) {
	res, work := runBench(t)
	if res.NaiveAcc != res.CachedAcc {
		t.Errorf("naive accuracy %v != cached %v", res.NaiveAcc, res.CachedAcc)
	}
	// Accuracy saturates on this small task; the heads themselves must agree.
	naive, _, _, err := head.Load(filepath.Join(work, "run-naive"))
	if err != nil {
		t.Fatal(err)
	}
	cached, _, _, err := head.Load(filepath.Join(work, "run-cached"))
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 5*3*4*4)
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	if d := tensor.MaxRelErr(naive.Predict(x, 5), cached.Predict(x, 5)); d > 1e-5 {
		t.Errorf("naive and cached heads differ: rel err %g on the same input", d)
	}
}

// ordered is a MemDataset that trains in another dataset's epoch order.
type ordered struct {
	*train.MemDataset
	order func(seed int64, epoch int) []int
}

func (o ordered) EpochOrder(seed int64, epoch int) []int { return o.order(seed, epoch) }

// TestOrderExplainsDifference backs the fix proposed for TestSameAccuracy:
// the same features in memory, trained in the store's EpochOrder, give the
// same head as training on the store itself.
func TestOrderExplainsDifference(t *testing.T) {
	root := folder(t, 10)
	b, err := backbone.Open(ctx, "pixels", backbone.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ecfg := extract.Config{Data: root, Out: filepath.Join(t.TempDir(), "s"), ValidFraction: 0.3, Size: 4, Workers: 1, Threads: 1}
	ds, err := extract.LoadDataset(ctx, ecfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := extract.Run(ctx, ecfg, b, ds); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(ecfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	tr := s.Split("train")
	idx := make([]int, tr.Len())
	labels := make([]int, tr.Len())
	for i := range idx {
		idx[i] = i
		labels[i] = tr.Label(i)
	}
	x := make([]float32, tr.Len()*48)
	if err := tr.Read(idx, x); err != nil {
		t.Fatal(err)
	}
	mem := &train.MemDataset{X: x, Labels: labels, Shape: tr.FeatureShape(), ClassNames: tr.Classes()}
	cfg := train.Config{Epochs: 2, BatchSize: 4, Seed: 3, Threads: 1, LR: 0.05}
	a, err := train.Run(ctx, cfg, tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	same, err := train.Run(ctx, cfg, ordered{mem, tr.EpochOrder}, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := train.Run(ctx, cfg, mem, nil)
	if err != nil {
		t.Fatal(err)
	}
	probe := make([]float32, 5*48)
	for i := range probe {
		probe[i] = float32(i%7) / 7
	}
	pa := a.Head.Predict(probe, 5)
	if d := tensor.MaxRelErr(same.Head.Predict(probe, 5), pa); d != 0 {
		t.Errorf("same order, same features: heads differ by %g", d)
	}
	if d := tensor.MaxRelErr(plain.Head.Predict(probe, 5), pa); d == 0 {
		t.Errorf("MemDataset's own order gave the store's head: the known-bug test is moot")
	}
}

// TestF16Refused: the naive path cannot reproduce f16-rounded features, so
// an f16 run is refused (today only after the cached path has run; see the
// report: the check belongs at the top of Run).
func TestF16Refused(t *testing.T) {
	root := folder(t, 3)
	b, err := backbone.Open(ctx, "pixels", backbone.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ecfg := extract.Config{Data: root, ValidFraction: 0.3, Size: 4, DType: "f16", Workers: 1, Threads: 1}
	ds, err := extract.LoadDataset(ctx, ecfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = transfer.Run(ctx, transfer.Options{Extract: ecfg, Train: train.Config{Epochs: 1, Threads: 1}, WorkDir: t.TempDir()}, b, ds)
	if err == nil || !strings.Contains(err.Error(), "f32") {
		t.Errorf("f16: %v, want an error asking for f32", err)
	}
}
