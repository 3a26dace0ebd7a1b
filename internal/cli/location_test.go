package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/preconv/preconv/bundle"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/preconv/preconv/objstore"
	"github.com/preconv/preconv/objstore/s3test"
	"github.com/preconv/preconv/remote"
	"github.com/preconv/preconv/storesync"
)

// TestS3Store drives extract → train → eval → pull → push against a real S3
// server (versitygw on loopback) and checks the pulled store equals a local
// extraction of the same images bit for bit.
func TestS3Store(t *testing.T) {
	srv := s3test.StartServer(t)
	srv.Setenv(t)
	t.Setenv("PRECONV_CACHE", t.TempDir())
	dir := t.TempDir()
	data, local, pulled, rd := filepath.Join(dir, "data"), filepath.Join(dir, "local"), filepath.Join(dir, "pulled"), filepath.Join(dir, "run")
	writeImages(t, data, 5)
	url := s3URL(t, srv, "x")
	args := []string{"--model", "pixels", "--data", data, "--size", "4", "--valid-fraction", "0.3", "--threads", "1", "--json"}

	r := run(append([]string{"extract", "--out", url}, args...)...)
	if r.code != 0 {
		t.Fatalf("extract to %s: %v\n%s", url, r.err, r.stderr)
	}
	if !strings.Contains(r.stderr, "pushed to "+url) {
		t.Errorf("extract does not report the push: %q", r.stderr)
	}
	r = run(append([]string{"extract", "--out", local}, args...)...)
	if r.code != 0 {
		t.Fatalf("local extract: %v", r.err)
	}
	// --store is an alias; a second extraction computes nothing and pushes nothing new.
	r = run(append([]string{"extract", "--store", url}, args...)...)
	var ex struct{ Computed, Reused, Kept int }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &ex) != nil || ex.Computed != 0 {
		t.Fatalf("second extract: %v %+v %s", r.err, ex, r.stderr)
	}

	r = run("train", "--store", url, "--out", rd, "--epochs", "1", "--batch", "4", "--threads", "1", "--json", "--quiet")
	if r.code != 0 {
		t.Fatalf("train --store %s: %v\n%s", url, r.err, r.stderr)
	}
	if m, err := bundle.Read(rd); err != nil || m.Store != url {
		t.Errorf("run.json records the store as %q (%v), want the URL %q", m.Store, err, url)
	}
	if r = run("eval", "--run", rd, "--store", url, "--json"); r.code != 0 {
		t.Fatalf("eval --store %s: %v", url, r.err)
	}
	if r = run("store", "verify", url, "--json"); r.code != 0 || !strings.Contains(r.stdout, `"committed": true`) {
		t.Fatalf("store verify %s: %v %s", url, r.err, r.stdout)
	}

	r = run("pull", url, pulled, "--json")
	var st remote.Stats
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil || st.Transferred != st.Files || st.Files == 0 {
		t.Fatalf("pull: %v %+v %s", r.err, st, r.stderr)
	}
	sameStore(t, pulled, local)

	// push a local store elsewhere; pulling it again moves nothing.
	url2 := s3URL(t, srv, "y")
	if r = run("push", local, url2); r.code != 0 || !strings.Contains(r.stdout, "transferred") {
		t.Fatalf("push: %v %s", r.err, r.stdout)
	}
	if r = run("push", local, url2, "--json"); r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil || st.Transferred != 0 {
		t.Fatalf("second push: %v %+v", r.err, st)
	}
	if r = run("pull", url2, local, "--json"); r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil || st.Transferred != 0 {
		t.Fatalf("pull onto the same store: %v %+v", r.err, st)
	}

	// Reading a location without a store names it.
	if r = run("train", "--store", s3URL(t, srv, "nothing"), "--out", rd+"2"); r.code != ExitFailure || !strings.Contains(r.err.Error(), "nothing") {
		t.Fatalf("train on an empty location: exit %d %v", r.code, r.err)
	}
}

func TestPushPullUsage(t *testing.T) {
	for _, args := range [][]string{
		{"push", "onlyone"},
		{"pull", "a", "b", "c"},
		{"push", t.TempDir(), "/not/a/url"},
		{"pull", "/not/a/url", t.TempDir()},
	} {
		if r := run(args...); r.code != ExitUsage {
			t.Errorf("%v: exit %d (%v), want %d", args, r.code, r.err, ExitUsage)
		}
	}
	if r := run("pull", "ftp://host/x", t.TempDir()); r.code != ExitFailure || !strings.Contains(r.err.Error(), "s3") {
		t.Errorf("unknown scheme: exit %d %v (want the known schemes listed)", r.code, r.err)
	}
}

// sameStore compares two store directories file by file; .zattrs may differ
// only in the creation time.
func sameStore(t *testing.T, got, want string) {
	t.Helper()
	files := func(dir string) map[string][]byte {
		out := map[string][]byte{}
		filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err != nil || fi.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			rel = filepath.ToSlash(rel)
			if rel == ".preconv/lock" || strings.Contains(rel, ".tmp-") {
				return nil
			}
			b, err := os.ReadFile(p)
			if rel == ".zattrs" {
				var z map[string]map[string]any
				json.Unmarshal(b, &z)
				delete(z["preconv"], "created")
				b, _ = json.Marshal(z)
			}
			out[rel] = b
			return err
		})
		return out
	}
	g, w := files(got), files(want)
	if len(g) != len(w) {
		t.Errorf("%s has %d files, %s has %d", got, len(g), want, len(w))
	}
	for k, v := range w {
		if !bytes.Equal(g[k], v) {
			t.Errorf("%s differs", k)
		}
	}
}

// TestS3Shards runs a 2-shard extraction against one s3:// location from
// two "machines" (separate caches), merges on a third and checks the result
// equals a local single-machine extraction.
func TestS3Shards(t *testing.T) {
	srv := s3test.StartServer(t)
	srv.Setenv(t)
	dir := t.TempDir()
	data, local, pulled := filepath.Join(dir, "data"), filepath.Join(dir, "local"), filepath.Join(dir, "pulled")
	writeImages(t, data, 6)
	url := s3URL(t, srv, "sharded")
	args := []string{"--model", "pixels", "--data", data, "--size", "4", "--valid-fraction", "0.3", "--threads", "1", "--json"}
	for i := 0; i < 2; i++ {
		t.Setenv("PRECONV_CACHE", filepath.Join(dir, "machine", string(rune('a'+i))))
		r := run(append([]string{"extract", "--out", url, "--shard", []string{"0/2", "1/2"}[i]}, args...)...)
		if r.code != 0 || !strings.Contains(r.stderr, "pushed shard") {
			t.Fatalf("shard %d: exit %d %v\n%s", i, r.code, r.err, r.stderr)
		}
	}
	// Rerunning a shard on a fresh machine finds it done.
	t.Setenv("PRECONV_CACHE", filepath.Join(dir, "machine", "c"))
	r := run(append([]string{"extract", "--out", url, "--shard", "1/2"}, args...)...)
	var ex struct{ Computed int }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &ex) != nil || ex.Computed != 0 {
		t.Fatalf("rerun of shard 1 elsewhere: %v %+v %s", r.err, ex, r.stderr)
	}
	t.Setenv("PRECONV_CACHE", filepath.Join(dir, "machine", "merge"))
	b, err := objstore.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	if names, err := storesync.RemoteShards(context.Background(), b, ""); err != nil || len(names) != 2 {
		t.Fatalf("remote shards before the merge: %v %v", names, err)
	}
	if r = run("store", "merge", url, "--clean", "--json"); r.code != 0 {
		t.Fatalf("store merge %s: %v\n%s", url, r.err, r.stderr)
	}
	// --clean removed the merged shards from the bucket too.
	if names, err := storesync.RemoteShards(context.Background(), b, ""); err != nil || len(names) != 0 {
		t.Errorf("remote shards after merge --clean: %v %v", names, err)
	}
	if l, err := b.List(context.Background(), storesync.ShardsPrefix+"/"); err != nil || len(l) != 0 {
		t.Errorf("objects left under %s: %d %v", storesync.ShardsPrefix, len(l), err)
	}
	if r = run("pull", url, pulled); r.code != 0 {
		t.Fatalf("pull: %v", r.err)
	}
	if r = run(append([]string{"extract", "--out", local}, args...)...); r.code != 0 {
		t.Fatalf("local extract: %v", r.err)
	}
	sameStore(t, pulled, local)
	// A preconv server location has no shard API.
	if r = run(append([]string{"extract", "--out", "http://127.0.0.1:1/stores/x", "--shard", "0/2"}, args...)...); r.code != ExitUsage {
		t.Fatalf("--shard with an http location: exit %d %v", r.code, r.err)
	}
}

// TestS3ResumeUnfinished: an extraction into the working copy that was
// interrupted (chunks, no .zattrs) is resumed, not overwritten by a pull.
func TestS3ResumeUnfinished(t *testing.T) {
	srv := s3test.StartServer(t)
	srv.Setenv(t)
	t.Setenv("PRECONV_CACHE", t.TempDir())
	data := filepath.Join(t.TempDir(), "data")
	writeImages(t, data, 4)
	url := s3URL(t, srv, "r")
	args := []string{"extract", "--out", url, "--model", "pixels", "--data", data, "--size", "4", "--threads", "1", "--json"}
	if r := run(args...); r.code != 0 {
		t.Fatalf("extract: %v", r.err)
	}
	// Interrupt a later extraction: its working copy loses .zattrs.
	wc := workingCopy(url)
	if err := os.Remove(filepath.Join(wc, ".zattrs")); err != nil {
		t.Fatal(err)
	}
	r := run(args...)
	var ex struct{ Computed int }
	if r.code != 0 || !strings.Contains(r.stderr, "resuming the unfinished extraction") || json.Unmarshal([]byte(r.stdout), &ex) != nil || ex.Computed != 0 {
		t.Fatalf("rerun: exit %d %v %+v\n%s", r.code, r.err, ex, r.stderr)
	}
	if r = run("store", "verify", url, "--json"); r.code != 0 {
		t.Fatalf("verify after resume: %v", r.err)
	}
}

// s3URL is a fresh location per test run (PRECONV_S3_TEST_ENDPOINT may point
// at a long-lived server).
func s3URL(t *testing.T, srv *s3test.Server, name string) string {
	return fmt.Sprintf("s3://%s/%s-%d/%s", srv.Bucket, t.Name(), time.Now().UnixNano(), name)
}
