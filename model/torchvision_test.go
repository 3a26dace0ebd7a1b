package model_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/preconv/preconv/model"
	"github.com/preconv/preconv/model/torch"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/tensor"
)

const python = "/usr/bin/python3"

func needTorch(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(python); err != nil {
		t.Skip("no /usr/bin/python3 (install Debian python3-torch python3-torchvision)")
	}
	if err := exec.Command(python, "-c", "import torch, torchvision").Run(); err != nil {
		t.Skip("torch/torchvision not importable by /usr/bin/python3 (install Debian python3-torch python3-torchvision)")
	}
}

func readF32(t *testing.T, path string, shape []int) *tensor.Tensor {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f := make([]float32, len(b)/4)
	for i := range f {
		f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return tensor.FromData(f, shape...)
}

// torchvisionParity runs testdata/gen_torchvision_ref.py (real torchvision
// architecture, random weights, torch 1.13) and compares the taps, for the
// loaded graph and its fused form.
func torchvisionParity(t *testing.T, arch string, batch, size int, taps ...string) {
	needTorch(t)
	dir := t.TempDir()
	args := append([]string{"testdata/gen_torchvision_ref.py", arch, dir, strconv.Itoa(batch), strconv.Itoa(size)}, taps...)
	cmd := exec.Command(python, args...)
	cmd.Env = append(os.Environ(), "OPENBLAS_CORETYPE=SkylakeX")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen_torchvision_ref.py: %v\n%s", err, out)
	}
	var index map[string][]int
	raw, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	if err := json.Unmarshal(raw, &index); err != nil {
		t.Fatal(err)
	}
	sd, err := torch.Load(filepath.Join(dir, arch+".pth"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := model.Arch(arch, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.LoadStateDict(sd, true); err != nil {
		t.Fatal(err)
	}
	sd = nil
	x := readF32(t, filepath.Join(dir, "input.bin"), []int{batch, 3, size, size})
	fused, err := g.Fuse(taps...)
	if err != nil {
		t.Fatal(err)
	}
	e := &nn.Exec{Threads: 2}
	got, err := fused.Run(e, x, taps...)
	if err != nil {
		t.Fatal(err)
	}
	for _, tap := range taps {
		want := readF32(t, filepath.Join(dir, tap+".bin"), index[tap])
		checkTap(t, arch+" "+tap, got[tap], want)
		t.Logf("%s %s: max rel err %.3g", arch, tap, tensor.MaxRelErr(got[tap].Data, want.Data))
	}
}

// TestResNet18Parity compares torchvision resnet18 at 64×64 (heavy tier:
// needs torch, ~30 s, 45 MB written to a temp dir; the default tier runs
// TestResNetParitySmall on committed fixtures instead).
func TestResNet18Parity(t *testing.T) {
	if os.Getenv("PRECONV_HEAVY") != "1" {
		t.Skip("set PRECONV_HEAVY=1 (needs torch)")
	}
	torchvisionParity(t, "resnet18", 2, 64, "layer1", "layer3", "layer4", "fc")
}

// TestVGG16Parity224 is the heavy check: real torchvision vgg16 at
// 224×224, batch 2, ~528 MB state dict in a temp dir.
func TestVGG16Parity224(t *testing.T) {
	if os.Getenv("PRECONV_HEAVY") != "1" {
		t.Skip("set PRECONV_HEAVY=1 (needs torch; ~528 MB temp file)")
	}
	torchvisionParity(t, "vgg16", 2, 224, "features", "classifier.4")
}

// TestResNet50Parity is heavy-tier: torchvision resnet50 at 224×224.
func TestResNet50Parity(t *testing.T) {
	if os.Getenv("PRECONV_HEAVY") != "1" {
		t.Skip("set PRECONV_HEAVY=1 (needs torch)")
	}
	torchvisionParity(t, "resnet50", 1, 224, "layer2", "layer4", "fc")
}
