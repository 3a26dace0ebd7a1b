package server

import (
	"context"
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

// TestPythonZarrOverHTTP opens a served store with Debian's python3-zarr via
// fsspec's HTTP filesystem (python3-fsspec, python3-aiohttp), with a bearer
// token, and compares what it reads with the Go reader (store.Open).
func TestPythonZarrOverHTTP(t *testing.T) {
	if out, err := exec.Command(python, "-c", "import zarr, numcodecs, fsspec, aiohttp").CombinedOutput(); err != nil {
		t.Skipf("skipping: %s cannot import zarr/numcodecs/fsspec/aiohttp (apt-get install python3-zarr python3-numcodecs python3-fsspec python3-aiohttp): %v %s", python, err, strings.TrimSpace(string(out)))
	}
	root := t.TempDir()
	makeStore(t, filepath.Join(root, "shared"), testSpec("w1", "features"), 13, 4)
	_, ts := newTestServer(t, Config{Root: root, Tokens: map[string]Scope{readTok: ScopeRead}})
	pythonReads(t, ts.URL+"/stores/shared", filepath.Join(root, "shared"))
}

// needPython skips the test when /usr/bin/python3 lacks zarr and fsspec's
// HTTP filesystem.
func needPython(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(python, "-c", "import zarr, numcodecs, fsspec, aiohttp").CombinedOutput(); err != nil {
		t.Skipf("skipping: %s cannot import zarr/numcodecs/fsspec/aiohttp (apt-get install python3-zarr python3-numcodecs python3-fsspec python3-aiohttp): %v %s", python, err, strings.TrimSpace(string(out)))
	}
}

// pythonReads opens the Zarr group at url (with readTok) in Python and
// checks it against the Go reader of the 13-item makeStore store at dir.
func pythonReads(t *testing.T, url, dir string) {
	t.Helper()
	script := `
import json, sys, zarr, fsspec
url, tok = sys.argv[1], sys.argv[2]
opts = {"client_kwargs": {"headers": {"Authorization": "Bearer " + tok}}}
g = zarr.open_group(url, mode="r", storage_options=opts)
x = g["features"][:]
y = g["labels"][:]
k = g["keys"][:]
fs = fsspec.filesystem("http", **opts)
recs = [json.loads(l) for l in fs.cat(url + "/records.jsonl").decode().splitlines()]
print(json.dumps({"shape": list(x.shape), "dtype": str(x.dtype), "features": x.reshape(-1).tolist(),
  "labels": y.tolist(), "keys": [v.decode() for v in k.tolist()], "paths": [r["path"] for r in recs],
  "prov": dict(g.attrs)["preconv"]["spec_digest"]}))
`
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-c", script, url, readTok)
	cmd.Env = append(os.Environ(), "OPENBLAS_CORETYPE=SkylakeX")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("python: %v\n%s", err, stderr)
	}
	var got struct {
		Shape    []int
		DType    string
		Features []float32
		Labels   []int
		Keys     []string
		Paths    []string
		Prov     string
	}
	mustJSON(t, out, &got)

	s, err := store.Open(dir)
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
	if fmt.Sprint(got.Shape) != "[13 4 2 2]" || got.DType != "float32" || got.Prov != s.Provenance().SpecDigest {
		t.Fatalf("python saw shape %v dtype %s spec %s", got.Shape, got.DType, got.Prov)
	}
	for i := range want {
		if got.Features[i] != want[i] {
			t.Fatalf("feature %d: python %v, Go %v", i, got.Features[i], want[i])
		}
	}
	// Independent of both readers: makeStore wrote item i element j = i*100+j.
	if got.Features[5*e+3] != 503 {
		t.Fatalf("python feature[5,3] = %v, want 503", got.Features[5*e+3])
	}
	for i := 0; i < n; i++ {
		r := s.Record(i)
		if got.Labels[i] != r.Label || got.Keys[i] != r.Key || got.Paths[i] != r.Path {
			t.Fatalf("item %d: python (%d %s %s), Go %+v", i, got.Labels[i], got.Keys[i], got.Paths[i], r)
		}
	}
}
