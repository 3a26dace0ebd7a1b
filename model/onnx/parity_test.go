package onnx

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/preconv/preconv/model"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/tensor"
)

// checkParity loads dir/NAME.onnx and compares our output on NAME_input.pb
// with PyTorch's NAME_output.pb (both written by gen_onnx_parity.py).
func checkParity(t *testing.T, dir, name string) {
	t.Helper()
	g, err := Load(filepath.Join(dir, name+".onnx"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	read := func(file string) *tensor.Tensor {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		x, err := ReadTensor(b, 0)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	x, want := read(name+"_input.pb"), read(name+"_output.pb")
	got, err := forward(g, x, "")
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(got.Shape, want.Shape) {
		t.Fatalf("%s: output shape %v, want %v", name, got.Shape, want.Shape)
	}
	e := tensor.MaxRelErr(got.Data, want.Data)
	t.Logf("%s: %d nodes, output %v, max rel err vs PyTorch %.2e", name, len(g.Nodes), got.Shape, e)
	if e > 1e-4 {
		t.Errorf("%s: max rel err %.2e vs PyTorch > 1e-4", name, e)
	}
	fused, err := g.Fuse()
	if err != nil {
		t.Fatal(err)
	}
	gotF, err := fused.Forward(&nn.Exec{Threads: 2}, x, "")
	if err != nil {
		t.Fatal(err)
	}
	if e := tensor.MaxRelErr(gotF.Data, want.Data); e > 1e-4 {
		t.Errorf("%s: fused graph (model.Graph.Forward): max rel err %.2e vs PyTorch", name, e)
	}
	// Batch is free: the first image alone gives the first row.
	x1 := tensor.FromData(x.Item(0).Data, append([]int{1}, x.Shape[1:]...)...)
	got1, err := forward(g, x1, "")
	if err != nil {
		t.Fatalf("%s: batch 1: %v", name, err)
	}
	if e := tensor.MaxRelErr(got1.Data, want.Item(0).Data); e > 1e-4 {
		t.Errorf("%s: batch-1 run differs from PyTorch: %.2e", name, e)
	}
}

// TestParitySmall: reduced-width VGG- and ResNet-style nets exported by
// torch 1.13 (testdata/gen_onnx_parity.py), expected outputs from PyTorch.
func TestParitySmall(t *testing.T) {
	for _, name := range []string{"small_vgg", "small_resnet"} {
		t.Run(name, func(t *testing.T) { checkParity(t, "testdata", name) })
	}
}

// TestParityFull (PRECONV_HEAVY=1): torchvision vgg16 and resnet18 with
// random weights, exported at test time.
func TestParityFull(t *testing.T) {
	if os.Getenv("PRECONV_HEAVY") == "" {
		t.Skip("heavy tier: set PRECONV_HEAVY=1")
	}
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("needs /usr/bin/python3 with python3-torch, python3-torchvision, python3-onnx")
	}
	dir := t.TempDir()
	cmd := exec.Command("/usr/bin/python3", "testdata/gen_onnx_parity.py", "--full", dir)
	cmd.Env = append(os.Environ(), "OPENBLAS_CORETYPE=SkylakeX")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("gen_onnx_parity.py --full failed (torch/torchvision/onnx missing?): %v\n%s", err, out)
	}
	for _, name := range []string{"vgg16", "resnet18"} {
		t.Run(name, func(t *testing.T) {
			checkParity(t, dir, name)
			checkNative(t, dir, name)
		})
	}
	dir = benchModels(t)
	for _, name := range []string{"mobilenet_v2", "inception_v3"} {
		t.Run(name, func(t *testing.T) { checkParity(t, dir, name) })
	}
}

// benchModels returns a directory holding torchvision mobilenet_v2 and
// inception_v3 exported by gen_onnx_parity.py --bench: $PRECONV_ONNX_BENCH
// if set (to reuse an export), else a fresh export in a temp dir.
func benchModels(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("PRECONV_ONNX_BENCH"); d != "" {
		return d
	}
	dir := tb.TempDir()
	cmd := exec.Command("/usr/bin/python3", "testdata/gen_onnx_parity.py", "--bench", dir)
	cmd.Env = append(os.Environ(), "OPENBLAS_CORETYPE=SkylakeX")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Skipf("gen_onnx_parity.py --bench failed (torch/torchvision/onnx missing?): %v\n%s", err, out)
	}
	return dir
}

// checkNative compares the ONNX import with the native torchvision
// architecture (model.Arch) loaded from the same weights as a .pth state
// dict (model.LoadWeightsFile + LoadStateDict).
func checkNative(t *testing.T, dir, name string) {
	t.Helper()
	og, err := Load(filepath.Join(dir, name+".onnx"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ng, err := model.Arch(name, 1000)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := model.LoadWeightsFile(filepath.Join(dir, name+".pth"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ng.LoadStateDict(sd, true); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, name+"_input.pb"))
	if err != nil {
		t.Fatal(err)
	}
	x, err := ReadTensor(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	e := &nn.Exec{Threads: 2}
	yo, err := og.Forward(e, x, "")
	if err != nil {
		t.Fatal(err)
	}
	yn, err := ng.Forward(e, x, "")
	if err != nil {
		t.Fatal(err)
	}
	d := tensor.MaxRelErr(yo.Data, yn.Data)
	t.Logf("%s: ONNX import vs native .pth path: max rel err %.2e", name, d)
	if d > 1e-4 {
		t.Errorf("%s: ONNX import and native .pth path differ: %.2e", name, d)
	}
}
