package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"

	"github.com/preconv/preconv/train"
)

func init() {
	c := &Command{Name: "bench head", Short: "time an epoch of the seed's head config (vgg-classifier) vs PyTorch",
		Usage: `Usage: preconv bench head [--items N] [--threads 1,2] [--peer torch_head_epoch.py] [--json]

Times one training epoch of the seed's head configuration (VGG classifier
25088→4096→4096→2, only the last layer trainable, SGD momentum, batch 64,
dropout active) on N synthetic ReLU-sparse 512×7×7 features held in memory,
unfolded and with frozen-prefix folding, for each thread count. With --peer,
runs the PyTorch peer script (/usr/bin/python3, OPENBLAS_CORETYPE=SkylakeX;
1 thread pinned with taskset -c 0 and OPENBLAS_NUM_THREADS=1) in the same run.`}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, c)
		items := fs.Int("items", 2000, "number of cached items")
		threadList := fs.String("threads", "1,2", "comma-separated thread counts")
		peer := fs.String("peer", "", "path of torch_head_epoch.py to run as the PyTorch peer")
		noFold := fs.Bool("no-fold", false, "skip the folded measurement")
		asJSON := fs.Bool("json", false, "print JSON")
		if _, err := parseFlags(fs, args); err != nil {
			return err
		}
		threads, err := positiveList("threads", *threadList)
		if err != nil {
			return err
		}
		if *items < 64 {
			return usageError("--items must be at least 64")
		}
		ds := train.SyntheticFeatures(*items, []int{512, 7, 7}, 2, 1)
		type row struct {
			*train.HeadBench
			Peer string `json:"peer,omitempty"`
		}
		var rows []row
		for _, th := range threads {
			for _, fold := range []bool{false, true} {
				if fold && *noFold {
					continue
				}
				r, err := train.BenchHead(ctx, ds, th, fold)
				if err != nil {
					return err
				}
				rows = append(rows, row{HeadBench: r})
				if !*asJSON {
					mode := "unfolded"
					if fold {
						mode = fmt.Sprintf("folded (fold %.2fs once)", r.FoldSeconds)
					}
					fmt.Fprintf(env.Stdout, "preconv threads=%d %-26s %d items/epoch in %.3f s = %.0f items/s (%.2f CPU s = %.0f items/CPU s)\n", th, mode, r.Items, r.EpochSeconds, r.ItemsPerSec, r.CPUSeconds, r.ItemsPerCPUSec)
				}
			}
			if *peer != "" {
				ips, cpu, out, err := runPeer(ctx, *peer, *items, th)
				if err != nil {
					fmt.Fprintf(env.Stderr, "peer: %v\n", err)
					continue
				}
				rows = append(rows, row{HeadBench: &train.HeadBench{Items: *items, Threads: th, ItemsPerSec: ips, EpochSeconds: float64(*items) / ips}, Peer: "torch"})
				if !*asJSON {
					fmt.Fprintf(env.Stdout, "%s (whole script, setup + 2 epochs: %.2f CPU s)\n", out, cpu)
				}
			}
		}
		if *asJSON {
			return json.NewEncoder(env.Stdout).Encode(rows)
		}
		return nil
	}
	register(c)
}

var peerRate = regexp.MustCompile(`= ([0-9.]+) items/s`)

// runPeer runs the PyTorch peer script and parses its items/s; it also
// returns the script's total CPU seconds.
func runPeer(ctx context.Context, script string, items, threads int) (float64, float64, string, error) {
	args := []string{"/usr/bin/python3", script, strconv.Itoa(items), strconv.Itoa(threads)}
	env := append(os.Environ(), "OPENBLAS_CORETYPE=SkylakeX")
	if threads == 1 {
		if p, err := exec.LookPath("taskset"); err == nil {
			args = append([]string{p, "-c", "0"}, args...)
		}
		env = append(env, "OPENBLAS_NUM_THREADS=1")
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	s := strings.TrimSpace(string(out))
	if err != nil {
		return 0, 0, s, fmt.Errorf("%s: %v: %s", script, err, s)
	}
	cpu := (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	m := peerRate.FindStringSubmatch(s)
	if m == nil {
		return 0, cpu, s, fmt.Errorf("%s: no items/s in output %q", script, s)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v, cpu, s, nil
}
