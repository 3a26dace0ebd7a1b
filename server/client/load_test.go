package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/preconv/preconv/server"
	"github.com/preconv/preconv/store"
)

// fileURL is where a reader gets a manifest file: the Zarr route for data,
// the API file route for the chunk index entries.
func fileURL(base, ref, p string) string {
	if strings.HasPrefix(p, ".preconv/") {
		return base + "/api/v1/stores/" + ref + "/files/" + p
	}
	return base + "/stores/" + ref + "/" + p
}

func fetchSHA(c *http.Client, u string) (sum string, n int64, version string, err error) {
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+readTok)
	resp, err := c.Do(req)
	if err != nil {
		return "", 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return "", 0, "", fmt.Errorf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	h := sha256.New()
	n, err = io.Copy(h, resp.Body)
	return hex.EncodeToString(h.Sum(nil)), n, resp.Header.Get("X-Preconv-Version"), err
}

// TestLoadReadersDuringPushes streams a pushed store with 8 concurrent
// readers over loopback while a writer keeps pushing new versions of it
// (alternating two different stores). Half the readers pin the version the
// manifest names and read every file of it; the others read /stores/NAME
// unpinned and check each file against the version its response names.
// Every response must be 200 and hash to a manifest entry of a complete
// version. Throughput goes to t.Logf (no timing assertion).
func TestLoadReadersDuringPushes(t *testing.T) {
	items, passes := 300, 4
	if os.Getenv("PRECONV_HEAVY") == "1" {
		items, passes = 3000, 10
	}
	_, base := startServer(t, t.TempDir())
	loadReadersDuringPushes(t, base, items, passes)
}

// TestLoadReadersDuringPushesBucketRoot is TestLoadReadersDuringPushes
// against a server whose root is an S3 prefix (versitygw on loopback), with
// a smaller store.
func TestLoadReadersDuringPushesBucketRoot(t *testing.T) {
	items, passes := 96, 3
	if os.Getenv("PRECONV_HEAVY") == "1" {
		items, passes = 1000, 6
	}
	loadReadersDuringPushes(t, startBucketServer(t), items, passes)
}

func loadReadersDuringPushes(t *testing.T, base string, items, passes int) {
	const readers = 8
	work := t.TempDir()
	spec := testSpec("w")
	spec.FeatureShape = []int{64, 4, 4} // 4 KiB of float32 per item
	a, b := filepath.Join(work, "a"), filepath.Join(work, "b")
	makeStoreShape(t, a, spec, 0, items, 16)
	makeStoreShape(t, b, spec, items/2, items/2+items, 16)
	ctx := context.Background()
	manifests := map[string]map[string]string{} // version → path → sha256
	for _, d := range []string{a, b} {
		m, err := server.BuildManifest(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		files := map[string]string{}
		for _, f := range m.Files {
			files[f.Path] = f.SHA256
		}
		manifests[m.Version] = files
	}
	pusher := open(t, base+"/stores/live", writeTok, t.TempDir())
	if _, err := pusher.Push(ctx, a); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var pushes atomic.Int64
	var pushErr error
	var pw sync.WaitGroup
	pw.Add(1)
	go func() {
		defer pw.Done()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := pusher.Push(ctx, []string{a, b}[i%2]); err != nil {
				pushErr = err
				return
			}
			pushes.Add(1)
			time.Sleep(5 * time.Millisecond)
		}
	}()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: readers}}
	var (
		wg       sync.WaitGroup
		bytes    atomic.Int64
		files    atomic.Int64
		mu       sync.Mutex
		errs     []string
		versions = map[string]int{}
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		errs = append(errs, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	start := time.Now()
	for r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rd := open(t, base+"/stores/live", readTok, "")
			// At least `passes` passes, and on until two pushes have landed
			// during the reads (so they really overlap), capped.
			for p := 0; p < 1000 && (p < passes || pushes.Load() < 2); p++ {
				m, err := rd.Manifest(ctx)
				if err != nil {
					fail("manifest: %v", err)
					return
				}
				want := manifests[m.Version]
				if want == nil {
					fail("manifest names unknown version %s", m.Version)
					return
				}
				mu.Lock()
				versions[m.Version]++
				mu.Unlock()
				for _, f := range m.Files {
					ref := "live@" + m.Version
					if r%2 == 1 && !strings.HasPrefix(f.Path, ".preconv/") {
						ref = "live"
					}
					sum, n, v, err := fetchSHA(client, fileURL(base, ref, f.Path))
					if err != nil {
						fail("%v", err)
						return
					}
					if ref == "live" {
						// Unpinned: the file must belong whole to the version the server names.
						// (Both versions have the same file names: same item count.)
						if manifests[v] == nil || manifests[v][f.Path] != sum {
							fail("unpinned %s: sha256 %s is not that file of version %q", f.Path, sum, v)
						}
					} else if sum != want[f.Path] || v != m.Version {
						fail("pinned %s@%s: sha256 %s, want %s (served version %s)", f.Path, m.Version, sum, want[f.Path], v)
					}
					bytes.Add(n)
					files.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	pw.Wait()
	el := time.Since(start)
	if pushErr != nil {
		t.Fatalf("push during reads: %v", pushErr)
	}
	if pushes.Load() < 2 {
		t.Fatalf("only %d pushes overlapped the reads", pushes.Load())
	}
	for i, e := range errs {
		if i == 10 {
			break
		}
		t.Error(e)
	}
	if len(errs) > 0 {
		t.Fatalf("%d read errors", len(errs))
	}
	t.Logf("%d readers, %d files, %.1f MiB in %v: %.1f MiB/s, %.0f files/s; %d pushes meanwhile; manifests read per version: %v",
		readers, files.Load(), float64(bytes.Load())/(1<<20), el.Round(time.Millisecond),
		float64(bytes.Load())/(1<<20)/el.Seconds(), float64(files.Load())/el.Seconds(), pushes.Load(), versions)
}

// makeStoreShape is makeStore for any feature shape.
func makeStoreShape(t testing.TB, dir string, spec store.Spec, lo, hi, chunkRows int) {
	t.Helper()
	var items []store.ItemRef
	for i := lo; i < hi; i++ {
		items = append(items, store.ItemRef{Key: sha(fmt.Sprintf("img-%d", i)), Path: fmt.Sprintf("c%d/%d.jpg", i%2, i), Label: i % 2, Split: "train"})
	}
	w, plan, err := store.Prepare(context.Background(), dir, spec, []string{"cat", "dog"}, items, store.WithChunkRows(chunkRows))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	e := 1
	for _, d := range spec.FeatureShape {
		e *= d
	}
	feats := make([]float32, 0, len(plan.Todo)*e)
	for _, p := range plan.Todo {
		for j := 0; j < e; j++ {
			feats = append(feats, float32((lo+p)%97+j%13))
		}
	}
	if err := w.Put(plan.Todo, feats); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkPullStore pulls a pushed store (4 KiB/item, 16 items per chunk)
// into a fresh directory with an empty cache each iteration; bytes/s is the
// pull throughput over loopback.
func BenchmarkPullStore(b *testing.B) {
	root, work := b.TempDir(), b.TempDir()
	_, base := startServer(b, root)
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

// BenchmarkReadChunksParallel streams the features chunks of a pushed store
// over loopback from parallel readers (GOMAXPROCS goroutines).
func BenchmarkReadChunksParallel(b *testing.B) {
	root, work := b.TempDir(), b.TempDir()
	_, base := startServer(b, root)
	spec := testSpec("w")
	spec.FeatureShape = []int{64, 4, 4}
	src := filepath.Join(work, "src")
	makeStoreShape(b, src, spec, 0, 400, 16)
	ctx := context.Background()
	if _, err := open(b, base+"/stores/s", writeTok, b.TempDir()).Push(ctx, src); err != nil {
		b.Fatal(err)
	}
	m, _ := server.BuildManifest(ctx, src)
	var urls []string
	var total int64
	for _, f := range m.Files {
		if strings.HasPrefix(f.Path, "features/") && f.Path != "features/.zarray" {
			urls = append(urls, base+"/stores/s/"+f.Path)
			total += f.Size
		}
	}
	b.SetBytes(total / int64(len(urls)))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, _, err := fetchSHA(client, urls[int(next.Add(1))%len(urls)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
