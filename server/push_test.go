package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const writeTok = "write-token-bbbb"

func pushConfig(root string) Config {
	return Config{Root: root, Tokens: map[string]Scope{readTok: ScopeRead, writeTok: ScopeRead | ScopeWrite}}
}

// do sends method rawPath with body and token; it returns status and body.
func do(t testing.TB, ts *httptest.Server, method, rawPath, token string, body io.Reader, hdr ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+rawPath, body)
	if err != nil {
		t.Fatal(err)
	}
	p, q, _ := strings.Cut(rawPath, "?")
	req.URL.Opaque, req.URL.RawQuery = p, q
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawPath, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// rawPush uploads every file of the committed store at dir and commits it
// as name, through the HTTP API only (the client package has its own tests).
func rawPush(t testing.TB, ts *httptest.Server, dir, name, parent string) (int, []byte) {
	t.Helper()
	m, err := BuildManifest(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range m.Files {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if code, body := do(t, ts, "PUT", "/api/v1/blobs/"+f.SHA256, writeTok, bytes.NewReader(b)); code != 201 && code != 200 {
			t.Fatalf("PUT %s: %d %s", f.Path, code, body)
		}
	}
	cm := Manifest{Files: m.Files, PushedBy: "tester", Parent: parent}
	b, _ := json.Marshal(cm)
	return do(t, ts, "POST", "/api/v1/stores/"+name+"/commit", writeTok, bytes.NewReader(b))
}

func TestPushCommitServeVersions(t *testing.T) {
	root, src := t.TempDir(), t.TempDir()
	makeStore(t, filepath.Join(src, "a"), testSpec("w1", "features"), 10, 4)
	makeStore(t, filepath.Join(src, "b"), testSpec("w1", "features"), 14, 4)
	s, ts := newTestServer(t, pushConfig(root))

	code, body := rawPush(t, ts, filepath.Join(src, "a"), "shared", "")
	if code != 200 {
		t.Fatalf("commit: %d %s", code, body)
	}
	var r1 CommitResult
	mustJSON(t, body, &r1)
	m1, _ := BuildManifest(t.Context(), filepath.Join(src, "a"))
	if r1.Version != m1.Version || r1.Previous != "" || r1.Files != len(m1.Files) {
		t.Fatalf("commit 1 = %+v, want version %s", r1, m1.Version)
	}
	// Served like a plain store: info with who/when, Zarr files byte for byte.
	code, body, _ = get(t, ts, "/api/stores/shared", readTok)
	var in StoreInfo
	mustJSON(t, body, &in)
	if code != 200 || in.Items != 10 || in.Version != r1.Version || in.PushedBy != "tester" || in.PushedAt.IsZero() {
		t.Fatalf("info after push: %d %+v", code, in)
	}
	for _, f := range m1.Files {
		want, _ := os.ReadFile(filepath.Join(src, "a", filepath.FromSlash(f.Path)))
		route := "/stores/shared/" + f.Path
		if strings.HasPrefix(f.Path, ".preconv/") {
			route = "/api/v1/stores/shared/files/" + f.Path
		}
		code, got, h := get(t, ts, route, readTok)
		if code != 200 || !bytes.Equal(got, want) || h.Get("X-Preconv-Version") != r1.Version {
			t.Fatalf("GET %s: %d, %d bytes (want %d), version %q", route, code, len(got), len(want), h.Get("X-Preconv-Version"))
		}
	}
	// Identical files are stored once: pushing the same store under a
	// second name uploads nothing new and saves its whole size.
	code, body = rawPush(t, ts, filepath.Join(src, "a"), "copy", "")
	if code != 200 {
		t.Fatalf("commit copy: %d %s", code, body)
	}
	st, err := s.BlobStats()
	if err != nil {
		t.Fatal(err)
	}
	if st.SavedBytes != r1.Bytes || st.LogicalBytes != 2*r1.Bytes {
		t.Fatalf("stats %+v, want saved = logical/2 = %d", st, r1.Bytes)
	}
	t.Logf("dedup: %+v", st)

	// Version 2 with If-Match on the wrong parent: 409; on the right one: ok.
	code, body = rawPush(t, ts, filepath.Join(src, "b"), "shared", strings.Repeat("0", 20))
	if code != 409 {
		t.Fatalf("stale parent: %d %s, want 409", code, body)
	}
	code, body = rawPush(t, ts, filepath.Join(src, "b"), "shared", r1.Version)
	var r2 CommitResult
	mustJSON(t, body, &r2)
	if code != 200 || r2.Previous != r1.Version || r2.Version == r1.Version {
		t.Fatalf("commit 2: %d %+v", code, r2)
	}
	// NAME follows the new version; NAME@V1 still reads the old one.
	_, body, _ = get(t, ts, "/api/stores/shared", readTok)
	mustJSON(t, body, &in)
	if in.Items != 14 || in.Version != r2.Version || strings.Join(in.Versions, ",") != r1.Version+","+r2.Version {
		t.Fatalf("info v2: %+v", in)
	}
	_, body, _ = get(t, ts, "/api/stores/shared@"+r1.Version, readTok)
	mustJSON(t, body, &in)
	if in.Items != 10 {
		t.Fatalf("info @v1: %+v", in)
	}
	want, _ := os.ReadFile(filepath.Join(src, "a", "records.jsonl"))
	if code, got, _ := get(t, ts, "/stores/shared@"+r1.Version+"/records.jsonl", readTok); code != 200 || !bytes.Equal(got, want) {
		t.Fatalf("records @v1: %d", code)
	}
	if code, _, _ := get(t, ts, "/stores/shared@"+strings.Repeat("1", 20)+"/.zattrs", readTok); code != 404 {
		t.Fatalf("unknown version: %d, want 404", code)
	}
	// The manifest API lists what a pull needs.
	code, body, _ = get(t, ts, "/api/v1/stores/shared/manifest", readTok)
	var mm Manifest
	mustJSON(t, body, &mm)
	if code != 200 || mm.Version != r2.Version || len(mm.Files) == 0 || mm.PushedBy != "tester" {
		t.Fatalf("manifest: %d %+v", code, mm)
	}
	// Plain directories get a computed manifest.
	makeStore(t, filepath.Join(root, "plain"), testSpec("w1", "features"), 5, 4)
	code, body, _ = get(t, ts, "/api/v1/stores/plain/manifest", readTok)
	mm = Manifest{}
	mustJSON(t, body, &mm)
	if code != 200 || mm.PushedBy != "" || len(mm.Files) < 5 {
		t.Fatalf("plain manifest: %d %+v", code, mm)
	}
	// A plain directory's name cannot be pushed to.
	if code, body := rawPush(t, ts, filepath.Join(src, "a"), "plain", ""); code != 409 {
		t.Fatalf("push onto a plain dir: %d %s, want 409", code, body)
	}
}

func TestPushKeepVersionsAndGC(t *testing.T) {
	root, src := t.TempDir(), t.TempDir()
	cfg := pushConfig(root)
	cfg.KeepVersions, cfg.GCGrace = 1, -1
	s, ts := newTestServer(t, cfg)
	makeStore(t, filepath.Join(src, "a"), testSpec("w1", "features"), 10, 4)
	makeStore(t, filepath.Join(src, "b"), testSpec("w2", "features"), 10, 4)
	if code, body := rawPush(t, ts, filepath.Join(src, "a"), "s", ""); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	before, _ := s.BlobStats()
	code, body := rawPush(t, ts, filepath.Join(src, "b"), "s", "")
	var r CommitResult
	mustJSON(t, body, &r)
	if code != 200 || len(r.Pruned) != 1 {
		t.Fatalf("commit 2: %d %+v", code, r)
	}
	// Every blob left is used by the kept version only.
	m, _ := BuildManifest(t.Context(), filepath.Join(src, "b"))
	used := map[string]bool{}
	for _, f := range m.Files {
		used[f.SHA256] = true
	}
	if r.Stats.Blobs != len(used) || r.Stats.SavedBytes < 0 {
		t.Fatalf("after GC %d blobs (before %d), want %d", r.Stats.Blobs, before.Blobs, len(used))
	}
	if code, _, _ := get(t, ts, "/api/stores/s@"+r.Pruned[0], readTok); code != 404 {
		t.Fatalf("pruned version still served: %d", code)
	}
}

func TestPushSecurity(t *testing.T) {
	root, src := t.TempDir(), t.TempDir()
	makeStore(t, filepath.Join(src, "a"), testSpec("w1", "features"), 6, 4)
	cfg := pushConfig(root)
	cfg.MaxUploadBytes = 1000
	_, ts := newTestServer(t, cfg)
	data := []byte("hello blob")
	sum := sha256.Sum256(data)
	good := hex.EncodeToString(sum[:])

	// Scopes: no token 401, read token 403, on every write route.
	for _, tok := range []string{"", readTok, "unknown-token-zzz"} {
		want := 401
		if tok == readTok {
			want = 403
		}
		for _, rq := range []struct{ method, path, body string }{
			{"PUT", "/api/v1/blobs/" + good, string(data)},
			{"POST", "/api/v1/blobs/missing", `{"sha256":[]}`},
			{"POST", "/api/v1/stores/x/commit", `{"files":[]}`},
		} {
			if code, body := do(t, ts, rq.method, rq.path, tok, strings.NewReader(rq.body)); code != want {
				t.Errorf("%s %s with token %q: %d %s, want %d", rq.method, rq.path, tok, code, body, want)
			}
		}
	}
	// Bytes that do not hash to the name: 400, nothing kept.
	bad := strings.Repeat("ab", 32)
	code, body := do(t, ts, "PUT", "/api/v1/blobs/"+bad, writeTok, bytes.NewReader(data))
	var eb errorBody
	mustJSON(t, body, &eb)
	if code != 400 || !strings.Contains(eb.Error, "hash to "+good) {
		t.Fatalf("mismatched blob: %d %s", code, body)
	}
	if _, err := os.Stat(filepath.Join(root, serverDir, "blobs", "ab", bad)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("mismatched blob was kept: %v", err)
	}
	if code, body := do(t, ts, "PUT", "/api/v1/blobs/"+good, writeTok, bytes.NewReader(data)); code != 201 {
		t.Fatalf("good blob: %d %s", code, body)
	}
	// Over MaxUploadBytes: 413 with Content-Length and when streamed.
	big := bytes.Repeat([]byte("x"), 1001)
	bs := sha256.Sum256(big)
	if code, body := do(t, ts, "PUT", "/api/v1/blobs/"+hex.EncodeToString(bs[:]), writeTok, bytes.NewReader(big)); code != 413 {
		t.Fatalf("oversized upload: %d %s", code, body)
	}
	if code, body := do(t, ts, "PUT", "/api/v1/blobs/"+hex.EncodeToString(bs[:]), writeTok, io.MultiReader(bytes.NewReader(big))); code != 413 {
		t.Fatalf("oversized streamed upload: %d %s", code, body)
	}
	// Blob names and store names that are not what they must be.
	for _, p := range []string{"/api/v1/blobs/" + strings.ToUpper(good), "/api/v1/blobs/abc", "/api/v1/blobs/..%2f..%2fetc",
		"/api/v1/blobs/" + good[:63] + "g"} {
		if code, body := do(t, ts, "PUT", p, writeTok, bytes.NewReader(data)); code != 400 && code != 404 {
			t.Errorf("PUT %s: %d %s, want 400/404", p, code, body)
		}
	}
	m, _ := BuildManifest(t.Context(), filepath.Join(src, "a"))
	mb, _ := json.Marshal(Manifest{Files: m.Files})
	for _, name := range []string{"..", "%2e%2e", ".hidden", "a%2fb", "a%5cb", "x@y", "%00"} {
		// ServeMux answers ".." with a redirect to the cleaned path, which
		// is not a commit route; nothing may be committed either way.
		if code, body := do(t, ts, "POST", "/api/v1/stores/"+name+"/commit", writeTok, bytes.NewReader(mb)); code != 400 && code != 404 && code != 307 && code != 301 {
			t.Errorf("commit to %q: %d %s, want 400/404 or a redirect", name, code, body)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(root, serverDir, "stores")); len(ents) != 0 {
		t.Fatalf("bad names created %d store entries", len(ents))
	}
	// Manifest paths that escape, hit bookkeeping or temp files: 400.
	for _, p := range []string{"../x", "/etc/passwd", "a/../../b", ".preconv/lock", ".preconv/old/x.json", "features/.tmp-c.0",
		"a\\b", "x/./y", ""} {
		bad := Manifest{Files: append([]FileEntry{{Path: p, SHA256: good, Size: int64(len(data))}}, m.Files...)}
		b, _ := json.Marshal(bad)
		if code, body := do(t, ts, "POST", "/api/v1/stores/evil/commit", writeTok, bytes.NewReader(b)); code != 400 {
			t.Errorf("manifest path %q: %d %s, want 400", p, code, body)
		}
	}
	// A commit naming blobs never uploaded: 400 listing them; nothing committed.
	code, body = do(t, ts, "POST", "/api/v1/stores/s/commit", writeTok, bytes.NewReader(mb))
	mustJSON(t, body, &eb)
	if code != 400 || len(eb.Missing) == 0 {
		t.Fatalf("commit with missing blobs: %d %s", code, body)
	}
	if code, _, _ := get(t, ts, "/api/stores/s", readTok); code != 404 {
		t.Fatalf("half-finished push visible: %d", code)
	}
	// Blobs present but not a preconv store (no provenance): 422.
	js := []byte(`{"zarr_format": 2}`)
	jsum := sha256.Sum256(js)
	do(t, ts, "PUT", "/api/v1/blobs/"+hex.EncodeToString(jsum[:]), writeTok, bytes.NewReader(js))
	fake, _ := json.Marshal(Manifest{Files: []FileEntry{{".zattrs", hex.EncodeToString(jsum[:]), int64(len(js))}, {".zgroup", hex.EncodeToString(jsum[:]), int64(len(js))}}})
	if code, body := do(t, ts, "POST", "/api/v1/stores/fake/commit", writeTok, bytes.NewReader(fake)); code != 422 {
		t.Fatalf("non-store commit: %d %s, want 422", code, body)
	}
	// A chunk index entry that disagrees with the manifest: 422.
	for _, f := range m.Files {
		b, _ := os.ReadFile(filepath.Join(src, "a", filepath.FromSlash(f.Path)))
		do(t, ts, "PUT", "/api/v1/blobs/"+f.SHA256, writeTok, bytes.NewReader(b))
	}
	swapped := Manifest{Files: append([]FileEntry(nil), m.Files...)}
	var chunks []int
	for i, f := range swapped.Files {
		if strings.HasPrefix(f.Path, "features/") && f.Path != "features/.zarray" {
			chunks = append(chunks, i)
		}
	}
	a, b := chunks[0], chunks[1]
	swapped.Files[a].SHA256, swapped.Files[b].SHA256 = swapped.Files[b].SHA256, swapped.Files[a].SHA256
	swapped.Files[a].Size, swapped.Files[b].Size = swapped.Files[b].Size, swapped.Files[a].Size
	sb, _ := json.Marshal(swapped)
	if code, body := do(t, ts, "POST", "/api/v1/stores/swapped/commit", writeTok, bytes.NewReader(sb)); code != 422 {
		t.Fatalf("chunks swapped: %d %s, want 422", code, body)
	}
	// Unknown fields and trailing data in JSON bodies: 400.
	for _, b := range []string{`{"files":[],"x":1}`, `{"sha256":[]} {}`, `not json`} {
		if code, body := do(t, ts, "POST", "/api/v1/blobs/missing", writeTok, strings.NewReader(b)); code != 400 {
			t.Errorf("missing body %q: %d %s", b, code, body)
		}
	}
	// Traversal on the new read routes.
	if code, body := rawPush(t, ts, filepath.Join(src, "a"), "ok", ""); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	for _, p := range []string{"/api/v1/stores/ok/files/../../../etc/passwd", "/api/v1/stores/ok/files/%2e%2e/%2e%2e/x",
		"/api/v1/stores/ok/files/.preconv/lock", "/api/v1/stores/ok/files/features%2f..%2f..%2fx", "/api/v1/stores/..%2f..%2fetc/manifest",
		"/api/v1/stores/ok@..%2f..%2fx/manifest", "/stores/ok@%2e%2e/.zattrs", "/api/v1/stores/ok/files/" + slashEsc(root) + "/x",
		"/api/v1/stores/.preconv-server/manifest", "/stores/.preconv-server/blobs/" + good[:2] + "/" + good} {
		code, body, _ := get(t, ts, p, readTok)
		if code == 200 || code >= 500 {
			t.Errorf("GET %s: %d %s", p, code, body)
		}
	}
}

func slashEsc(p string) string { return strings.ReplaceAll(p, "/", "%2f") }

// TestConcurrentPushesOneVersion commits two different stores to one name
// from many goroutines at once: every commit succeeds atomically, and the
// store ends as exactly one of them, complete.
func TestConcurrentPushesOneVersion(t *testing.T) {
	root, src := t.TempDir(), t.TempDir()
	makeStore(t, filepath.Join(src, "a"), testSpec("w1", "features"), 10, 4)
	makeStore(t, filepath.Join(src, "b"), testSpec("w2", "features"), 7, 4)
	s, ts := newTestServer(t, pushConfig(root))
	var bodies [2][]byte
	versions := map[string]bool{}
	for i, d := range []string{"a", "b"} {
		m, _ := BuildManifest(t.Context(), filepath.Join(src, d))
		for _, f := range m.Files {
			b, _ := os.ReadFile(filepath.Join(src, d, filepath.FromSlash(f.Path)))
			do(t, ts, "PUT", "/api/v1/blobs/"+f.SHA256, writeTok, bytes.NewReader(b))
		}
		bodies[i], _ = json.Marshal(Manifest{Files: m.Files, PushedBy: d})
		versions[m.Version] = true
	}
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body := do(t, ts, "POST", "/api/v1/stores/race/commit", writeTok, bytes.NewReader(bodies[i%2]))
			if code != 200 {
				errs <- string(body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("concurrent commit failed: %s", e)
	}
	loc, err := s.locate("race")
	if err != nil {
		t.Fatal(err)
	}
	if !versions[loc.version] {
		t.Fatalf("current version %s is neither pushed version", loc.version)
	}
	m, err := BuildManifest(t.Context(), loc.dir)
	if err != nil || m.Version != loc.version || VersionOf(loc.man.Files) != loc.version {
		t.Fatalf("served files (%v) do not match version %s", err, loc.version)
	}
	if _, err := os.Stat(filepath.Join(root, serverDir, "tmp")); err == nil {
		ents, _ := os.ReadDir(filepath.Join(root, serverDir, "tmp"))
		if len(ents) != 0 {
			t.Fatalf("temp files left behind: %d", len(ents))
		}
	}
}

// TestCrashLeftoversCleaned: temp uploads and half-built versions left by a
// crash are removed when a server starts on the root, if older than an hour.
func TestCrashLeftoversCleaned(t *testing.T) {
	root := t.TempDir()
	tmp := filepath.Join(root, serverDir, "tmp")
	os.MkdirAll(filepath.Join(tmp, "commit-123", "features"), 0o755)
	os.WriteFile(filepath.Join(tmp, "blob-456"), []byte("partial"), 0o644)
	os.WriteFile(filepath.Join(tmp, "blob-fresh"), []byte("in flight"), 0o644)
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(filepath.Join(tmp, "commit-123"), old, old)
	os.Chtimes(filepath.Join(tmp, "blob-456"), old, old)
	if _, err := New(pushConfig(root)); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(tmp)
	if len(ents) != 1 || ents[0].Name() != "blob-fresh" {
		t.Fatalf("tmp holds %v, want only blob-fresh", ents)
	}
}

// TestPinnedInfoListsLaterVersions: the info of NAME@OLD lists the versions
// pushed after OLD (its cached copy is refreshed).
func TestPinnedInfoListsLaterVersions(t *testing.T) {
	root, src := t.TempDir(), t.TempDir()
	makeStore(t, filepath.Join(src, "a"), testSpec("w1", "features"), 5, 4)
	makeStore(t, filepath.Join(src, "b"), testSpec("w1", "features"), 6, 4)
	_, ts := newTestServer(t, pushConfig(root))
	versions := func(ref string) []string {
		code, body, _ := get(t, ts, "/api/stores/"+ref, readTok)
		var in StoreInfo
		mustJSON(t, body, &in)
		if code != 200 {
			t.Fatalf("info %s: %d %s", ref, code, body)
		}
		return in.Versions
	}
	var r1, r2 CommitResult
	_, body := rawPush(t, ts, filepath.Join(src, "a"), "s", "")
	mustJSON(t, body, &r1)
	if v := versions("s@" + r1.Version); len(v) != 1 {
		t.Fatalf("versions %v", v)
	}
	_, body = rawPush(t, ts, filepath.Join(src, "b"), "s", "")
	mustJSON(t, body, &r2)
	if v := versions("s@" + r1.Version); len(v) != 2 || v[1] != r2.Version {
		t.Fatalf("pinned info after a second push lists %v, want [%s %s]", v, r1.Version, r2.Version)
	}
}
