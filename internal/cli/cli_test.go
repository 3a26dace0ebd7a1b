package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/preconv/preconv/bundle"
	"github.com/preconv/preconv/internal/buildinfo"
)

type result struct {
	err            error
	code           int
	stdout, stderr string
}

func run(args ...string) result {
	var out, errb bytes.Buffer
	err := Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return result{err, ExitCode(err), out.String(), errb.String()}
}

func names() []string {
	var ns []string
	for n := range commands {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

func TestNoArgsAndHelp(t *testing.T) {
	r := run()
	if r.code != ExitUsage || !strings.Contains(r.stdout, "Usage: preconv COMMAND") {
		t.Errorf("no args: exit %d, stdout %q", r.code, r.stdout)
	}
	for _, h := range []string{"help", "-h", "--help"} {
		r := run(h)
		if r.code != ExitOK {
			t.Errorf("%s: exit %d", h, r.code)
		}
		for _, n := range names() {
			if !strings.Contains(r.stdout, "  "+n+" ") || commands[n].Short == "" || !strings.Contains(r.stdout, commands[n].Short) {
				t.Errorf("%s: command list lacks %q (%q)", h, n, commands[n].Short)
			}
		}
	}
	// The commands this packages provide must be registered.
	for _, n := range []string{"extract", "train", "eval", "predict", "plan", "demo", "assets fetch", "bench transfer", "version", "inspect", "fetch"} {
		if commands[n] == nil {
			t.Errorf("command %q not registered", n)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	r := run("frobnicate")
	if r.code != ExitUsage || !strings.Contains(r.err.Error(), `"frobnicate"`) || !strings.Contains(r.err.Error(), "preconv help") {
		t.Errorf("unknown: exit %d, %v", r.code, r.err)
	}
	// A group name without its subcommand gets the list of subcommands.
	for group, sub := range map[string]string{"store": "verify", "bench": "transfer", "dataset": "import", "assets": "fetch"} {
		r := run(group)
		if r.code != ExitUsage || !strings.Contains(r.err.Error(), "needs a subcommand") || !strings.Contains(r.err.Error(), sub) {
			t.Errorf("%s: exit %d, %v", group, r.code, r.err)
		}
	}
	// An unknown subcommand of a group: same hint.
	r = run("store", "nope")
	if r.code != ExitUsage || !strings.Contains(r.err.Error(), "needs a subcommand") {
		t.Errorf("store nope: exit %d, %v", r.code, r.err)
	}
}

func TestVersion(t *testing.T) {
	r := run("version", "--json")
	if r.code != 0 {
		t.Fatal(r.err)
	}
	var v map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("%q: %v", r.stdout, err)
	}
	if v["version"] != buildinfo.Version || v["go"] != runtime.Version() || v["arch"] != runtime.GOARCH {
		t.Errorf("version json %v", v)
	}
	r = run("version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "preconv "+buildinfo.Version) {
		t.Errorf("version: %q", r.stdout)
	}
	if r := run("version", "--bogus"); r.code != ExitUsage {
		t.Errorf("version --bogus: exit %d", r.code)
	}
}

// TestHelpFlags: every command's -h exits 0 and prints its usage and flags
// on stderr, without doing any work.
func TestHelpFlags(t *testing.T) {
	for _, n := range names() {
		for _, h := range []string{"-h", "--help"} {
			args := append(strings.Fields(n), h)
			r := run(args...)
			if r.code != ExitOK {
				t.Errorf("%v: exit %d (%v)", args, r.code, r.err)
				continue
			}
			usage := strings.TrimSpace(commands[n].Usage)
			if usage == "" || !strings.Contains(r.stderr, usage) {
				t.Errorf("%v: stderr lacks the usage text:\n%s", args, r.stderr)
			}
			if !strings.Contains(usage, "preconv "+n) {
				t.Errorf("%s: usage does not start with the command: %q", n, usage)
			}
		}
	}
}

// TestMissingRequired: commands with required flags exit 2 with a message
// naming them, before touching anything.
func TestMissingRequired(t *testing.T) {
	cases := []struct {
		args  []string
		flags []string
	}{
		{[]string{"extract"}, []string{"--model", "--data", "--out"}},
		{[]string{"extract", "--model", "pixels"}, []string{"--data", "--out"}},
		{[]string{"extract", "--model", "pixels", "--data", "x", "--out", "y", "--dtype", "f64"}, []string{"--dtype"}},
		{[]string{"train"}, []string{"--store", "--out"}},
		{[]string{"eval"}, []string{"--run", "--store"}},
		{[]string{"eval", "--run", "r"}, []string{"--store"}},
		{[]string{"predict"}, []string{"--run"}},
		{[]string{"predict", "--run", "r"}, []string{"image"}},
		{[]string{"plan"}, []string{"--model", "--data"}},
		{[]string{"bench", "transfer"}, []string{"--model", "--data"}},
		{[]string{"store", "info"}, []string{"STORE"}},
		{[]string{"store", "verify"}, []string{"STORE"}},
		{[]string{"store", "export"}, []string{"--out"}},
		{[]string{"dataset", "import"}, []string{"--out"}},
		{[]string{"inspect"}, []string{"MODEL"}},
		{[]string{"fetch"}, []string{"vgg16"}},
	}
	for _, c := range cases {
		r := run(c.args...)
		if r.code != ExitUsage {
			t.Errorf("%v: exit %d (%v), want %d", c.args, r.code, r.err, ExitUsage)
			continue
		}
		for _, f := range c.flags {
			if !strings.Contains(r.err.Error(), f) {
				t.Errorf("%v: %q does not name %s", c.args, r.err, f)
			}
		}
	}
	// Unknown flags are usage errors too.
	for _, n := range []string{"extract", "train", "eval", "predict", "plan"} {
		if r := run(n, "--no-such-flag"); r.code != ExitUsage {
			t.Errorf("%s --no-such-flag: exit %d", n, r.code)
		}
	}
}

func writeImages(t *testing.T, root string, perClass int) []string {
	t.Helper()
	var paths []string
	for c, name := range []string{"cat", "dog"} {
		os.MkdirAll(filepath.Join(root, name), 0o755)
		for i := 0; i < perClass; i++ {
			img := image.NewNRGBA(image.Rect(0, 0, 12, 10))
			for y := 0; y < 10; y++ {
				for x := 0; x < 12; x++ {
					img.Set(x, y, color.NRGBA{uint8(x*20 + i*9), uint8(60 + 120*c), uint8(200 - 120*c + y), 255})
				}
			}
			p := filepath.Join(root, name, fmt.Sprintf("%02d.png", i))
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			png.Encode(f, img)
			f.Close()
			paths = append(paths, p)
		}
	}
	return paths
}

// TestPipeline drives extract → train → eval → predict in process on a
// tiny folder with the raw-pixel backbone.
func TestPipeline(t *testing.T) {
	dir := t.TempDir()
	data, st, rd := filepath.Join(dir, "data"), filepath.Join(dir, "store"), filepath.Join(dir, "run")
	paths := writeImages(t, data, 6)
	os.WriteFile(filepath.Join(data, "dog", "bad.png"), []byte("junk"), 0o644)

	r := run("extract", "--model", "pixels", "--data", data, "--out", st, "--size", "4", "--valid-fraction", "0.3", "--json", "--threads", "1")
	if r.code != ExitPartial {
		t.Fatalf("extract with a bad image: exit %d (%v), want %d", r.code, r.err, ExitPartial)
	}
	if !strings.Contains(r.err.Error(), "bad.png") {
		t.Errorf("partial error %q does not name bad.png", r.err)
	}
	var ex struct {
		Items, Computed, Failed int
	}
	if err := json.Unmarshal([]byte(r.stdout), &ex); err != nil || ex.Items != 13 || ex.Computed != 12 || ex.Failed != 1 {
		t.Fatalf("extract json %q: %+v %v", r.stdout, ex, err)
	}
	r = run("extract", "--model", "pixels", "--data", data, "--out", st, "--size", "4", "--valid-fraction", "0.3", "--json", "--threads", "1")
	if err := json.Unmarshal([]byte(r.stdout), &ex); err != nil || ex.Computed != 0 {
		t.Errorf("second extract: %+v %v", ex, err)
	}

	r = run("train", "--store", st, "--out", rd, "--epochs", "2", "--batch", "4", "--threads", "1", "--json", "--quiet")
	if r.code != 0 {
		t.Fatalf("train: %v\n%s", r.err, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(rd, "run.json")); err != nil {
		t.Fatal(err)
	}
	r = run("eval", "--run", rd, "--store", st, "--split", "valid", "--json")
	if r.code != 0 {
		t.Fatalf("eval: %v", r.err)
	}
	var ev struct {
		Accuracy float64 `json:"accuracy"`
		Items    int     `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &ev); err != nil {
		t.Fatalf("eval json: %v: %.200s", err, r.stdout)
	}
	meta, err := bundle.Read(rd)
	if err != nil {
		t.Fatal(err)
	}
	if meta.Valid == nil || ev.Items != meta.Valid.Items || ev.Items == 0 || ev.Accuracy != meta.Valid.Accuracy {
		t.Errorf("eval --split valid: %+v, run.json valid %+v", ev, meta.Valid)
	}
	r = run(append([]string{"predict", "--run", rd, "--json", "--top", "1"}, paths[:3]...)...)
	if r.code != 0 {
		t.Fatalf("predict: %v", r.err)
	}
	var preds []bundle.Prediction
	if err := json.Unmarshal([]byte(r.stdout), &preds); err != nil || len(preds) != 3 {
		t.Fatalf("predict json: %v: %.300s", err, r.stdout)
	}
	for i, p := range preds {
		if p.Path != paths[i] || len(p.Top) != 1 || p.Top[0].Prob < 0.5 || p.Error != "" {
			t.Errorf("prediction %d: %+v", i, p)
		}
	}
	// A bad image: exit 3, the others still predicted.
	r = run("predict", "--run", rd, "--json", filepath.Join(data, "dog", "bad.png"), paths[0])
	if r.code != ExitPartial {
		t.Errorf("predict with a bad image: exit %d (%v), want %d", r.code, r.err, ExitPartial)
	}
	preds = nil
	if err := json.Unmarshal([]byte(r.stdout), &preds); err != nil || len(preds) != 2 || preds[0].Error == "" || len(preds[1].Top) != 2 {
		t.Errorf("predict with a bad image: %+v %v", preds, err)
	}
	// A missing run directory is an ordinary failure, not a usage error.
	if r := run("eval", "--run", filepath.Join(dir, "nope"), "--store", st); r.code != ExitFailure {
		t.Errorf("eval on a missing run: exit %d (%v)", r.code, r.err)
	}
}

func TestPlanAndBenchTransferCLI(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	writeImages(t, data, 5)
	r := run("plan", "--model", "../../model/tfjs/testdata/small", "--data", data, "--taps", "sep, out", "--pools", "none,avg,max", "--dtypes", "f32", "--sample", "3", "--threads", "1", "--json")
	if r.code != 0 {
		t.Fatalf("plan: %v", r.err)
	}
	var p struct {
		Items      int `json:"items"`
		Sample     int `json:"sample"`
		Candidates []struct {
			Tap, Pool, DType string
		} `json:"candidates"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil || p.Items != 10 || p.Sample != 3 || len(p.Candidates) != 2*3 {
		t.Fatalf("plan json %+v %v: %.300s", p, err, r.stdout)
	}
	if p.Candidates[0].Tap != "sep" || p.Candidates[0].Pool != "" || p.Candidates[1].Pool != "avg" {
		t.Errorf("candidates %+v", p.Candidates)
	}
	r = run("plan", "--model", "pixels", "--data", data, "--size", "4", "--pools", "none", "--dtypes", "f16")
	if r.code != 0 || !strings.Contains(r.stdout, "pixels on 10 images") || !strings.Contains(r.stdout, "[3 4 4]") {
		t.Errorf("plan text: %v\n%s", r.err, r.stdout)
	}

	r = run("bench", "transfer", "--model", "pixels", "--data", data, "--size", "4", "--epochs", "1", "--valid-fraction", "0.4", "--threads", "1", "--json", "--quiet")
	if r.code != 0 {
		t.Fatalf("bench transfer: %v\n%s", r.err, r.stderr)
	}
	var b struct {
		Items     int     `json:"items"`
		NaiveAcc  float64 `json:"naive_valid_accuracy"`
		CachedAcc float64 `json:"cached_valid_accuracy"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil || b.Items != 10 || b.NaiveAcc < 0 || b.NaiveAcc > 1 {
		t.Errorf("bench transfer json %+v %v: %.300s", b, err, r.stdout)
	}
}

func TestHumanUnits(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 KB", 1_500_000: "1.5 MB", 178e9: "178.0 GB", 3e15: "3000.0 TB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
	for s, want := range map[float64]string{0: "0s", 119: "119s", 120: "2.0 min", 7200: "2.0 h"} {
		if got := humanDur(s); got != want {
			t.Errorf("humanDur(%v) = %q, want %q", s, got, want)
		}
	}
}
