package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/preconv/preconv/objstore"
	"github.com/preconv/preconv/storesync"
)

// fixture: root with two committed stores, one uncommitted dir, one junk dir.
func fixture(t *testing.T) (root string) {
	t.Helper()
	root = t.TempDir()
	makeStore(t, filepath.Join(root, "vgg-a"), testSpec("w1", "features"), 10, 4)
	makeStore(t, filepath.Join(root, "vgg-b"), testSpec("w1", "features.23"), 6, 4)
	makeStore(t, filepath.Join(root, "other"), testSpec("w2", "features"), 5, 4)
	os.MkdirAll(filepath.Join(root, "junk"), 0o755)
	os.WriteFile(filepath.Join(root, "junk", "x"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(root, "plainfile"), []byte("x"), 0o644)
	return root
}

func TestListInfoSearch(t *testing.T) {
	root := fixture(t)
	_, ts := newTestServer(t, Config{Root: root, Tokens: map[string]Scope{readTok: ScopeRead}})

	code, body, h := get(t, ts, "/api/stores", readTok)
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("list: %d %s", code, body)
	}
	var list []StoreInfo
	mustJSON(t, body, &list)
	var names []string
	for _, s := range list {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "other,vgg-a,vgg-b" {
		t.Fatalf("stores = %s, want other,vgg-a,vgg-b (junk and files skipped)", got)
	}

	code, body, _ = get(t, ts, "/api/stores/vgg-a", readTok)
	if code != 200 {
		t.Fatalf("info: %d %s", code, body)
	}
	var in StoreInfo
	mustJSON(t, body, &in)
	spec := testSpec("w1", "features")
	// Expected values: makeStore wrote 10 items, 4 rows per chunk, split
	// "valid" for i%4==3 (i=3,7) → 8 train, 2 valid.
	if in.Items != 10 || in.Chunks != 3 || in.Splits["train"] != 8 || in.Splits["valid"] != 2 ||
		in.SpecDigest != spec.Digest() || in.Spec.WeightsDigest != spec.WeightsDigest || in.Spec.Tap != "features" ||
		strings.Join(in.Classes, ",") != "cat,dog" || in.URL != "/stores/vgg-a" || in.DiskBytes <= 0 ||
		in.Created.IsZero() || in.PreconvVersion == "" || in.Spec.DType != "f32" || len(in.Spec.FeatureShape) != 3 {
		t.Fatalf("info = %+v", in)
	}
	if time.Since(in.Created) > time.Hour {
		t.Fatalf("created %v", in.Created)
	}

	for _, p := range []string{"/api/stores/nope", "/api/stores/junk", "/api/stores/.preconv", "/api/stores/plainfile"} {
		code, body, _ = get(t, ts, p, readTok)
		var eb errorBody
		mustJSON(t, body, &eb)
		if code != 404 && code != 400 || eb.Status != code || eb.Error == "" {
			t.Errorf("%s: %d %s, want 404/400 JSON error", p, code, body)
		}
	}

	cases := []struct{ q, want string }{
		{"weights_digest=" + sha("w1"), "vgg-a,vgg-b"},
		{"weights_digest=" + sha("w1") + "&tap=features", "vgg-a"},
		{"spec_digest=" + testSpec("w2", "features").Digest(), "other"},
		{"weights_digest=" + sha("w3"), ""},
		{"", "other,vgg-a,vgg-b"},
	}
	for _, c := range cases {
		code, body, _ := get(t, ts, "/api/search?"+c.q, readTok)
		if code != 200 {
			t.Fatalf("search %s: %d %s", c.q, code, body)
		}
		var res []StoreInfo
		mustJSON(t, body, &res)
		var got []string
		for _, s := range res {
			got = append(got, s.Name)
		}
		if strings.Join(got, ",") != c.want {
			t.Errorf("search %s = %v, want %s", c.q, got, c.want)
		}
	}
	if code, body, _ := get(t, ts, "/api/search?weights=x", readTok); code != 400 {
		t.Errorf("unknown search parameter: %d %s, want 400", code, body)
	}
}

func TestFilesByteIdentical(t *testing.T) {
	root := fixture(t)
	_, ts := newTestServer(t, Config{Root: root, AnonymousRead: true})
	dir := filepath.Join(root, "vgg-a")
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			if rel == ".preconv" {
				return filepath.SkipDir
			}
			return nil
		}
		want, _ := os.ReadFile(p)
		code, got, h := get(t, ts, "/stores/vgg-a/"+filepath.ToSlash(rel), "")
		if code != 200 || !bytes.Equal(got, want) {
			t.Errorf("%s: %d, %d bytes, want 200 and %d identical bytes", rel, code, len(got), len(want))
		}
		if h.Get("Content-Length") != strconvItoa(len(want)) || h.Get("ETag") == "" || h.Get("Last-Modified") == "" {
			t.Errorf("%s: headers %v", rel, h)
		}
		n++
		return nil
	})
	// .zgroup .zattrs records.jsonl + features(.zarray + 3 chunks) + labels(.zarray+1) + keys(.zarray+1)
	if n < 10 {
		t.Fatalf("only %d files checked", n)
	}
	// Absent keys zarr probes for are 404.
	for _, p := range []string{".zmetadata", "features/.zgroup", "features/.zattrs", "labels/.zattrs", "features/9.0.0.0", "features/3.0.0.0", "nope/.zarray", "features"} {
		if code, body, _ := get(t, ts, "/stores/vgg-a/"+p, ""); code != 404 {
			t.Errorf("%s: %d %s, want 404", p, code, body)
		}
	}
	if code, _, _ := get(t, ts, "/stores/nope/.zgroup", ""); code != 404 {
		t.Errorf("missing store: %d, want 404", code)
	}
	if code, _, _ := get(t, ts, "/stores/junk/x", ""); code != 404 {
		t.Errorf("non-store dir: %d, want 404", code)
	}
	// Conditional request: ETag round trip gives 304.
	_, _, h := get(t, ts, "/stores/vgg-a/.zattrs", "")
	req, _ := http.NewRequest("GET", ts.URL+"/stores/vgg-a/.zattrs", nil)
	req.Header.Set("If-None-Match", h.Get("ETag"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 304 {
		t.Errorf("If-None-Match: %d, want 304", resp.StatusCode)
	}
}

func strconvItoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestTraversalRefused(t *testing.T) {
	root := fixture(t)
	outside := t.TempDir()
	secret := "TOP-SECRET-CONTENT"
	os.WriteFile(filepath.Join(outside, "secret"), []byte(secret), 0o644)
	os.WriteFile(filepath.Join(root, "rootsecret"), []byte(secret), 0o644)
	dir := filepath.Join(root, "vgg-a")
	// Symlinks: one leaving the root, one (a whole store) pointing outside,
	// one staying inside (allowed), one into .preconv (refused).
	must(t, os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "leak")))
	must(t, os.Symlink(outside, filepath.Join(root, "evilstore")))
	must(t, os.WriteFile(filepath.Join(outside, ".zgroup"), []byte(secret), 0o644))
	must(t, os.Symlink(filepath.Join(root, "vgg-b", "records.jsonl"), filepath.Join(dir, "inside")))
	must(t, os.Symlink(filepath.Join(dir, ".preconv"), filepath.Join(dir, "meta")))
	entries, _ := os.ReadDir(filepath.Join(dir, ".preconv", "chunks"))
	if len(entries) == 0 {
		t.Fatal("fixture has no .preconv/chunks entries")
	}
	chunkJSON := entries[0].Name()

	_, ts := newTestServer(t, Config{Root: root, AnonymousRead: true})
	bad := []string{
		"/stores/vgg-a/.preconv/chunks/" + chunkJSON,
		"/stores/vgg-a/.preconv/lock",
		"/stores/vgg-a/features/../.preconv/chunks/" + chunkJSON,
		"/stores/vgg-a/%2epreconv/chunks/" + chunkJSON,
		"/stores/vgg-a/meta/chunks/" + chunkJSON,
		"/stores/vgg-a/../rootsecret",
		"/stores/vgg-a/../../" + filepath.Base(outside) + "/secret",
		"/stores/vgg-a/%2e%2e/rootsecret",
		"/stores/vgg-a/%2E%2E/rootsecret",
		"/stores/vgg-a/..%2frootsecret",
		"/stores/vgg-a/..%2Frootsecret",
		"/stores/vgg-a/%2e%2e%2frootsecret",
		"/stores/%2e%2e/rootsecret",
		"/stores/vgg-a/%2F" + strings.TrimPrefix(filepath.Join(outside, "secret"), "/"),
		"/stores/vgg-a//" + strings.TrimPrefix(filepath.Join(outside, "secret"), "/"),
		"/stores/vgg-a/" + url(filepath.Join(outside, "secret")),
		"/stores/vgg-a/..%5crootsecret",
		"/stores/vgg-a/features%00",
		"/stores/vgg-a/leak",
		"/stores/evilstore/.zgroup",
		"/stores/evilstore/secret",
		"/stores/.preconv/lock",
	}
	checkRefused(t, ts, bad, secret)
	// A symlink that stays inside the root is followed.
	want, _ := os.ReadFile(filepath.Join(root, "vgg-b", "records.jsonl"))
	if code, got, _ := get(t, ts, "/stores/vgg-a/inside", ""); code != 200 || !bytes.Equal(got, want) {
		t.Errorf("inside symlink: %d %q", code, got)
	}
	// evilstore is not listed either.
	_, body, _ := get(t, ts, "/api/stores", "")
	if bytes.Contains(body, []byte("evilstore")) {
		t.Errorf("listing includes a store outside the root: %s", body)
	}

	// The same requests against a bucket root holding the same stores (and
	// the secret beside them, and a pushed store's bookkeeping).
	bucketRoots(t, func(t *testing.T, b objstore.Bucket) {
		bucketFixture(t, b, root)
		must(t, b.Put(t.Context(), "rootsecret", strings.NewReader(secret), int64(len(secret))))
		_, ts := newTestServer(t, Config{Bucket: b, AnonymousRead: true})
		checkRefused(t, ts, append(bad, "/stores/vgg-a/.preconv/files.json", "/stores/.preconv-server/stores/x/current.json",
			"/stores/vgg-a@"+strings.Repeat("0", 20)+"/.zgroup"), secret)
		if code, _, _ := get(t, ts, "/stores/vgg-a/.zgroup", ""); code != 200 {
			t.Fatalf("bucket root: .zgroup %d", code)
		}
	})
}

// bucketFixture copies the fixture's stores under root to b with storesync
// (as 'preconv push DIR s3://…/NAME' would) and adds junk beside them.
func bucketFixture(t *testing.T, b objstore.Bucket, root string) {
	t.Helper()
	for _, n := range []string{"vgg-a", "vgg-b", "other"} {
		if _, err := storesync.Push(t.Context(), filepath.Join(root, n), b, n); err != nil {
			t.Fatal(err)
		}
	}
	must(t, b.Put(t.Context(), "junk/x", strings.NewReader("x"), 1))
}

// checkRefused fails unless every path in bad is answered 400 or 404 (after
// following a ServeMux redirect to a cleaned path) without secret in it.
func checkRefused(t *testing.T, ts *httptest.Server, bad []string, secret string) {
	t.Helper()
	for _, p := range bad {
		code, body, h := get(t, ts, p, "")
		t.Logf("%-60s → %d %s", p, code, h.Get("Location"))
		if code/100 == 3 { // ServeMux redirected to the cleaned path: follow it
			loc := h.Get("Location")
			if !strings.HasPrefix(loc, "/") {
				t.Fatalf("%s: redirect to %q", p, loc)
			}
			code, body, _ = get(t, ts, loc, "")
			if code != 404 {
				t.Errorf("%s → %s: %d, want 404", p, loc, code)
			}
		}
		if code == 200 || bytes.Contains(body, []byte(secret)) || bytes.Contains(body, []byte(`"spec_digest"`)) {
			t.Errorf("%s: %d %q: served", p, code, body)
		}
		if code != 400 && code != 404 && code != 301 && code != 307 && code != 308 {
			t.Errorf("%s: status %d, want 400/404 (or a redirect to a cleaned path)", p, code)
		}
	}
}

// url percent-encodes every '/' of an absolute path.
func url(p string) string { return strings.ReplaceAll(p, "/", "%2f") }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestCleanKey(t *testing.T) {
	ok := []string{".zgroup", "features/0.0.0.0", "labels/0", "records.jsonl", "features/.zarray"}
	for _, k := range ok {
		if _, err := cleanKey(k); err != nil {
			t.Errorf("%q: %v", k, err)
		}
	}
	bad := map[string]error{"": ErrNotFound, "..": ErrBadPath, "a/../b": ErrBadPath, "/etc/passwd": ErrBadPath,
		"a//b": ErrBadPath, "./a": ErrBadPath, "a\\..\\b": ErrBadPath, "a\x00": ErrBadPath,
		".preconv/lock": ErrNotFound, "features/.tmp-c.0.0.0-123": ErrNotFound, "x/.preconv": ErrNotFound}
	for k, want := range bad {
		if _, err := cleanKey(k); !errors.Is(err, want) {
			t.Errorf("%q: %v, want %v", k, err, want)
		}
	}
}

func TestAuth(t *testing.T) {
	root := fixture(t)
	toks := map[string]Scope{readTok: ScopeRead, "write-only-token": ScopeWrite, "both-scopes-tok": ScopeRead | ScopeWrite}
	_, closed := newTestServer(t, Config{Root: root, Tokens: toks})
	_, open := newTestServer(t, Config{Root: root, Tokens: toks, AnonymousRead: true})
	checkAuth(t, closed, open)
	bucketRoots(t, func(t *testing.T, b objstore.Bucket) {
		bucketFixture(t, b, root)
		_, closed := newTestServer(t, Config{Bucket: b, Tokens: toks})
		_, open := newTestServer(t, Config{Bucket: b, Tokens: toks, AnonymousRead: true})
		checkAuth(t, closed, open)
	})
}

// checkAuth runs the token table against two servers over the fixture's
// stores, without and with anonymous read.
func checkAuth(t *testing.T, closed, open *httptest.Server) {
	t.Helper()
	paths := []string{"/", "/api/stores", "/api/stores/vgg-a", "/api/search?tap=features", "/stores/vgg-a/.zgroup"}
	cases := []struct {
		name  string
		anon  bool
		token string
		want  int
	}{
		{"no token", false, "", 401},
		{"unknown token", false, "not-a-known-token", 401},
		{"read token", false, readTok, 200},
		{"read+write token", false, "both-scopes-tok", 200},
		{"write-only token", false, "write-only-token", 403},
		{"anonymous read, no token", true, "", 200},
		{"anonymous read, bad token", true, "not-a-known-token", 401},
	}
	for _, c := range cases {
		ts := closed
		if c.anon {
			ts = open
		}
		for _, p := range paths {
			code, body, h := get(t, ts, p, c.token)
			if code != c.want {
				t.Errorf("%s %s: %d %s, want %d", c.name, p, code, body, c.want)
			}
			if c.want == 401 && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s: no WWW-Authenticate", c.name, p)
			}
			if c.want >= 400 {
				var eb errorBody
				mustJSON(t, body, &eb)
				if eb.Status != c.want {
					t.Errorf("%s %s: body %s", c.name, p, body)
				}
			}
		}
	}
	// Malformed Authorization header.
	req, _ := http.NewRequest("GET", closed.URL+"/api/stores", nil)
	req.Header.Set("Authorization", "Basic "+readTok)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("Basic auth: %d, want 401", resp.StatusCode)
	}
}

func TestLoadTokens(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "tokens.json")
		must(t, os.WriteFile(p, []byte(s), 0o600))
		return p
	}
	m, err := LoadTokens(write(`{"tokens":[{"token":"aaaaaaaaaa","scopes":["read"],"name":"team-a"},{"token":"bbbbbbbbbb","scopes":["read","write"],"name":"team-b"}]}`))
	if err != nil || len(m) != 2 || m["aaaaaaaaaa"] != ScopeRead || m["bbbbbbbbbb"] != ScopeRead|ScopeWrite {
		t.Fatalf("LoadTokens = %v, %v", m, err)
	}
	for _, bad := range []string{
		`{"tokens":[{"token":"short","scopes":["read"]}]}`,
		`{"tokens":[{"token":"aaaaaaaaaa","scopes":["admin"]}]}`,
		`{"tokens":[{"token":"aaaaaaaaaa","scopes":["read"]},{"token":"aaaaaaaaaa","scopes":["read"]}]}`,
		`{"tokens":[{"token":"aaaaaaaaaa","scope":["read"]}]}`,
		`{"tokens":`,
		strings.Repeat(" ", maxTokenFile+1) + `{}`,
	} {
		if _, err := LoadTokens(write(bad)); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "tokens.json") {
			t.Errorf("%.60q: %v, want ErrConfig naming the file", bad, err)
		}
	}
	if _, err := LoadTokens(filepath.Join(dir, "none.json")); !errors.Is(err, ErrConfig) {
		t.Errorf("missing file: %v", err)
	}
}

func TestIndexPage(t *testing.T) {
	root := fixture(t)
	hostile := `<img src=x onerror=alert(1)>&"'` // no '/': it is one directory
	makeStore(t, filepath.Join(root, hostile), testSpec("w9", "features"), 3, 4)
	_, ts := newTestServer(t, Config{Root: root, AnonymousRead: true})
	code, body, h := get(t, ts, "/", "")
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("index: %d %s", code, body)
	}
	page := string(body)
	for _, n := range []string{"vgg-a", "vgg-b", "other", "tiny", "features.23", "[4 2 2]"} {
		if !strings.Contains(page, n) {
			t.Errorf("page lacks %q", n)
		}
	}
	if strings.Contains(page, "<img") {
		t.Errorf("hostile store name not escaped:\n%s", page)
	}
	if !strings.Contains(page, "&lt;img src=x onerror=alert(1)&gt;&amp;") {
		t.Errorf("hostile store name missing (escaped) from page:\n%s", page)
	}
	// The hostile name is still a valid store through the API.
	var list []StoreInfo
	_, body, _ = get(t, ts, "/api/stores", "")
	mustJSON(t, body, &list)
	if len(list) != 4 {
		t.Errorf("%d stores, want 4", len(list))
	}
}

func TestNewConfigErrors(t *testing.T) {
	for _, c := range []Config{{}, {Root: filepath.Join(t.TempDir(), "missing")}, {Root: t.TempDir(), TLSCert: "x"},
		{Root: t.TempDir(), Tokens: map[string]Scope{"short": ScopeRead}}, {Root: t.TempDir(), MaxBodyBytes: -1},
		{Root: t.TempDir(), TLSCert: "/nonexistent.pem", TLSKey: "/nonexistent.key"}} {
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v) = %v, want ErrConfig", c, err)
		}
	}
}

// The cache notices a recommit.
func TestInfoRefreshOnCommit(t *testing.T) {
	root := t.TempDir()
	makeStore(t, filepath.Join(root, "s"), testSpec("w1", "features"), 4, 4)
	_, ts := newTestServer(t, Config{Root: root, AnonymousRead: true})
	var in StoreInfo
	_, body, _ := get(t, ts, "/api/stores/s", "")
	mustJSON(t, body, &in)
	if in.Items != 4 {
		t.Fatalf("items %d", in.Items)
	}
	time.Sleep(10 * time.Millisecond) // distinct mtime
	makeStore(t, filepath.Join(root, "s"), testSpec("w1", "features"), 7, 4)
	_, body, _ = get(t, ts, "/api/stores/s", "")
	mustJSON(t, body, &in)
	if in.Items != 7 {
		t.Fatalf("after recommit: items %d, want 7", in.Items)
	}
}

// fsspec issues HEAD for sizes and Range reads for partial chunks.
func TestHeadAndRange(t *testing.T) {
	root := fixture(t)
	_, ts := newTestServer(t, Config{Root: root, Tokens: map[string]Scope{readTok: ScopeRead}})
	want, err := os.ReadFile(filepath.Join(root, "vgg-a", "features", "0.0.0.0"))
	must(t, err)
	req, _ := http.NewRequest("HEAD", ts.URL+"/stores/vgg-a/features/0.0.0.0", nil)
	req.Header.Set("Authorization", "Bearer "+readTok)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(want)) {
		t.Fatalf("HEAD: %d, length %d, want 200, %d", resp.StatusCode, resp.ContentLength, len(want))
	}
	req, _ = http.NewRequest("GET", ts.URL+"/stores/vgg-a/features/0.0.0.0", nil)
	req.Header.Set("Authorization", "Bearer "+readTok)
	req.Header.Set("Range", "bytes=4-11")
	resp, err = http.DefaultClient.Do(req)
	must(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 206 || !bytes.Equal(b, want[4:12]) {
		t.Fatalf("Range: %d %x, want 206 %x", resp.StatusCode, b, want[4:12])
	}
	// Only GET/HEAD are routed.
	req, _ = http.NewRequest("PUT", ts.URL+"/stores/vgg-a/features/0.0.0.0", strings.NewReader("x"))
	req.Header.Set("Authorization", "Bearer "+readTok)
	resp, err = http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode == 200 || resp.StatusCode/100 == 2 {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	after, _ := os.ReadFile(filepath.Join(root, "vgg-a", "features", "0.0.0.0"))
	if !bytes.Equal(after, want) {
		t.Fatal("PUT changed the chunk")
	}
}
