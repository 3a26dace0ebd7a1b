package extract_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/extract"
	"github.com/preconv/preconv/store"
)

// TestViewsDeterministicReal: augmented views of real photos through the
// real nsfwjs MobileNetV2 are bitwise identical for 1 or 2 workers and
// threads and batch 1 or 8 (view pixels depend only on (image, view); the
// engine's results do not depend on the batch size or thread count).
func TestViewsDeterministicReal(t *testing.T) {
	photos, _ := filepath.Glob("/usr/share/darknet/data/*.jpg")
	if len(photos) < 3 {
		missingTool(t, "no real photos: Debian package darknet (/usr/share/darknet/data/*.jpg) not installed")
	}
	b, err := backbone.Open(ctx, "nsfwjs/mobilenet_v2", backbone.Options{Pool: "avg"})
	if err != nil {
		if _, lerr := exec.LookPath("npm"); lerr != nil {
			missingTool(t, "npm not installed and nsfwjs not cached: "+err.Error())
		}
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "data")
	for i, p := range photos[:3] {
		linkInto(t, p, filepath.Join(root, []string{"a", "b", "a"}[i], filepath.Base(p)))
	}
	var ref []float32
	var keys string
	for _, c := range []struct{ workers, threads, batch int }{{1, 1, 1}, {2, 2, 8}} {
		out := filepath.Join(t.TempDir(), "views")
		run(t, extract.Config{Data: root, Out: out, Workers: c.workers, Threads: c.threads, Batch: c.batch,
			Augment: "flip,crop,jitter", Views: 3}, b)
		s, err := store.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		x := readAll(t, s)
		var k []string
		for i := 0; i < s.Len(); i++ {
			k = append(k, s.Record(i).Key)
		}
		if ref == nil {
			ref, keys = x, strings.Join(k, ",")
			continue
		}
		if strings.Join(k, ",") != keys {
			t.Fatal("row keys differ")
		}
		for i := range x {
			if x[i] != ref[i] {
				t.Fatalf("workers %d threads %d batch %d: value %d differs (%g vs %g)", c.workers, c.threads, c.batch, i, x[i], ref[i])
			}
		}
	}
}

func linkInto(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// missingTool skips a test whose tool or data is missing, or fails it when
// CI is set (CI installs them: Debian darknet, npm).
func missingTool(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
