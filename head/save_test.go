package head

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func TestSaveLoad(t *testing.T) {
	h, err := New(Spec{Preset: "mlp", Hidden: []int{5}, BatchNorm: true, TrainLayers: []string{"3"}}, []int{3}, 2, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Non-default running stats must survive.
	h.Layers[1].(*BatchNorm1d).RunningMean.Data[2] = 0.75
	dir := t.TempDir()
	if err := SaveDir(dir, h, []string{"cat", "dog"}, map[string]string{"x": "y"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, FrozenFile)); err != nil {
		t.Fatal("frozen file missing:", err)
	}
	g, classes, meta, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if classes[1] != "dog" || meta["x"] != "y" {
		t.Errorf("classes %v meta %v", classes, meta)
	}
	x := randSlice(rand.New(rand.NewPCG(1, 1)), 4*3, 1)
	p1, p2 := h.Predict(x, 4), g.Predict(x, 4)
	for i := range p1 {
		if p1[i] != p2[i] {
			t.Fatalf("prediction %d differs: %v vs %v", i, p1[i], p2[i])
		}
	}
	if g.Layers[1].(*BatchNorm1d).RunningMean.Data[2] != 0.75 {
		t.Error("running mean lost")
	}
	os.Remove(filepath.Join(dir, FrozenFile))
	if _, _, _, err := Load(dir); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("missing frozen: err = %v", err)
	}
}

func TestSpecErrors(t *testing.T) {
	for _, s := range []Spec{{Preset: "nope"}, {Preset: "vgg-classifier"}, {Preset: "mlp", Hidden: []int{0}}, {Preset: "linear", TrainLayers: []string{"4"}}} {
		if _, err := New(s, []int{8}, 3, 1, nil); !errors.Is(err, ErrSpec) {
			t.Errorf("%+v: err = %v", s, err)
		}
	}
}
