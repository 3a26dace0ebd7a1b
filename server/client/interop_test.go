package client

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/preconv/preconv/store"
)

const python = "/usr/bin/python3"

// TestPythonReadsPushedStore pushes a store with the client, then opens the
// served copy with Debian's python3-zarr through fsspec's HTTP filesystem
// (python3-fsspec, python3-aiohttp) with a read token, both at /stores/NAME
// and pinned at /stores/NAME@VERSION, and compares with the Go reader of the
// original directory.
func TestPythonReadsPushedStore(t *testing.T) {
	if out, err := exec.Command(python, "-c", "import zarr, numcodecs, fsspec, aiohttp").CombinedOutput(); err != nil {
		t.Skipf("skipping: %s cannot import zarr/numcodecs/fsspec/aiohttp (apt-get install python3-zarr python3-numcodecs python3-fsspec python3-aiohttp): %v %s", python, err, strings.TrimSpace(string(out)))
	}
	root, work := t.TempDir(), t.TempDir()
	_, base := startServer(t, root)
	src := filepath.Join(work, "src")
	makeStore(t, src, testSpec("w"), 0, 13, 4)
	st, err := open(t, base+"/stores/pushed", writeTok, t.TempDir()).Push(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	script := `
import json, sys, zarr
url, tok = sys.argv[1], sys.argv[2]
opts = {"client_kwargs": {"headers": {"Authorization": "Bearer " + tok}}}
g = zarr.open_group(url, mode="r", storage_options=opts)
x = g["features"][:]
print(json.dumps({"shape": list(x.shape), "features": x.reshape(-1).tolist(), "labels": g["labels"][:].tolist(),
  "spec": dict(g.attrs)["preconv"]["spec_digest"]}))
`
	s, err := store.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	n, e := s.Len(), 16
	want := make([]float32, n*e)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if err := s.Read(idx, want); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"pushed", "pushed@" + st.Version} {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, python, "-c", script, base+"/stores/"+ref, readTok)
		cmd.Env = append(os.Environ(), "OPENBLAS_CORETYPE=SkylakeX")
		out, err := cmd.Output()
		cancel()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("python %s: %v\n%s", ref, err, stderr)
		}
		var got struct {
			Shape    []int
			Features []float32
			Labels   []int
			Spec     string
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("python output %q: %v", out, err)
		}
		if fmt.Sprint(got.Shape) != "[13 4 2 2]" || got.Spec != s.Provenance().SpecDigest {
			t.Fatalf("%s: python saw shape %v spec %s", ref, got.Shape, got.Spec)
		}
		for i := range want {
			if got.Features[i] != want[i] {
				t.Fatalf("%s: feature %d: python %v, Go %v", ref, i, got.Features[i], want[i])
			}
		}
		// Independent of both readers: makeStore wrote item i element j = i*100+j.
		if got.Features[7*e+2] != 702 || got.Labels[7] != 1 {
			t.Fatalf("%s: python feature[7,2] = %v label %d, want 702, 1", ref, got.Features[7*e+2], got.Labels[7])
		}
	}
}
