package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/preconv/preconv/model/bench"
)

func init() {
	c := &Command{Name: "bench engine", Short: "measure CNN forward img/s (VGG16 features by default), optionally vs PyTorch/onnxruntime",
		Usage: `Usage: preconv bench engine [--arch vgg16] [--tap features] [--size 224]
       [--batch 1,8] [--threads 1,2] [--runs 3] [--no-winograd]
       [--peer-dir DIR [--ort-dir DIR]] [--json]

Builds the architecture with random weights (no weights file needed), runs it
up to the tap and prints the best of --runs passes per (batch, threads) cell,
with the process's peak resident memory.

With --peer-dir (the folder holding torch_vgg16_features.py and ort_bench.js)
PyTorch is measured in the same run (via /usr/bin/python3, VGG16 features
only); with --ort-dir too (a folder whose node_modules has onnxruntime-node)
onnxruntime is measured on an ONNX export of the same network.`}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, c)
		arch := fs.String("arch", "vgg16", "architecture (vgg11…vgg19[_bn], resnet18…resnet152)")
		tap := fs.String("tap", "features", "node or alias to run up to")
		size := fs.Int("size", 224, "input height and width")
		batches := fs.String("batch", "1,8", "comma-separated batch sizes")
		threads := fs.String("threads", "1,2", "comma-separated thread counts")
		runs := fs.Int("runs", 3, "timed passes per cell (best is reported)")
		noWino := fs.Bool("no-winograd", false, "run 3×3 convs as im2col+GEMM")
		peerDir := fs.String("peer-dir", "", "folder with the peer scripts (enables the PyTorch peer)")
		ortDir := fs.String("ort-dir", "", "folder whose node_modules holds onnxruntime-node (enables the onnxruntime peer)")
		python := fs.String("python", "/usr/bin/python3", "Python with torch, for the peers")
		asJSON := fs.Bool("json", false, "print JSON")
		pos, err := parseFlags(fs, args)
		if err != nil {
			return err
		}
		if len(pos) > 0 {
			return usageError("bench engine takes no arguments (got %q)", pos)
		}
		cfg := bench.EngineConfig{Arch: *arch, Tap: *tap, Size: *size, Runs: *runs, NoWinograd: *noWino, Python: *python}
		if cfg.Batches, err = intList(*batches); err != nil {
			return usageError("--batch: %v", err)
		}
		if cfg.Threads, err = intList(*threads); err != nil {
			return usageError("--threads: %v", err)
		}
		for _, v := range append(append([]int{*size, *runs}, cfg.Batches...), cfg.Threads...) {
			if v < 1 {
				return usageError("--size, --runs, --batch and --threads must be positive")
			}
		}
		if *peerDir != "" {
			if *arch == "vgg16" && *tap == "features" {
				cfg.TorchScript = filepath.Join(*peerDir, "torch_vgg16_features.py")
			}
			if *ortDir != "" {
				cfg.ORTDir, cfg.ORTScript = *ortDir, filepath.Join(*peerDir, "ort_bench.js")
			}
			for _, p := range []string{cfg.TorchScript, cfg.ORTScript} {
				if _, err := os.Stat(p); p != "" && err != nil {
					return usageError("peer script: %v", err)
				}
			}
		}
		log := env.Stderr
		if *asJSON {
			log = nil
		}
		rows, err := bench.Engine(ctx, cfg, log)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(env.Stdout, map[string]any{"arch": cfg.Arch, "tap": cfg.Tap, "size": cfg.Size, "winograd": !cfg.NoWinograd, "results": rows})
		}
		fmt.Fprintf(env.Stdout, "%s up to %q at %d×%d (winograd %v), best of %d:\n", cfg.Arch, cfg.Tap, cfg.Size, cfg.Size, !cfg.NoWinograd, cfg.Runs)
		tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "batch\tthreads\timg/s\tGFLOP/s\tpeak RSS MiB\ttorch img/s\tours/torch\tort img/s\tours/ort\t")
		for _, r := range rows {
			fmt.Fprintf(tw, "%d\t%d\t%.2f\t%.1f\t%.0f\t%s\t%s\t%s\t%s\t\n", r.Batch, r.Threads, r.ImgPerSec, r.GFLOPs, r.PeakRSSMiB,
				peerCell(r.Torch), ratioCell(r.ImgPerSec, r.Torch), peerCell(r.ORT), ratioCell(r.ImgPerSec, r.ORT))
		}
		tw.Flush()
		for _, r := range rows {
			if r.PeerNote != "" {
				fmt.Fprintf(env.Stdout, "batch %d threads %d peers: %s\n", r.Batch, r.Threads, r.PeerNote)
			}
		}
		return nil
	}
	register(c)
}

func peerCell(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

func ratioCell(ours, peer float64) string {
	if peer == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", ours/peer)
}
