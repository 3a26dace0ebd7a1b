// Package bench measures the forward-pass throughput of preconv's engine on
// torchvision architectures with random weights (no weights file needed),
// optionally next to PyTorch and onnxruntime measured in the same run.
package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/preconv/preconv/model"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/tensor"
)

// EngineConfig selects what Engine measures. Zero values are defaults.
type EngineConfig struct {
	// Arch is a model.Arch name (default "vgg16").
	Arch string
	// Tap is where the forward pass stops (default "features").
	Tap string
	// Size is the input height and width (default 224).
	Size int
	// Batches and Threads are the grid measured (default {1, 8} × {1, 2}).
	Batches, Threads []int
	// Runs is the number of timed passes per cell; the best is reported
	// (default 3, after untimed warm-up passes: until two agree within
	// 10%, at most 8).
	Runs int
	// NoWinograd runs every conv as im2col+GEMM.
	NoWinograd bool
	// TorchScript, when set, is the peer script
	// torch_vgg16_features.py THREADS BATCH SIZE, run with Python.
	TorchScript string
	// Python runs TorchScript and the ONNX export (default /usr/bin/python3).
	Python string
	// ORTDir, when set, is a directory whose node_modules holds
	// onnxruntime-node; ORTScript is ort_bench.js. The ONNX model of the
	// tapped network is exported with torch into a temporary directory.
	ORTDir, ORTScript string
}

// EngineRow is one measured cell.
type EngineRow struct {
	Batch     int     `json:"batch"`
	Threads   int     `json:"threads"`
	ImgPerSec float64 `json:"img_per_s"`
	GFLOPs    float64 `json:"gflop_per_s"`
	// PeakRSSMiB is the process's peak resident set (VmHWM) after this
	// cell; it only grows, so the largest batch's figure is the peak.
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	Torch      float64 `json:"torch_img_per_s,omitempty"`
	ORT        float64 `json:"ort_img_per_s,omitempty"`
	PeerNote   string  `json:"peer_note,omitempty"`
}

// Engine builds cfg.Arch with random weights, fuses it up to cfg.Tap and
// measures images per second for every (batch, threads) cell. Progress
// lines go to log (may be nil).
func Engine(ctx context.Context, cfg EngineConfig, log io.Writer) ([]EngineRow, error) {
	if log == nil {
		log = io.Discard
	}
	if cfg.Arch == "" {
		cfg.Arch = "vgg16"
	}
	if cfg.Tap == "" {
		cfg.Tap = "features"
	}
	if cfg.Size == 0 {
		cfg.Size = 224
	}
	if len(cfg.Batches) == 0 {
		cfg.Batches = []int{1, 8}
	}
	if len(cfg.Threads) == 0 {
		cfg.Threads = []int{1, 2}
	}
	if cfg.Runs < 1 {
		cfg.Runs = 3
	}
	if cfg.Python == "" {
		cfg.Python = "/usr/bin/python3"
	}
	g, flopsPerImage, err := Prepare(cfg.Arch, cfg.Tap, cfg.Size, !cfg.NoWinograd)
	if err != nil {
		return nil, err
	}
	var onnxPath string
	if cfg.ORTDir != "" {
		dir, err := os.MkdirTemp("", "preconv-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		onnxPath = filepath.Join(dir, "model.onnx")
		fmt.Fprintf(log, "exporting %s %s to ONNX for onnxruntime …\n", cfg.Arch, cfg.Tap)
		if err := exportONNX(ctx, cfg, onnxPath); err != nil {
			fmt.Fprintf(log, "onnxruntime peer skipped: %v\n", err)
			onnxPath = ""
		}
	}
	var rows []EngineRow
	for _, b := range cfg.Batches {
		for _, t := range cfg.Threads {
			if b < 1 || t < 1 {
				return nil, fmt.Errorf("bench: batch %d threads %d: must be positive", b, t)
			}
			if err := ctx.Err(); err != nil {
				return rows, err
			}
			best, err := timeForward(ctx, g, b, cfg.Size, t, cfg.Runs)
			if err != nil {
				return rows, err
			}
			r := EngineRow{Batch: b, Threads: t, ImgPerSec: float64(b) / best.Seconds(),
				PeakRSSMiB: PeakRSSMiB()}
			r.GFLOPs = r.ImgPerSec * flopsPerImage / 1e9
			if cfg.TorchScript != "" {
				v, err := runPeer(ctx, peerEnv(t), t, cfg.Python, cfg.TorchScript, strconv.Itoa(t), strconv.Itoa(b), strconv.Itoa(cfg.Size))
				if err != nil {
					r.PeerNote += "torch: " + err.Error() + "; "
				}
				r.Torch = v
			}
			if onnxPath != "" {
				env := append(peerEnv(t), "NODE_PATH="+filepath.Join(cfg.ORTDir, "node_modules"))
				v, err := runPeer(ctx, env, t, "node", cfg.ORTScript, onnxPath, strconv.Itoa(t), strconv.Itoa(b), strconv.Itoa(cfg.Size))
				if err != nil {
					r.PeerNote += "ort: " + err.Error() + "; "
				}
				r.ORT = v
			}
			fmt.Fprintf(log, "batch %d threads %d: %.2f img/s\n", b, t, r.ImgPerSec)
			rows = append(rows, r)
		}
	}
	return rows, nil
}

// Prepare builds arch with reproducible random weights, truncated at tap
// and fused (with the Winograd kernel when wino), and returns it with its
// FLOPs per image at size×size.
func Prepare(arch, tap string, size int, wino bool) (*model.Graph, float64, error) {
	g, err := model.Arch(arch, 1000)
	if err != nil {
		return nil, 0, err
	}
	if g, err = g.Truncate(tap); err != nil {
		return nil, 0, err
	}
	g.InitRandom(1)
	if wino {
		g, err = g.Fuse()
	} else {
		g, err = g.FuseNoWinograd()
	}
	if err != nil {
		return nil, 0, err
	}
	info, err := g.Describe([]int{1, 3, size, size})
	if err != nil {
		return nil, 0, err
	}
	var flops int64
	for _, li := range info {
		flops += li.FLOPs
	}
	runtime.GC()
	return g, float64(flops), nil
}

func timeForward(ctx context.Context, g *model.Graph, batch, size, threads, runs int) (time.Duration, error) {
	x := tensor.New(batch, 3, size, size)
	for i := range x.Data {
		x.Data[i] = float32(i%251)/125 - 1
	}
	e := &nn.Exec{Threads: threads}
	pass := func() (time.Duration, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		t0 := time.Now()
		_, err := g.Forward(e, x, g.Output)
		return time.Since(t0), err
	}
	// Warm up until two consecutive passes agree within 10% (at most 8):
	// the first passes of a fresh process run up to 3× slower (page faults
	// and huge-page promotion while the heap grows to its working size),
	// and steady state is what a long extraction run sees.
	prev := time.Duration(0)
	for i := 0; i < 8; i++ {
		d, err := pass()
		if err != nil {
			return 0, err
		}
		if prev > 0 && d > prev*90/100 && d < prev*110/100 {
			break
		}
		prev = d
	}
	best := time.Duration(1<<63 - 1)
	for i := 0; i < runs; i++ {
		d, err := pass()
		if err != nil {
			return 0, err
		}
		best = min(best, d)
	}
	return best, nil
}

// PeakRSSMiB returns the process's peak resident set size (VmHWM from
// /proc/self/status) in MiB, or 0 where that is not available.
func PeakRSSMiB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err == nil {
				return kb / 1024
			}
		}
	}
	return 0
}

func peerEnv(threads int) []string {
	n := strconv.Itoa(threads)
	return append(os.Environ(), "OPENBLAS_CORETYPE=SkylakeX", "OPENBLAS_NUM_THREADS="+n, "OMP_NUM_THREADS="+n)
}

var imgPerSec = regexp.MustCompile(`img/s=([0-9.]+)`)

// runPeer runs a peer command (pinned to CPU 0 with taskset for 1 thread
// when available) and parses "img/s=N" from its output.
func runPeer(ctx context.Context, env []string, threads int, name string, args ...string) (float64, error) {
	if threads == 1 {
		if ts, err := exec.LookPath("taskset"); err == nil {
			args = append([]string{"-c", "0", name}, args...)
			name = ts
		}
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%s: %v: %s", name, err, lastLine(out))
	}
	m := imgPerSec.FindSubmatch(out)
	if m == nil {
		return 0, errors.New("no img/s in peer output: " + lastLine(out))
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

func lastLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

func exportONNX(ctx context.Context, cfg EngineConfig, path string) error {
	script := fmt.Sprintf(`import torch, torchvision
m = torchvision.models.%s().eval()
net = dict(m.named_modules())[%q]
torch.onnx.export(net, torch.randn(1, 3, %d, %d), %q, input_names=['x'], output_names=['y'],
    dynamic_axes={'x': {0: 'n'}, 'y': {0: 'n'}}, opset_version=13)
`, cfg.Arch, cfg.Tap, cfg.Size, cfg.Size, path)
	cmd := exec.CommandContext(ctx, cfg.Python, "-c", script)
	cmd.Env = peerEnv(2)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("torch.onnx.export: %v: %s", err, lastLine(out))
	}
	return nil
}
