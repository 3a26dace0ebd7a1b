package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/preconv/preconv/remote"
	"github.com/preconv/preconv/server"
	"github.com/preconv/preconv/store"
)

const (
	readTok  = "read-token-aaaa"
	writeTok = "write-token-bbbb"
)

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func testSpec(weights string) store.Spec {
	return store.Spec{Model: "tiny", WeightsDigest: sha(weights), Arch: "tinynet", Tap: "features",
		Preprocess: json.RawMessage(`{"resize":32}`), DType: "f32", FeatureShape: []int{4, 2, 2}}
}

// makeStore writes a committed store at dir holding items lo..hi-1 (item i:
// key sha("img-i"), element j = i*100+j), chunkRows rows per chunk.
func makeStore(t testing.TB, dir string, spec store.Spec, lo, hi, chunkRows int) {
	t.Helper()
	var items []store.ItemRef
	for i := lo; i < hi; i++ {
		items = append(items, store.ItemRef{Key: sha(fmt.Sprintf("img-%d", i)), Path: fmt.Sprintf("c%d/%d.jpg", i%2, i), Label: i % 2, Split: "train"})
	}
	w, plan, err := store.Prepare(context.Background(), dir, spec, []string{"cat", "dog"}, items, store.WithChunkRows(chunkRows))
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	defer w.Close()
	e := 16
	feats := make([]float32, 0, len(plan.Todo)*e)
	for _, p := range plan.Todo {
		for j := 0; j < e; j++ {
			feats = append(feats, float32((lo+p)*100+j))
		}
	}
	if err := w.Put(plan.Todo, feats); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := w.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func startServer(t testing.TB, root string) (*server.Server, string) {
	t.Helper()
	s, err := server.New(server.Config{Root: root, Tokens: map[string]server.Scope{readTok: server.ScopeRead, writeTok: server.ScopeRead | server.ScopeWrite}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts.URL
}

func open(t testing.TB, ref, token, cache string) *Location {
	t.Helper()
	loc, err := remote.Open(ref, remote.Config{Token: token, CacheDir: cache, Who: "team-a"})
	if err != nil {
		t.Fatal(err)
	}
	return loc.(*Location)
}

// sameFiles fails unless the store files of a and b are byte-identical.
func sameFiles(t testing.TB, a, b string) {
	t.Helper()
	ma, err := server.BuildManifest(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := server.BuildManifest(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if ma.Version != mb.Version || len(ma.Files) != len(mb.Files) {
		t.Fatalf("%s and %s differ: %d vs %d files", a, b, len(ma.Files), len(mb.Files))
	}
	for i := range ma.Files {
		if ma.Files[i] != mb.Files[i] {
			t.Fatalf("file %s differs: %+v vs %+v", ma.Files[i].Path, ma.Files[i], mb.Files[i])
		}
	}
}

func TestParseURL(t *testing.T) {
	for _, c := range []struct{ in, base, name, version string }{
		{"http://h:8080/stores/a", "http://h:8080", "a", ""},
		{"https://h/pre/fix/stores/a@0123456789abcdef0123/", "https://h/pre/fix", "a", "0123456789abcdef0123"},
	} {
		l := open(t, c.in, "", t.TempDir())
		if l.Base != c.base || l.Name != c.name || l.Version != c.version {
			t.Errorf("%s: %+v", c.in, l)
		}
	}
	for _, bad := range []string{"http://h/a", "http://h/stores/", "http://h/stores/.x", "http://h/stores/a/b", "http:///stores/a"} {
		if _, err := remote.Open(bad, remote.Config{}); !errors.Is(err, remote.ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", bad, err)
		}
	}
	t.Setenv("PRECONV_TOKEN", "from-env-token")
	if l := open(t, "http://h/stores/a", "", ""); l.token != "from-env-token" {
		t.Errorf("token from env: %q", l.token)
	}
	t.Setenv("PRECONV_CACHE", "/c")
	if l := open(t, "http://h/stores/a", "", ""); l.cfg.CacheDir != "/c/chunks" {
		t.Errorf("cache dir: %q", l.cfg.CacheDir)
	}
}

func TestPushPullRoundTrip(t *testing.T) {
	root, work := t.TempDir(), t.TempDir()
	_, base := startServer(t, root)
	src := filepath.Join(work, "src")
	makeStore(t, src, testSpec("w"), 0, 23, 4)
	ctx := context.Background()

	// Push: everything goes up once; a second push sends nothing.
	dst := open(t, base+"/stores/shared", writeTok, filepath.Join(work, "cache-a"))
	st, err := dst.Push(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := server.BuildManifest(ctx, src)
	if st.Files != len(m.Files) || st.Transferred+st.Skipped != st.Files || st.Transferred == 0 || st.Version != m.Version {
		t.Fatalf("push 1: %+v (manifest %d files, version %s)", st, len(m.Files), m.Version)
	}
	st2, err := dst.Push(ctx, src)
	if err != nil || st2.Transferred != 0 || st2.Bytes != 0 || st2.Version != st.Version {
		t.Fatalf("push 2: %+v %v", st2, err)
	}
	t.Logf("push 1 %+v; push 2 %+v", st, st2)

	// Pull with a read token into a fresh dir: bit-identical, readable.
	rd := open(t, base+"/stores/shared", readTok, filepath.Join(work, "cache-b"))
	out := filepath.Join(work, "pulled")
	ps, err := rd.Pull(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	if ps.Transferred != len(m.Files) || ps.Version != st.Version {
		t.Fatalf("pull: %+v", ps)
	}
	sameFiles(t, src, out)
	if rep, err := store.Verify(out); err != nil || !rep.OK() {
		t.Fatalf("pulled store does not verify: %v %+v", err, rep)
	}
	// Again: nothing moves. Into another dir with the same cache: from cache.
	if ps, err = rd.Pull(ctx, out); err != nil || ps.Transferred != 0 || ps.Skipped != len(m.Files) {
		t.Fatalf("pull 2: %+v %v", ps, err)
	}
	out2 := filepath.Join(work, "pulled2")
	if ps, err = rd.Pull(ctx, out2); err != nil || ps.Transferred != 0 {
		t.Fatalf("pull from cache: %+v %v", ps, err)
	}
	sameFiles(t, src, out2)

	// A new, smaller version replaces the pulled copy exactly (stale chunks go).
	makeStore(t, src, testSpec("w"), 0, 9, 4)
	if _, err := dst.Push(ctx, src); err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Pull(ctx, out); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, src, out)

	// The read token cannot push; no token cannot read.
	if _, err := rd.Push(ctx, src); !errors.Is(err, remote.ErrAuth) {
		t.Fatalf("push with read token: %v, want ErrAuth", err)
	}
	anon := open(t, base+"/stores/shared", "", filepath.Join(work, "cache-c"))
	if _, err := anon.Pull(ctx, filepath.Join(work, "anon")); !errors.Is(err, remote.ErrAuth) {
		t.Fatalf("pull without token: %v, want ErrAuth", err)
	}
	if _, err := open(t, base+"/stores/nope", readTok, "").Pull(ctx, filepath.Join(work, "x")); !errors.Is(err, remote.ErrNotFound) {
		t.Fatalf("pull of a missing store: %v, want ErrNotFound", err)
	}
	// Pinned old version is still pullable.
	old := open(t, base+"/stores/shared@"+st.Version, readTok, filepath.Join(work, "cache-b"))
	if ps, err := old.Pull(ctx, filepath.Join(work, "old")); err != nil || ps.Version != st.Version {
		t.Fatalf("pull @old: %+v %v", ps, err)
	}
	if _, err := old.Push(ctx, src); !errors.Is(err, remote.ErrUnsupported) {
		t.Fatalf("push to a pinned version: %v", err)
	}
}

// TestPullPlainDirectory pulls a store that was put under the server's root
// by hand (not pushed).
func TestPullPlainDirectory(t *testing.T) {
	root, work := t.TempDir(), t.TempDir()
	makeStore(t, filepath.Join(root, "plain"), testSpec("w"), 0, 9, 4)
	_, base := startServer(t, root)
	out := filepath.Join(work, "out")
	if _, err := open(t, base+"/stores/plain", readTok, filepath.Join(work, "c")).Pull(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, filepath.Join(root, "plain"), out)
}

// TestPullRejectsCorruptContent: a server file whose bytes no longer match
// the manifest is refused (ErrCorrupt) and leaves no committed copy.
func TestPullRejectsCorruptContent(t *testing.T) {
	root, work := t.TempDir(), t.TempDir()
	plain := filepath.Join(root, "plain")
	makeStore(t, plain, testSpec("w"), 0, 9, 4)
	_, base := startServer(t, root)
	loc := open(t, base+"/stores/plain", readTok, filepath.Join(work, "c"))
	m, err := loc.Manifest(context.Background()) // caches the manifest server-side
	if err != nil {
		t.Fatal(err)
	}
	var chunk string
	for _, f := range m.Files {
		if f.Path == "features/0.0.0.0" {
			chunk = f.Path
		}
	}
	p := filepath.Join(plain, filepath.FromSlash(chunk))
	b, _ := os.ReadFile(p)
	b[len(b)/2] ^= 1
	os.WriteFile(p, b, 0o644) // same size; .zattrs untouched, so the manifest stays cached
	out := filepath.Join(work, "out")
	if _, err := loc.Pull(context.Background(), out); !errors.Is(err, remote.ErrCorrupt) {
		t.Fatalf("pull of a changed file: %v, want ErrCorrupt", err)
	}
	if _, err := os.Stat(filepath.Join(out, ".zattrs")); err == nil {
		t.Fatal("a failed pull left a committed store")
	}
}

// TestPushResumes: a push cancelled after some uploads commits nothing;
// the next push sends only the rest.
func TestPushResumes(t *testing.T) {
	root, work := t.TempDir(), t.TempDir()
	_, base := startServer(t, root)
	src := filepath.Join(work, "src")
	makeStore(t, src, testSpec("w"), 0, 40, 2)
	ctx, cancel := context.WithCancel(context.Background())
	loc, _ := remote.Open(base+"/stores/s", remote.Config{Token: writeTok, CacheDir: t.TempDir(), Progress: func(done, total int64) {
		if done > total/3 {
			cancel()
		}
	}})
	if _, err := loc.Push(ctx, src); err == nil {
		t.Fatal("cancelled push succeeded")
	}
	rd := open(t, base+"/stores/s", readTok, t.TempDir())
	if _, err := rd.Info(context.Background()); !errors.Is(err, remote.ErrNotFound) {
		t.Fatalf("half-finished push is visible: %v", err)
	}
	st, err := open(t, base+"/stores/s", writeTok, t.TempDir()).Push(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if st.Skipped == 0 || st.Transferred == 0 {
		t.Fatalf("resumed push: %+v, want some files skipped and some sent", st)
	}
	t.Logf("resumed push: %+v", st)
}

// TestIfMatchConflict: with IfMatch, a push that raced another gets
// remote.ErrConflict.
func TestIfMatchConflict(t *testing.T) {
	root, work := t.TempDir(), t.TempDir()
	_, base := startServer(t, root)
	a, b := filepath.Join(work, "a"), filepath.Join(work, "b")
	makeStore(t, a, testSpec("w"), 0, 5, 4)
	makeStore(t, b, testSpec("w"), 0, 7, 4)
	ctx := context.Background()
	l := open(t, base+"/stores/s", writeTok, t.TempDir())
	l.IfMatch = true
	if _, err := l.Push(ctx, a); err != nil {
		t.Fatal(err)
	}
	// Simulate a racing writer: commit b with a stale parent directly.
	m, _ := server.BuildManifest(ctx, b)
	up := open(t, base+"/stores/s", writeTok, t.TempDir())
	for _, f := range m.Files {
		if err := up.putBlob(ctx, b, f); err != nil {
			t.Fatal(err)
		}
	}
	err := up.postJSON(ctx, "/api/v1/stores/s/commit", server.Manifest{Files: m.Files, Parent: "00000000000000000000"}, nil, nil)
	if !errors.Is(err, remote.ErrConflict) {
		t.Fatalf("stale parent: %v, want ErrConflict", err)
	}
	if _, err := l.Push(ctx, b); err != nil {
		t.Fatalf("push with the right parent: %v", err)
	}
}

// TestHTTPS pushes and pulls over TLS (scheme "https"; the test server's
// self-signed certificate is trusted through Location.HTTP).
func TestHTTPS(t *testing.T) {
	root, work := t.TempDir(), t.TempDir()
	s, err := server.New(server.Config{Root: root, Tokens: map[string]server.Scope{writeTok: server.ScopeRead | server.ScopeWrite}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(s.Handler())
	defer ts.Close()
	src := filepath.Join(work, "src")
	makeStore(t, src, testSpec("w"), 0, 6, 4)
	l := open(t, ts.URL+"/stores/tls", writeTok, filepath.Join(work, "c"))
	if !strings.HasPrefix(l.Base, "https://") {
		t.Fatalf("base %s", l.Base)
	}
	if _, err := l.Push(context.Background(), src); err == nil {
		t.Fatal("push trusted an unknown certificate")
	}
	l.HTTP = ts.Client()
	if _, err := l.Push(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Pull(context.Background(), filepath.Join(work, "out")); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, src, filepath.Join(work, "out"))
}
