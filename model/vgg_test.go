package model_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"testing"

	"github.com/preconv/preconv/model"
	"github.com/preconv/preconv/model/torch"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/safetensors"
	"github.com/preconv/preconv/tensor"
)

type ioIndex struct {
	Cfg       []any `json:"cfg"`
	BatchNorm bool  `json:"batch_norm"`
	Hidden    int   `json:"hidden"`
	Classes   int   `json:"classes"`
	Input     struct {
		Shape  []int `json:"shape"`
		Offset int   `json:"offset"`
	} `json:"input"`
	Taps map[string]struct {
		Shape  []int `json:"shape"`
		Offset int   `json:"offset"`
	} `json:"taps"`
}

// loadIO reads testdata/<name>_io.{json,bin}, written by
// testdata/gen_vgg_parity.py (torchvision VGG/make_layers, torch 1.13).
func loadIO(t *testing.T, name string) (ioIndex, *tensor.Tensor, map[string]*tensor.Tensor) {
	t.Helper()
	var idx ioIndex
	raw, err := os.ReadFile("testdata/" + name + "_io.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile("testdata/" + name + "_io.bin")
	if err != nil {
		t.Fatal(err)
	}
	f := make([]float32, len(bin)/4)
	for i := range f {
		f[i] = math.Float32frombits(binary.LittleEndian.Uint32(bin[4*i:]))
	}
	slice := func(shape []int, off int) *tensor.Tensor {
		return tensor.FromData(f[off:off+tensor.Numel(shape)], shape...)
	}
	x := slice(idx.Input.Shape, idx.Input.Offset)
	taps := map[string]*tensor.Tensor{}
	for k, v := range idx.Taps {
		taps[k] = slice(v.Shape, v.Offset)
	}
	return idx, x, taps
}

func smallVGG(t *testing.T, idx ioIndex) *model.Graph {
	var layers []int
	for _, v := range idx.Cfg {
		switch v := v.(type) {
		case string:
			layers = append(layers, model.M)
		case float64:
			layers = append(layers, int(v))
		}
	}
	g, err := model.NewVGG(model.VGGConfig{Name: "vggs", Layers: layers, BatchNorm: idx.BatchNorm, Hidden: idx.Hidden, NumClasses: idx.Classes})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestVGGParity loads the .pth files (zip and legacy) of a reduced-width
// torchvision VGG, with and without batch norm, and compares every tap
// torch recorded, for the graph as loaded and for its fused form.
func TestVGGParity(t *testing.T) {
	for _, name := range []string{"vggs", "vggs_bn"} {
		idx, x, want := loadIO(t, name)
		for _, file := range []string{name + ".pth", name + "_legacy.pth"} {
			sd, err := torch.Load("testdata/" + file)
			if err != nil {
				t.Fatal(err)
			}
			g := smallVGG(t, idx)
			if err := g.LoadStateDict(sd, true); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			var taps []string
			for k := range want {
				taps = append(taps, k)
			}
			for _, threads := range []int{1, 2} {
				e := &nn.Exec{Threads: threads}
				got, err := g.Run(e, x, taps...)
				if err != nil {
					t.Fatal(err)
				}
				for k, w := range want {
					checkTap(t, file+" "+k, got[k], w)
				}
				fused, err := g.Fuse()
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for k, w := range want {
					if _, err := fused.Resolve(k); err != nil {
						continue // absorbed by fusion
					}
					y, err := fused.Forward(e, x, k)
					if err != nil {
						t.Fatal(err)
					}
					checkTap(t, file+" fused "+k, y, w)
					n++
				}
				if n < 5 {
					t.Errorf("%s: only %d taps survive fusion", file, n)
				}
			}
		}
	}
}

func checkTap(t *testing.T, what string, got, want *tensor.Tensor) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: no output", what)
		return
	}
	if !tensor.SameShape(got.Shape, want.Shape) {
		t.Errorf("%s: shape %v, torch %v", what, got.Shape, want.Shape)
		return
	}
	if e := tensor.MaxRelErr(got.Data, want.Data); e > 1e-4 {
		t.Errorf("%s: max rel err %.3g > 1e-4", what, e)
	}
}

func TestLoadStateDictErrors(t *testing.T) {
	idx, _, _ := loadIO(t, "vggs_bn")
	sd, err := torch.Load("testdata/vggs_bn.pth")
	if err != nil {
		t.Fatal(err)
	}
	g := smallVGG(t, idx)
	w := sd["features.0.weight"]
	delete(sd, "features.0.weight")
	sd["extra.weight"] = tensor.New(2)
	sd["features.4.weight"] = tensor.New(3, 3, 3, 3)
	err = g.LoadStateDict(sd, true)
	for _, want := range []error{model.ErrMissingTensor, model.ErrUnexpectedTensor, model.ErrShape} {
		if !errors.Is(err, want) {
			t.Errorf("err %v does not wrap %v", err, want)
		}
	}
	if g.Params()[0].Tensor.Data[0] != 0 {
		t.Error("failed load modified parameters")
	}
	delete(sd, "extra.weight")
	sd["features.0.weight"] = w
	delete(sd, "features.4.weight")
	if err := g.LoadStateDict(sd, false); err != nil {
		t.Errorf("non-strict load with a missing tensor: %v", err)
	}
}

func TestGraphTools(t *testing.T) {
	g, err := model.VGG("vgg16", 1000)
	if err != nil {
		t.Fatal(err)
	}
	info, err := g.Describe([]int{1, 3, 224, 224})
	if err != nil {
		t.Fatal(err)
	}
	var params, flops int64
	for _, li := range info {
		params += li.Params
		flops += li.FLOPs
	}
	// torchvision: sum(p.numel() for p in vgg16().parameters()) = 138357544.
	if params != 138357544 {
		t.Errorf("vgg16 params %d, want 138357544", params)
	}
	// 15.47 GMACs for VGG16 at 224 (2·MACs ≈ 30.9 GFLOPs; ptflops/fvcore report 15.5 GMac).
	if flops < 30.7e9 || flops > 31.1e9 {
		t.Errorf("vgg16 FLOPs %d", flops)
	}
	if r, err := g.Resolve("features"); err != nil || r != "features.30" {
		t.Errorf("features → %q, %v", r, err)
	}
	tr, err := g.Truncate("features")
	if err != nil || len(tr.Nodes) != 31 || tr.Output != "features.30" {
		t.Fatalf("truncate: %v %d", err, len(tr.Nodes))
	}
	if _, err := tr.Resolve("classifier"); !errors.Is(err, model.ErrTap) {
		t.Errorf("truncated graph still resolves classifier: %v", err)
	}
	bad := &model.Graph{Name: "bad", Input: "x", Nodes: []*model.Node{
		{Name: "a", Op: &nn.ReLU{}, Inputs: []string{"y"}}}}
	if err := bad.Validate(); !errors.Is(err, model.ErrGraph) {
		t.Errorf("undefined input: %v", err)
	}
	bad = &model.Graph{Name: "bad", Input: "x", InputShape: []int{3, 8, 8}, Nodes: []*model.Node{
		{Name: "c", Op: nn.NewConv2d(4, 4, 3, 1, 1, false), Inputs: []string{"x"}}}}
	if err := bad.Validate(); !errors.Is(err, nn.ErrShape) {
		t.Errorf("shape mismatch: %v", err)
	}
	for _, n := range []string{"vgg11_bn", "vgg19"} { // each allocates ~0.5 GB
		if _, err := model.VGG(n, 10); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	if _, err := model.VGG("vgg17", 10); !errors.Is(err, model.ErrArch) {
		t.Errorf("vgg17: %v", err)
	}
}

// TestSafetensorsParity writes the torch-saved weights as safetensors and
// checks the reloaded model still matches torch's outputs.
func TestSafetensorsParity(t *testing.T) {
	idx, x, want := loadIO(t, "vggs_bn")
	sd, err := model.LoadWeightsFile("testdata/vggs_bn.pth")
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/vggs_bn.safetensors"
	if err := safetensors.WriteFile(path, safetensors.FromTensors(sd), nil); err != nil {
		t.Fatal(err)
	}
	sd2, err := model.LoadWeightsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g := smallVGG(t, idx)
	if err := g.LoadStateDict(sd2, true); err != nil {
		t.Fatal(err)
	}
	got, err := g.Forward(&nn.Exec{Threads: 1}, x, "classifier")
	if err != nil {
		t.Fatal(err)
	}
	checkTap(t, "safetensors classifier", got, want["classifier"])
}
