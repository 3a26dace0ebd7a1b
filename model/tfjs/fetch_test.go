package tfjs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/preconv/preconv/internal/npmfetch"
)

// TestUnwrapNPMModule: the unwrapped standard layout loads to the same
// weights as the npm bundle read directly.
func TestUnwrapNPMModule(t *testing.T) {
	src := nsfwjsDir(t, "mobilenet_v2")
	dir, err := UnwrapNPMModule(src, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "group1-shard1of1")); err != nil {
		t.Fatal(err)
	}
	a, err := Load(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(filepath.Join(dir, "model.json"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	pa, pb := a.Params(), b.Params()
	if len(pa) != len(pb) || len(pa) == 0 {
		t.Fatalf("%d vs %d params", len(pa), len(pb))
	}
	for i := range pa {
		for j, v := range pa[i].Tensor.Data {
			if pb[i].Tensor.Data[j] != v {
				t.Fatalf("param %s differs at %d", pa[i].Name, j)
			}
		}
	}
}

func TestFetchNSFWJSNoNPM(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := FetchNSFWJS(context.Background(), t.TempDir())
	if !errors.Is(err, npmfetch.ErrNoNPM) {
		t.Errorf("error %v, want npmfetch.ErrNoNPM", err)
	}
}

func TestFetchNSFWJSCached(t *testing.T) {
	nsfwjsDir(t, "mobilenet_v2")
	dir, err := FetchNSFWJS(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"mobilenet_v2", "inception_v3"} {
		if _, err := os.Stat(filepath.Join(dir, m, "model.min.js")); err != nil {
			t.Error(err)
		}
	}
}
