package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestAugmentCLI drives extract --augment/--views → train --view-policy →
// eval --tta views → predict --tta flip → plan --views in process with the
// raw-pixel backbone.
func TestAugmentCLI(t *testing.T) {
	dir := t.TempDir()
	data, st, rd := filepath.Join(dir, "data"), filepath.Join(dir, "store"), filepath.Join(dir, "run")
	paths := writeImages(t, data, 6)
	args := []string{"extract", "--model", "pixels", "--data", data, "--out", st, "--size", "4", "--valid-fraction", "0.3",
		"--augment", "flip,crop", "--views", "3", "--json", "--threads", "1"}
	r := run(args...)
	if r.code != 0 {
		t.Fatalf("extract: %v\n%s", r.err, r.stderr)
	}
	var ex struct{ Items, Rows, Views, Computed int }
	if err := json.Unmarshal([]byte(r.stdout), &ex); err != nil || ex.Items != 12 || ex.Views != 3 || ex.Rows <= 12 || ex.Computed != ex.Rows {
		t.Fatalf("extract json %q: %+v %v", r.stdout, ex, err)
	}
	args[len(args)-4] = "5" // --views 5: only the new views
	r = run(args...)
	var ex5 struct{ Rows, Computed int }
	if err := json.Unmarshal([]byte(r.stdout), &ex5); err != nil || ex5.Computed != ex5.Rows-ex.Rows {
		t.Fatalf("views 3→5: %q %v", r.stdout, err)
	}
	r = run("train", "--store", st, "--out", rd, "--epochs", "2", "--batch", "4", "--threads", "1", "--view-policy", "round-robin", "--json", "--quiet")
	if r.code != 0 {
		t.Fatalf("train: %v\n%s", r.err, r.stderr)
	}
	var ev struct{ Items int }
	r = run("eval", "--run", rd, "--store", st, "--split", "train", "--tta", "views", "--json")
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &ev) != nil || ev.Items == 0 || ev.Items >= ex5.Rows {
		t.Fatalf("eval --tta views: %v %+v %.200s", r.err, ev, r.stdout)
	}
	// Pixel features are spatial maps [3,4,4]: the cheap flip applies.
	if r = run("eval", "--run", rd, "--store", st, "--tta", "flip", "--json"); r.code != 0 || json.Unmarshal([]byte(r.stdout), &ev) != nil || ev.Items != 12 {
		t.Errorf("eval --tta flip: %v %+v", r.err, ev)
	}
	r = run("predict", "--run", rd, "--tta", "flip", "--json", paths[0])
	if r.code != 0 || !strings.Contains(r.stdout, "prob") {
		t.Fatalf("predict --tta flip: %v %.200s", r.err, r.stdout)
	}
	if r = run("predict", "--run", rd, "--tta", "views", paths[0]); r.code != ExitUsage {
		t.Errorf("predict --tta views: exit %d, want usage", r.code)
	}
	r = run("plan", "--model", "pixels", "--data", data, "--size", "4", "--views", "4", "--valid-fraction", "0.3", "--json")
	var pl struct{ Items, Rows, Views int }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &pl) != nil || pl.Views != 4 || pl.Rows <= 2*pl.Items {
		t.Fatalf("plan --views: %v %+v", r.err, pl)
	}
}
