package storesync_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/preconv/preconv/objstore"
	"github.com/preconv/preconv/objstore/s3test"
	"github.com/preconv/preconv/store"
)

const rowsPerChunk = 4

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// items makes n items; item i's content is "img-<i>" unless changed[i] gives
// another version.
func items(n int, changed map[int]string) []store.ItemRef {
	out := make([]store.ItemRef, n)
	for i := range out {
		content := fmt.Sprintf("img-%d", i)
		if v, ok := changed[i]; ok {
			content += "-" + v
		}
		out[i] = store.ItemRef{Key: sha(content), Path: fmt.Sprintf("c%d/%d.jpg", i%2, i), Label: i % 2, Split: "train"}
	}
	return out
}

// features is a deterministic function of the key.
func features(key string, n int) []float32 {
	b, _ := hex.DecodeString(key)
	x := binary.LittleEndian.Uint64(b) | 1
	out := make([]float32, n)
	for i := range out {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		out[i] = float32(x%1000) / 100
	}
	return out
}

// makeStore extracts items into dir (reusing what is there) with small
// chunks, so a store has many chunk files.
// tb is the part of testing.TB that makeStore needs (Example has no T).
type tb interface {
	Helper()
	Fatal(args ...any)
}

// nopTB panics on Fatal.
type nopTB struct{}

func (nopTB) Helper()           {}
func (nopTB) Fatal(args ...any) { panic(fmt.Sprint(args...)) }

func makeStore(t tb, dir string, its []store.ItemRef) {
	t.Helper()
	spec := store.Spec{Model: "test", WeightsDigest: sha("w"), Arch: "test", Tap: "x", DType: "f32", FeatureShape: []int{64}}
	w, plan, err := store.Prepare(context.Background(), dir, spec, []string{"a", "b"}, its, store.WithChunkRows(rowsPerChunk))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, p := range plan.Todo {
		if err := w.Put([]int{p}, features(its[p].Key, 64)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

// storeFiles maps the store files of dir (not the lock, not temporaries)
// to their contents.
func storeFiles(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == ".preconv/lock" || strings.Contains(rel, ".tmp-") || rel == ".preconv/files.json" {
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameFiles(t testing.TB, got, want map[string][]byte) {
	t.Helper()
	for k, v := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("%s missing", k)
		} else if !bytes.Equal(g, v) {
			t.Errorf("%s differs (%d bytes, want %d)", k, len(g), len(v))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected file %s", k)
		}
	}
}

func verifyOK(t testing.TB, dir string) {
	t.Helper()
	rep, err := store.Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("Verify(%s): %+v", dir, rep)
	}
}

// recorder collects OnTransfer paths.
type recorder struct {
	mu    sync.Mutex
	paths []string
}

func (r *recorder) add(p string) {
	r.mu.Lock()
	r.paths = append(r.paths, p)
	r.mu.Unlock()
}

// chunks returns the features chunks among the recorded paths, sorted.
func (r *recorder) chunks() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, p := range r.paths {
		if strings.HasPrefix(p, "features/") && p != "features/.zarray" {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// backends runs fn over a local-directory bucket and an S3 bucket
// (versitygw on loopback; skipped when it is not installed, except in CI).
func backends(t *testing.T, fn func(t *testing.T, b objstore.Bucket)) {
	t.Run("dir", func(t *testing.T) { fn(t, objstore.NewDir(t.TempDir())) })
	t.Run("s3", func(t *testing.T) { fn(t, s3test.NewBucket(t)) })
}
