package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestLoadConcurrentReaders streams every features chunk of a store with 8
// concurrent readers (a fixed number of passes each) over loopback and checks
// every response is 200 and byte-identical to the file. Throughput goes to
// t.Logf; there is no timing assertion. PRECONV_HEAVY=1 makes it bigger.
func TestLoadConcurrentReaders(t *testing.T) {
	const readers = 8
	items, passes := 400, 3
	if os.Getenv("PRECONV_HEAVY") == "1" {
		items, passes = 4000, 10
	}
	root := t.TempDir()
	spec := testSpec("w1", "features")
	spec.FeatureShape = []int{64, 4, 4} // 4 KiB of float32 per item
	makeStore(t, filepath.Join(root, "big"), spec, items, 32)
	_, ts := newTestServer(t, Config{Root: root, Tokens: map[string]Scope{readTok: ScopeRead}})

	dir := filepath.Join(root, "big", "features")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for _, e := range ents {
		if e.Name() == ".zarray" || e.IsDir() {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		want[e.Name()] = b
	}
	if len(want) != (items+31)/32 {
		t.Fatalf("%d chunk files, want %d", len(want), (items+31)/32)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: readers}}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		errs  []error
		total int64
	)
	start := time.Now()
	for r := 0; r < readers; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n int64
			for p := 0; p < passes; p++ {
				for name, exp := range want {
					req, _ := http.NewRequest("GET", ts.URL+"/stores/big/features/"+name, nil)
					req.Header.Set("Authorization", "Bearer "+readTok)
					resp, err := client.Do(req)
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
						return
					}
					b, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err != nil || resp.StatusCode != 200 || !bytes.Equal(b, exp) {
						mu.Lock()
						errs = append(errs, fmt.Errorf("%s: status %d, %d bytes, err %v", name, resp.StatusCode, len(b), err))
						mu.Unlock()
						return
					}
					n += int64(len(b))
				}
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	if len(errs) > 0 {
		t.Fatalf("%d errors, first: %v", len(errs), errs[0])
	}
	reqs := readers * passes * len(want)
	t.Logf("%d readers × %d passes × %d chunks: %d requests, %.1f MiB in %v: %.0f MiB/s, %.0f req/s",
		readers, passes, len(want), reqs, float64(total)/(1<<20), el.Round(time.Millisecond),
		float64(total)/(1<<20)/el.Seconds(), float64(reqs)/el.Seconds())
}
