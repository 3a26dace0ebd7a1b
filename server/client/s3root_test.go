package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/preconv/preconv/objstore/s3test"
	"github.com/preconv/preconv/server"
	"github.com/preconv/preconv/store"
	"github.com/preconv/preconv/storesync"
)

// TestPushPullBucketRoot pushes with the client to a server whose root is an
// S3 bucket prefix (versitygw on loopback) and pulls back bit for bit: the
// current version, a pinned old one, and a store pushed straight to S3
// with storesync.
func TestPushPullBucketRoot(t *testing.T) {
	srv := s3test.StartServer(t)
	bkt := srv.Open(t, "serve-"+sha(t.Name() + time.Now().String())[:8]) // fresh per run (long-lived test servers)
	s, err := server.New(server.Config{Bucket: bkt, Tokens: map[string]server.Scope{readTok: server.ScopeRead, writeTok: server.ScopeRead | server.ScopeWrite}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	work := t.TempDir()
	src := filepath.Join(work, "src")
	makeStore(t, src, testSpec("w"), 0, 23, 4)
	ctx := context.Background()

	dst := open(t, ts.URL+"/stores/shared", writeTok, filepath.Join(work, "cache-a"))
	st, err := dst.Push(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := server.BuildManifest(ctx, src)
	if st.Transferred != st.Files || st.Files != len(m.Files) || st.Version != m.Version {
		t.Fatalf("push 1: %+v (manifest %d files, version %s)", st, len(m.Files), m.Version)
	}
	if st2, err := dst.Push(ctx, src); err != nil || st2.Transferred != 0 || st2.Version != st.Version {
		t.Fatalf("push 2: %+v %v", st2, err)
	}
	rd := open(t, ts.URL+"/stores/shared", readTok, filepath.Join(work, "cache-b"))
	out := filepath.Join(work, "pulled")
	if ps, err := rd.Pull(ctx, out); err != nil || ps.Version != st.Version {
		t.Fatalf("pull: %+v %v", ps, err)
	}
	sameFiles(t, src, out)
	if rep, err := store.Verify(out); err != nil || !rep.OK() {
		t.Fatalf("pulled store does not verify: %v %+v", err, rep)
	}

	// A second version; the first stays pullable pinned.
	makeStore(t, src, testSpec("w"), 0, 9, 4)
	if _, err := dst.Push(ctx, src); err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Pull(ctx, out); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, src, out)
	old := open(t, ts.URL+"/stores/shared@"+st.Version, readTok, filepath.Join(work, "cache-c"))
	if ps, err := old.Pull(ctx, filepath.Join(work, "old")); err != nil || ps.Version != st.Version {
		t.Fatalf("pull @old: %+v %v", ps, err)
	}

	// A store pushed to the bucket with storesync is pulled over HTTP.
	if _, err := storesync.Push(ctx, src, bkt, "direct"); err != nil {
		t.Fatal(err)
	}
	if _, err := open(t, ts.URL+"/stores/direct", readTok, filepath.Join(work, "cache-b")).Pull(ctx, filepath.Join(work, "direct")); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, src, filepath.Join(work, "direct"))
}

// TestServeS3RootBinary runs the real binary: `preconv serve --root
// s3://BUCKET/PREFIX` configured from the AWS environment, `preconv push`
// to it over HTTP and `preconv pull` back, bit for bit; the pushed data
// lies in the bucket, not on local disk.
func TestServeS3RootBinary(t *testing.T) {
	srv := s3test.StartServer(t)
	bin := buildBinary(t)
	work := t.TempDir()
	prefix := "serve-bin-" + sha(t.Name() + time.Now().String())[:8]
	tokens := fmt.Sprintf(`{"tokens":[{"token":%q,"scopes":["read","write"],"name":"w"}]}`, writeTok)
	os.WriteFile(filepath.Join(work, "tokens.json"), []byte(tokens), 0o600)
	env := append(os.Environ(), "AWS_ENDPOINT_URL="+srv.Endpoint, "PRECONV_S3_ENDPOINT=", "AWS_ACCESS_KEY_ID="+srv.Access,
		"AWS_SECRET_ACCESS_KEY="+srv.Secret, "AWS_SESSION_TOKEN=", "AWS_REGION=us-east-1",
		"PRECONV_TOKEN="+writeTok, "PRECONV_CACHE="+filepath.Join(work, "cache"))

	cmd := exec.Command(bin, "serve", "--root", "s3://"+srv.Bucket+"/"+prefix, "--addr", "127.0.0.1:0", "--tokens", filepath.Join(work, "tokens.json"), "--json")
	cmd.Env = env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var hello struct {
		URL    string
		Stores int
	}
	select {
	case l := <-lines:
		if err := json.Unmarshal([]byte(l), &hello); err != nil || hello.URL == "" {
			t.Fatalf("serve printed %q (%v); stderr %s", l, err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start; stderr %s", stderr.String())
	}
	src := filepath.Join(work, "src")
	makeStore(t, src, testSpec("w"), 0, 11, 4)
	run := func(args ...string) string {
		c := exec.Command(bin, args...)
		c.Env = env
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("preconv %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("push", src, hello.URL+"/stores/team", "--json")
	run("pull", hello.URL+"/stores/team", filepath.Join(work, "pulled"), "--json")
	sameFiles(t, src, filepath.Join(work, "pulled"))
	// A store pushed straight to the bucket prefix is served too.
	run("push", src, "s3://"+srv.Bucket+"/"+prefix+"/direct", "--json")
	run("pull", hello.URL+"/stores/direct", filepath.Join(work, "direct"), "--json")
	sameFiles(t, src, filepath.Join(work, "direct"))
	// The versions live in the bucket.
	l, err := srv.Open(t, prefix).List(t.Context(), ".preconv-server/stores/team/")
	if err != nil || len(l) != 2 {
		t.Fatalf("bucket holds %d objects for the pushed store (%v), want current.json and one version manifest", len(l), err)
	}
	// A bad root is refused with a message naming it.
	c := exec.Command(bin, "serve", "--root", "s3://no-such-bucket-zz/p", "--addr", "127.0.0.1:0")
	c.Env = env
	if out, err := c.CombinedOutput(); err == nil || !strings.Contains(string(out), "no-such-bucket-zz") {
		t.Fatalf("serve with a missing bucket: %v\n%s", err, out)
	}
}

// startBucketServer starts an httptest server whose root is a fresh prefix
// of the S3 test server.
func startBucketServer(tb testing.TB) string {
	tb.Helper()
	srv := s3test.StartServer(tb)
	bkt := srv.Open(tb, "bench-"+sha(tb.Name() + time.Now().String())[:8])
	s, err := server.New(server.Config{Bucket: bkt, Tokens: map[string]server.Scope{readTok: server.ScopeRead, writeTok: server.ScopeRead | server.ScopeWrite}})
	if err != nil {
		tb.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	tb.Cleanup(ts.Close)
	return ts.URL
}

// BenchmarkPullStoreBucketRoot is BenchmarkPullStore against a server whose
// root is an S3 prefix (versitygw on loopback): every file is streamed from
// S3 through the server.
func BenchmarkPullStoreBucketRoot(b *testing.B) {
	base, work := startBucketServer(b), b.TempDir()
	spec := testSpec("w")
	spec.FeatureShape = []int{64, 4, 4}
	src := filepath.Join(work, "src")
	makeStoreShape(b, src, spec, 0, 400, 16)
	ctx := context.Background()
	st, err := open(b, base+"/stores/s", writeTok, b.TempDir()).Push(ctx, src)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Bytes)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		l := open(b, base+"/stores/s", readTok, filepath.Join(work, fmt.Sprint("c", i)))
		if _, err := l.Pull(ctx, filepath.Join(work, fmt.Sprint("p", i))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPushStoreBucketRoot pushes a 400-item store to a fresh name of an
// S3-backed server each iteration (blobs after the first iteration exist:
// later iterations measure the missing check, validation and commit).
func BenchmarkPushStoreBucketRoot(b *testing.B) {
	base, work := startBucketServer(b), b.TempDir()
	spec := testSpec("w")
	spec.FeatureShape = []int{64, 4, 4}
	src := filepath.Join(work, "src")
	makeStoreShape(b, src, spec, 0, 400, 16)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := open(b, base+fmt.Sprint("/stores/s", i), writeTok, b.TempDir()).Push(ctx, src); err != nil {
			b.Fatal(err)
		}
	}
}
