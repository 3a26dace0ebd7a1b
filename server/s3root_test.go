package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/preconv/preconv/objstore"
	"github.com/preconv/preconv/objstore/s3test"
	"github.com/preconv/preconv/storesync"
)

// bucketRoots runs f once over an objstore directory bucket (always: the
// bucket code path without a server) and once over a real S3 server
// (versitygw on loopback through s3test: skipped when it is not installed,
// a failure under CI).
func bucketRoots(t *testing.T, f func(t *testing.T, b objstore.Bucket)) {
	t.Run("dir", func(t *testing.T) { f(t, objstore.NewDir(t.TempDir())) })
	t.Run("s3", func(t *testing.T) { f(t, s3test.NewBucket(t)) })
}

func bucketConfig(b objstore.Bucket) Config {
	cfg := pushConfig("")
	cfg.Bucket = b
	return cfg
}

// storeFiles reads every file of BuildManifest(dir).
func storeFiles(t *testing.T, dir string) (*Manifest, map[string][]byte) {
	t.Helper()
	m, err := BuildManifest(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range m.Files {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		out[f.Path] = b
	}
	return m, out
}

// fileRoute is the URL path that serves file p of ref.
func fileRoute(ref, p string) string {
	if strings.HasPrefix(p, ".preconv/") {
		return "/api/v1/stores/" + ref + "/files/" + p
	}
	return "/stores/" + ref + "/" + p
}

// sameServed fails unless every file of dir is served byte for byte as ref.
func sameServed(t *testing.T, ts interface{ Close() }, get func(string) (int, []byte, http.Header), ref, dir, version string) {
	t.Helper()
	m, files := storeFiles(t, dir)
	for _, f := range m.Files {
		code, got, h := get(fileRoute(ref, f.Path))
		if code != 200 || !bytes.Equal(got, files[f.Path]) {
			t.Fatalf("GET %s: %d, %d bytes (want %d)", fileRoute(ref, f.Path), code, len(got), len(files[f.Path]))
		}
		if version != "" && h.Get("X-Preconv-Version") != version || h.Get("X-Content-Sha256") != f.SHA256 {
			t.Fatalf("GET %s: version %q sha %q, want %q %q", f.Path, h.Get("X-Preconv-Version"), h.Get("X-Content-Sha256"), version, f.SHA256)
		}
	}
}

// TestBucketRootPush pushes over HTTP to a server whose root is a bucket:
// the store is served byte for byte (current and pinned versions, Range),
// identical files are stored once, a half-finished push is invisible, and
// old versions beyond KeepVersions are dropped with their blobs.
func TestBucketRootPush(t *testing.T) {
	src := t.TempDir()
	a, b, c := filepath.Join(src, "a"), filepath.Join(src, "b"), filepath.Join(src, "c")
	makeStore(t, a, testSpec("w1", "features"), 10, 4)
	makeStore(t, b, testSpec("w1", "features"), 14, 4)
	makeStore(t, c, testSpec("w2", "features"), 5, 4)
	bucketRoots(t, func(t *testing.T, bkt objstore.Bucket) {
		cfg := bucketConfig(bkt)
		cfg.KeepVersions, cfg.GCGrace = 2, -1
		s, ts := newTestServer(t, cfg)
		g := func(p string) (int, []byte, http.Header) { return get(t, ts, p, readTok) }

		code, body := rawPush(t, ts, a, "shared", "")
		if code != 200 {
			t.Fatalf("commit: %d %s", code, body)
		}
		var r1 CommitResult
		mustJSON(t, body, &r1)
		ma, _ := BuildManifest(t.Context(), a)
		if r1.Version != ma.Version || r1.Files != len(ma.Files) {
			t.Fatalf("commit = %+v, want version %s", r1, ma.Version)
		}
		code, body, _ = g("/api/stores/shared")
		var in StoreInfo
		mustJSON(t, body, &in)
		if code != 200 || in.Items != 10 || in.Chunks != 3 || in.Version != r1.Version || in.PushedBy != "tester" || in.Spec.WeightsDigest != sha("w1") {
			t.Fatalf("info: %d %+v", code, in)
		}
		var total int64
		for _, f := range ma.Files {
			total += f.Size
		}
		if in.DiskBytes != total {
			t.Fatalf("disk bytes %d, want %d (sum of the store's files)", in.DiskBytes, total)
		}
		sameServed(t, ts, g, "shared", a, r1.Version)

		// Range and conditional requests on a blob-backed file.
		_, files := storeFiles(t, a)
		chunk := files["features/1.0.0.0"]
		req, _ := http.NewRequest("GET", ts.URL+"/stores/shared/features/1.0.0.0", nil)
		req.Header.Set("Authorization", "Bearer "+readTok)
		req.Header.Set("Range", "bytes=5-20")
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 206 || !bytes.Equal(got, chunk[5:21]) {
			t.Fatalf("Range: %d %x, want 206 %x", resp.StatusCode, got, chunk[5:21])
		}
		req.Header.Del("Range")
		req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
		resp, err = http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != 304 {
			t.Fatalf("If-None-Match: %d, want 304", resp.StatusCode)
		}

		// The same files under a second name: nothing new stored.
		if code, body := rawPush(t, ts, a, "copy", ""); code != 200 {
			t.Fatalf("commit copy: %d %s", code, body)
		}
		st, err := s.BlobStats()
		must(t, err)
		if st.SavedBytes != r1.Bytes || st.LogicalBytes != 2*r1.Bytes || st.BlobBytes != r1.Bytes {
			t.Fatalf("stats %+v, want blobs = saved = logical/2 = %d", st, r1.Bytes)
		}

		// A half-finished push (blobs of c uploaded, no commit) is invisible.
		mc, cfiles := storeFiles(t, c)
		for _, f := range mc.Files {
			do(t, ts, "PUT", "/api/v1/blobs/"+f.SHA256, writeTok, bytes.NewReader(cfiles[f.Path]))
		}
		if code, _, _ := g("/api/stores/half"); code != 404 {
			t.Fatalf("half-finished push: info %d, want 404", code)
		}
		if code, _, _ := g("/stores/half/.zattrs"); code != 404 {
			t.Fatalf("half-finished push: .zattrs %d, want 404", code)
		}
		// Nor is a commit that died after writing the version's manifest
		// but before the current pointer.
		hm, _ := json.Marshal(Manifest{Name: "half", Version: mc.Version, Files: mc.Files})
		must(t, bkt.Put(t.Context(), verKey("half", mc.Version), bytes.NewReader(hm), int64(len(hm))))
		for _, p := range []string{"/api/stores/half", "/stores/half/.zattrs", "/stores/half@" + mc.Version + "/.zattrs"} {
			if code, _, _ := g(p); code != 404 {
				t.Fatalf("commit cut before its pointer: GET %s %d, want 404", p, code)
			}
		}
		if _, body, _ := g("/api/v1/stores"); bytes.Contains(body, []byte(`"half"`)) {
			t.Fatalf("commit cut before its pointer is listed: %s", body)
		}

		// A second version; the first stays readable pinned (and its info
		// lists both versions once the second exists).
		pinnedVersions := func() []string {
			_, body, _ := g("/api/stores/shared@" + r1.Version)
			var in StoreInfo
			mustJSON(t, body, &in)
			return in.Versions
		}
		if v := pinnedVersions(); len(v) != 1 {
			t.Fatalf("versions before the second push: %v", v)
		}
		code, body = rawPush(t, ts, b, "shared", r1.Version)
		var r2 CommitResult
		mustJSON(t, body, &r2)
		if code != 200 || r2.Previous != r1.Version {
			t.Fatalf("second commit: %d %s", code, body)
		}
		sameServed(t, ts, g, "shared", b, r2.Version)
		sameServed(t, ts, g, "shared@"+r1.Version, a, r1.Version)
		if v := pinnedVersions(); len(v) != 2 || v[0] != r1.Version || v[1] != r2.Version {
			t.Fatalf("versions after the second push: %v, want [%s %s]", v, r1.Version, r2.Version)
		}
		// A stale parent: 409, nothing changed.
		if code, body := rawPush(t, ts, c, "shared", r1.Version); code != 409 {
			t.Fatalf("stale parent: %d %s, want 409", code, body)
		}
		code, body, _ = g("/api/v1/stores/shared/manifest")
		var mm Manifest
		mustJSON(t, body, &mm)
		if code != 200 || mm.Version != r2.Version || VersionOf(mm.Files) != r2.Version {
			t.Fatalf("manifest: %d version %s, want %s", code, mm.Version, r2.Version)
		}

		// A third version drops the first (KeepVersions 2) and collects the
		// blobs only it used (no grace); the kept versions stay whole.
		code, body = rawPush(t, ts, c, "shared", "")
		var r3 CommitResult
		mustJSON(t, body, &r3)
		if code != 200 || len(r3.Pruned) != 1 || r3.Pruned[0] != r1.Version {
			t.Fatalf("third commit: %d %s", code, body)
		}
		if code, _, _ := g("/stores/shared@" + r1.Version + "/.zattrs"); code != 404 {
			t.Fatalf("pruned version still served: %d", code)
		}
		sameServed(t, ts, g, "shared@"+r2.Version, b, r2.Version)
		sameServed(t, ts, g, "shared", c, r3.Version)
		sameServed(t, ts, g, "copy", a, r1.Version) // a's blobs: still used by "copy"
		// Unreferenced blobs are gone: after deleting "copy"'s only version
		// pointer there is nothing of a left to keep.
		must(t, bkt.Delete(t.Context(), curKey("copy")))
		s.CollectGarbage(-1)
		st, err = s.BlobStats()
		must(t, err)
		if st.BlobBytes != st.LogicalBytes-st.SavedBytes || st.LogicalBytes != r2.Bytes+r3.Bytes {
			t.Fatalf("after GC: %+v, want logical %d", st, r2.Bytes+r3.Bytes)
		}
		mb, _ := BuildManifest(t.Context(), b)
		used := map[string]bool{}
		for _, f := range append(mb.Files, mc.Files...) {
			used[f.SHA256] = true
		}
		if st.Blobs != len(used) {
			t.Fatalf("after GC: %d blobs, want %d (those of the kept versions)", st.Blobs, len(used))
		}
	})
}

// TestBucketRootStoresyncStore: a store pushed straight to the bucket with
// storesync (preconv push s3://…) is listed, searchable and served, can be
// pulled through the manifest API, and cannot be pushed to over HTTP.
func TestBucketRootStoresyncStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	makeStore(t, dir, testSpec("w9", "block5"), 13, 4)
	bucketRoots(t, func(t *testing.T, bkt objstore.Bucket) {
		if _, err := storesync.Push(t.Context(), dir, bkt, "direct"); err != nil {
			t.Fatal(err)
		}
		// A second storesync store whose push was cut short before its
		// commit point is not listed, nor one whose .zattrs its
		// files.json does not describe (a push replacing it).
		if err := bkt.Put(t.Context(), "broken/.zgroup", strings.NewReader("{}"), 2); err != nil {
			t.Fatal(err)
		}
		if _, err := storesync.Push(t.Context(), dir, bkt, "mid"); err != nil {
			t.Fatal(err)
		}
		zb, err := objstore.ReadAll(t.Context(), bkt, "mid/.zattrs", 1<<20)
		must(t, err)
		zb = append(zb, ' ')
		must(t, bkt.Put(t.Context(), "mid/.zattrs", bytes.NewReader(zb), int64(len(zb))))
		_, ts := newTestServer(t, bucketConfig(bkt))
		g := func(p string) (int, []byte, http.Header) { return get(t, ts, p, readTok) }
		code, body, _ := g("/api/v1/stores")
		var list []StoreInfo
		mustJSON(t, body, &list)
		if code != 200 || len(list) != 1 || list[0].Name != "direct" || list[0].Items != 13 || list[0].Spec.Tap != "block5" || list[0].Version != "" {
			t.Fatalf("list: %d %s", code, body)
		}
		code, body, _ = g("/api/search?weights_digest=" + sha("w9") + "&tap=block5")
		mustJSON(t, body, &list)
		if code != 200 || len(list) != 1 {
			t.Fatalf("search: %d %s", code, body)
		}
		code, body, _ = g("/api/search?tap=other")
		if mustJSON(t, body, &list); len(list) != 0 {
			t.Fatalf("search for another tap: %s", body)
		}
		sameServed(t, ts, g, "direct", dir, "")
		if code, body, _ := g("/"); code != 200 || !bytes.Contains(body, []byte(`<td class="name"><a href="/api/stores/direct">direct</a>`)) || bytes.Contains(body, []byte("mid")) {
			t.Fatalf("index page: %d\n%s", code, body)
		}
		// The manifest agrees with the directory's (so client.Pull works).
		want, _ := BuildManifest(t.Context(), dir)
		code, body, _ = g("/api/v1/stores/direct/manifest")
		var m Manifest
		mustJSON(t, body, &m)
		if code != 200 || m.Version != want.Version {
			t.Fatalf("manifest: %d version %s, want %s", code, m.Version, want.Version)
		}
		// storesync's own bookkeeping is not served.
		for _, p := range []string{"/stores/direct/.preconv/files.json", "/api/v1/stores/direct/files/.preconv/files.json", "/stores/broken/.zgroup",
			"/stores/mid/.zattrs", "/api/v1/stores/mid"} {
			if code, _, _ := g(p); code != 404 && code != 400 {
				t.Errorf("GET %s: %d, want 404 or 400", p, code)
			}
		}
		if code, body := rawPush(t, ts, dir, "direct", ""); code != 409 {
			t.Fatalf("HTTP push onto a storesync store: %d %s, want 409", code, body)
		}
	})
}

// TestBucketRootSecurity: tokens and scopes, bad hashes and names,
// traversal attempts, all against a bucket root.
func TestBucketRootSecurity(t *testing.T) {
	src := filepath.Join(t.TempDir(), "a")
	makeStore(t, src, testSpec("w1", "features"), 6, 4)
	bucketRoots(t, func(t *testing.T, bkt objstore.Bucket) {
		if _, err := storesync.Push(t.Context(), src, bkt, "plain"); err != nil {
			t.Fatal(err)
		}
		cfg := bucketConfig(bkt)
		cfg.MaxUploadBytes = 1000
		_, ts := newTestServer(t, cfg)
		if code, body := rawPush(t, ts, src, "ok", ""); code != 200 {
			t.Fatalf("push: %d %s", code, body)
		}
		data := []byte("hello blob")
		sum := sha256.Sum256(data)
		good := hex.EncodeToString(sum[:])
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
			if tok != readTok {
				for _, p := range []string{"/api/v1/stores", "/stores/ok/.zattrs", "/stores/plain/.zattrs", "/api/v1/stores/ok/manifest"} {
					if code, _, _ := get(t, ts, p, tok); code != 401 {
						t.Errorf("GET %s with token %q: %d, want 401", p, tok, code)
					}
				}
			}
		}
		bad := strings.Repeat("ab", 32)
		if code, body := do(t, ts, "PUT", "/api/v1/blobs/"+bad, writeTok, bytes.NewReader(data)); code != 400 {
			t.Fatalf("mismatched blob: %d %s", code, body)
		}
		if _, err := bkt.Stat(t.Context(), blobKey(bad)); !errors.Is(err, objstore.ErrNotExist) {
			t.Fatalf("mismatched blob was kept: %v", err)
		}
		big := bytes.Repeat([]byte("x"), 1001)
		bs := sha256.Sum256(big)
		if code, body := do(t, ts, "PUT", "/api/v1/blobs/"+hex.EncodeToString(bs[:]), writeTok, io.MultiReader(bytes.NewReader(big))); code != 413 {
			t.Fatalf("oversized streamed upload: %d %s", code, body)
		}
		code, body := do(t, ts, "POST", "/api/v1/blobs/missing", writeTok, strings.NewReader(`{"sha256":["`+good+`","`+bad+`"]}`))
		var miss struct{ Missing []string }
		mustJSON(t, body, &miss)
		if code != 200 || len(miss.Missing) != 2 {
			t.Fatalf("missing: %d %s", code, body)
		}
		m, _ := BuildManifest(t.Context(), src)
		for _, p := range []string{"../x", ".preconv/lock", "features/.tmp-c.0", "a\\b"} {
			bm := Manifest{Files: append([]FileEntry{{Path: p, SHA256: good, Size: int64(len(data))}}, m.Files...)}
			b, _ := json.Marshal(bm)
			if code, body := do(t, ts, "POST", "/api/v1/stores/evil/commit", writeTok, bytes.NewReader(b)); code != 400 {
				t.Errorf("manifest path %q: %d %s, want 400", p, code, body)
			}
		}
		mb, _ := json.Marshal(Manifest{Files: m.Files})
		for _, name := range []string{"%2e%2e", ".preconv-server", "a%2fb", "a%5cb", "x@y", "%00"} {
			if code, body := do(t, ts, "POST", "/api/v1/stores/"+name+"/commit", writeTok, bytes.NewReader(mb)); code != 400 && code != 404 {
				t.Errorf("commit to %q: %d %s, want 400/404", name, code, body)
			}
		}
		// A manifest whose chunks are swapped against their index: 422.
		swapped := Manifest{Files: append([]FileEntry(nil), m.Files...)}
		var chunks []int
		for i, f := range swapped.Files {
			if isFeatureChunk(f.Path) {
				chunks = append(chunks, i)
			}
		}
		x, y := chunks[0], chunks[1]
		swapped.Files[x].SHA256, swapped.Files[y].SHA256 = swapped.Files[y].SHA256, swapped.Files[x].SHA256
		swapped.Files[x].Size, swapped.Files[y].Size = swapped.Files[y].Size, swapped.Files[x].Size
		sb, _ := json.Marshal(swapped)
		if code, body := do(t, ts, "POST", "/api/v1/stores/swapped/commit", writeTok, bytes.NewReader(sb)); code != 422 {
			t.Fatalf("chunks swapped: %d %s, want 422", code, body)
		}
		for _, p := range []string{"/stores/ok/../../x", "/stores/ok/%2e%2e/%2e%2e/x", "/stores/plain/..%2f..%2fok%2f.zattrs",
			"/stores/plain/features%2f..%2f..%2fok%2f.zattrs", "/api/v1/stores/ok/files/.preconv/lock",
			"/api/v1/stores/..%2f..%2fetc/manifest", "/api/v1/stores/ok@..%2f..%2fx/manifest", "/stores/ok@%2e%2e/.zattrs",
			"/api/v1/stores/.preconv-server/manifest", "/stores/.preconv-server/blobs/" + good[:2] + "/" + good,
			"/stores/.preconv-server/stores/ok/current.json", "/stores/plain/.preconv/files.json", "/stores/ok/features/.zarray%00",
			"/stores/%2e%2e/.preconv-server/stores/ok/current.json"} {
			code, body, _ := get(t, ts, p, readTok)
			if code == 200 || code >= 500 {
				t.Errorf("GET %s: %d %s", p, code, body)
			}
		}
		if code, body, _ := get(t, ts, "/api/stores/swapped", readTok); code != 404 {
			t.Fatalf("refused commit visible: %d %s", code, body)
		}
	})
}

// TestBucketRootConcurrentPushes commits two stores to one name from many
// goroutines: every commit succeeds and the store ends as one of them, whole.
func TestBucketRootConcurrentPushes(t *testing.T) {
	src := t.TempDir()
	dirs := []string{filepath.Join(src, "a"), filepath.Join(src, "b")}
	makeStore(t, dirs[0], testSpec("w1", "features"), 10, 4)
	makeStore(t, dirs[1], testSpec("w2", "features"), 7, 4)
	bucketRoots(t, func(t *testing.T, bkt objstore.Bucket) {
		_, ts := newTestServer(t, bucketConfig(bkt))
		var bodies [2][]byte
		byVersion := map[string]string{}
		for i, d := range dirs {
			m, files := storeFiles(t, d)
			for _, f := range m.Files {
				do(t, ts, "PUT", "/api/v1/blobs/"+f.SHA256, writeTok, bytes.NewReader(files[f.Path]))
			}
			bodies[i], _ = json.Marshal(Manifest{Files: m.Files, PushedBy: d})
			byVersion[m.Version] = d
		}
		var wg sync.WaitGroup
		errs := make(chan string, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if code, body := do(t, ts, "POST", "/api/v1/stores/race/commit", writeTok, bytes.NewReader(bodies[i%2])); code != 200 {
					errs <- string(body)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Errorf("concurrent commit failed: %s", e)
		}
		code, body, _ := get(t, ts, "/api/v1/stores/race", readTok)
		var in StoreInfo
		mustJSON(t, body, &in)
		if code != 200 || byVersion[in.Version] == "" {
			t.Fatalf("after concurrent commits: %d %s", code, body)
		}
		sameServed(t, ts, func(p string) (int, []byte, http.Header) { return get(t, ts, p, readTok) }, "race", byVersion[in.Version], in.Version)
	})
}

// TestPythonZarrOverBucketRoot: Python zarr (fsspec HTTP) reads a store
// pushed over HTTP to an S3-backed server.
func TestPythonZarrOverBucketRoot(t *testing.T) {
	needPython(t)
	dir := filepath.Join(t.TempDir(), "s")
	makeStore(t, dir, testSpec("w1", "features"), 13, 4)
	bucketRoots(t, func(t *testing.T, bkt objstore.Bucket) {
		_, ts := newTestServer(t, bucketConfig(bkt))
		if code, body := rawPush(t, ts, dir, "shared", ""); code != 200 {
			t.Fatalf("push: %d %s", code, body)
		}
		if _, err := storesync.Push(t.Context(), dir, bkt, "direct"); err != nil {
			t.Fatal(err)
		}
		pythonReads(t, ts.URL+"/stores/shared", dir)
		pythonReads(t, ts.URL+"/stores/direct", dir)
	})
}

// TestNewS3Root: Root "s3://bucket/prefix" takes its settings from the
// environment; an unreachable bucket fails New with ErrConfig.
func TestNewS3Root(t *testing.T) {
	srv := s3test.StartServer(t)
	srv.Setenv(t)
	dir := filepath.Join(t.TempDir(), "s")
	makeStore(t, dir, testSpec("w1", "features"), 5, 4)
	b := srv.Open(t, "")
	prefix := "serve-" + sha(t.Name() + time.Now().String())[:8] // fresh per run (long-lived test servers)
	if _, err := storesync.Push(t.Context(), dir, b, prefix+"/direct"); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Root: "s3://" + srv.Bucket + "/" + prefix, AnonymousRead: true})
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.Stores()
	if err != nil || len(list) != 1 || list[0].Name != "direct" || list[0].Items != 5 {
		t.Fatalf("stores %v %v", list, err)
	}
	if _, err := New(Config{Root: "s3://no-such-bucket-x/p"}); !errors.Is(err, ErrConfig) {
		t.Fatalf("missing bucket: %v, want ErrConfig", err)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
	if _, err := New(Config{Root: "s3://" + srv.Bucket + "/" + prefix}); !errors.Is(err, ErrConfig) {
		t.Fatalf("wrong credentials: %v, want ErrConfig", err)
	}
}

// TestBucketRootInfoMatchesDir: the list a bucket root gives for stores
// copied there with storesync equals the one a directory root gives for the
// originals (disk bytes aside: a directory also holds the writer's lock).
func TestBucketRootInfoMatchesDir(t *testing.T) {
	root := fixture(t)
	_, dts := newTestServer(t, Config{Root: root, AnonymousRead: true})
	_, want, _ := get(t, dts, "/api/v1/stores", "")
	bucketRoots(t, func(t *testing.T, b objstore.Bucket) {
		var wl []StoreInfo
		mustJSON(t, want, &wl)
		bucketFixture(t, b, root)
		_, bts := newTestServer(t, Config{Bucket: b, AnonymousRead: true})
		_, got, _ := get(t, bts, "/api/v1/stores", "")
		var gl []StoreInfo
		mustJSON(t, got, &gl)
		if len(gl) != len(wl) || len(gl) != 3 {
			t.Fatalf("bucket lists %d stores, directory %d", len(gl), len(wl))
		}
		for i := range gl {
			if gl[i].DiskBytes <= gl[i].ChunkBytes || gl[i].DiskBytes > wl[i].DiskBytes {
				t.Errorf("%s: disk bytes %d (chunks %d), directory %d", gl[i].Name, gl[i].DiskBytes, gl[i].ChunkBytes, wl[i].DiskBytes)
			}
			gl[i].DiskBytes, wl[i].DiskBytes = 0, 0
			g, _ := json.Marshal(gl[i])
			w, _ := json.Marshal(wl[i])
			if !bytes.Equal(g, w) {
				t.Errorf("bucket root says\n%s\ndirectory root says\n%s", g, w)
			}
		}
		for _, q := range []string{"tap=features", "weights_digest=" + sha("w2"), "tap=features.23&model=tiny"} {
			_, g, _ := get(t, bts, "/api/search?"+q, "")
			_, w, _ := get(t, dts, "/api/search?"+q, "")
			var gs, ws []StoreInfo
			mustJSON(t, g, &gs)
			mustJSON(t, w, &ws)
			if len(gs) == 0 || len(gs) != len(ws) || gs[0].Name != ws[0].Name {
				t.Errorf("search %s: bucket %d stores, directory %d", q, len(gs), len(ws))
			}
		}
	})
}
