package extract_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/extract"
	"github.com/preconv/preconv/store"
)

func TestShardOf(t *testing.T) {
	// Expected values: /usr/bin/python3,
	// int.from_bytes(bytes.fromhex(hashlib.sha256(s).hexdigest())[:8], 'big') % n
	// for n in (1, 2, 3, 4, 7, 1000).
	for _, c := range []struct {
		key  string
		want []int
	}{
		{"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb", []int{0, 0, 1, 2, 4, 250}}, // sha256("a")
		{"31682bf52b981d242c2f110e45dd65d3019d704e2809e8fd12ff038388337dab", []int{0, 0, 2, 0, 3, 196}}, // sha256("preconv")
		{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", []int{0, 0, 1, 0, 1, 652}}, // sha256("")
	} {
		for i, n := range []int{1, 2, 3, 4, 7, 1000} {
			if got := extract.ShardOf(c.key, n); got != c.want[i] {
				t.Errorf("ShardOf(%.8s…, %d) = %d, want %d", c.key, n, got, c.want[i])
			}
		}
	}
}

func TestParseShard(t *testing.T) {
	for _, c := range []struct {
		in   string
		want extract.Shard
		ok   bool
	}{
		{"0/4", extract.Shard{Index: 0, Of: 4}, true},
		{"3/4", extract.Shard{Index: 3, Of: 4}, true},
		{" 0/1 ", extract.Shard{Index: 0, Of: 1}, true},
		{"4/4", extract.Shard{}, false},
		{"-1/4", extract.Shard{}, false},
		{"1/0", extract.Shard{}, false},
		{"1", extract.Shard{}, false},
		{"a/b", extract.Shard{}, false},
		{"0/99999999", extract.Shard{}, false},
	} {
		got, err := extract.ParseShard(c.in)
		if c.ok && (err != nil || got != c.want) {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
		if !c.ok && !errors.Is(err, extract.ErrBadShard) {
			t.Errorf("ParseShard(%q) = %v, %v; want ErrBadShard", c.in, got, err)
		}
	}
}

// bigFolder writes perClass images per class (names img000.png …) and one
// undecodable dog/bad.png.
func bigFolder(t *testing.T, perClass int) string {
	root := filepath.Join(t.TempDir(), "data")
	for c, name := range []string{"cat", "dog"} {
		for i := 0; i < perClass; i++ {
			writePNG(t, filepath.Join(root, name, fmt.Sprintf("img%03d.png", i)), c, i, 16, 14)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "dog", "bad.png"), []byte("this is not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// runE is run returning the error.
func runE(cfg extract.Config, b *backbone.Backbone) (*extract.Result, error) {
	ds, err := extract.LoadDataset(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return extract.Run(ctx, cfg, b, ds)
}

// storeFiles returns the store's files (relative path → bytes), leaving out
// the shards, the lock, temp files and .zattrs (which records a creation time).
func storeFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == extract.ShardsDir {
				return filepath.SkipDir
			}
			return nil
		}
		if rel == ".zattrs" || rel == ".preconv/lock" {
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

// sameStore fails unless the two stores hold byte-identical files (but
// .zattrs, compared without its creation time).
func sameStore(t *testing.T, want, got string) {
	t.Helper()
	a, b := storeFiles(t, want), storeFiles(t, got)
	if len(a) < 5 {
		t.Fatalf("%s: only %d files", want, len(a))
	}
	for k, v := range a {
		if w, ok := b[k]; !ok {
			t.Errorf("%s: no %s", got, k)
		} else if !bytes.Equal(v, w) {
			t.Errorf("%s differs (%d vs %d bytes)", k, len(v), len(w))
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			t.Errorf("%s: extra file %s", got, k)
		}
	}
	pa, pb := prov(t, want), prov(t, got)
	pa.Created, pb.Created = time.Time{}, time.Time{}
	ja, _ := json.Marshal(pa)
	jb, _ := json.Marshal(pb)
	if !bytes.Equal(ja, jb) {
		t.Errorf("provenance differs:\n%s\n%s", ja, jb)
	}
	if rep, err := store.Verify(got); err != nil || !rep.OK() {
		t.Errorf("verify %s: %+v %v", got, rep, err)
	}
}

func prov(t *testing.T, dir string) store.Provenance {
	t.Helper()
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s.Provenance()
}

// TestShardsMergeEqualSingle runs 4 shards at once into one store, merges,
// and compares with a single-machine extraction byte for byte; reruns a
// shard (nothing computed, one copy), and checks merge refuses missing and
// mismatched shards without writing anything.
func TestShardsMergeEqualSingle(t *testing.T) {
	root := bigFolder(t, 20)
	dir := t.TempDir()
	single, sharded := filepath.Join(dir, "single"), filepath.Join(dir, "sharded")
	b := open(t, "pixels", backbone.Options{})
	base := extract.Config{Data: root, Size: 8, Batch: 3, Workers: 1, Threads: 1, ChunkRows: 4, ValidFraction: 0.25}
	cfg := base
	cfg.Out = single
	r := run(t, cfg, b)
	if r.Items != 41 || r.Failed != 1 {
		t.Fatalf("single: %+v", r)
	}

	const n = 4
	var wg sync.WaitGroup
	results := make([]*extract.Result, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := base
			c.Out = sharded
			c.Shard = extract.Shard{Index: i, Of: n}
			results[i], errs[i] = runE(c, b)
		}()
	}
	wg.Wait()
	total := 0
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			t.Fatalf("shard %d: %v", i, errs[i])
		}
		r := results[i]
		total += r.Items
		if r.Shard != fmt.Sprintf("%d/4", i) || r.Total != 41 || r.Store != extract.ShardDir(sharded, extract.Shard{Index: i, Of: n}) {
			t.Errorf("shard %d result %+v", i, r)
		}
		if r.Items == 0 || r.Items > 25 {
			t.Errorf("shard %d got %d of 41 items (content-hash split should be rough quarters)", i, r.Items)
		}
	}
	if total != 41 {
		t.Fatalf("shards hold %d items, want 41", total)
	}
	// Before the merge the store itself is not committed.
	if _, err := store.Open(sharded); !errors.Is(err, store.ErrIncomplete) && !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("unmerged store opens: %v", err)
	}

	// Rerun of shard 2: nothing computed, manifest unchanged.
	man := filepath.Join(extract.ShardDir(sharded, extract.Shard{Index: 2, Of: n}), extract.ShardManifestFile)
	before, _ := os.ReadFile(man)
	c := base
	c.Out, c.Shard = sharded, extract.Shard{Index: 2, Of: n}
	rr := run(t, c, b)
	if rr.Computed != 0 || rr.Kept+rr.Reused+rr.Failed != rr.Items {
		t.Errorf("rerun of shard 2 computed: %+v", rr)
	}
	if after, _ := os.ReadFile(man); !bytes.Equal(before, after) {
		t.Errorf("rerun rewrote shard.json")
	}

	// Missing shard: refused, naming it; nothing written.
	moved := filepath.Join(dir, "aside")
	d3 := extract.ShardDir(sharded, extract.Shard{Index: 3, Of: n})
	if err := os.Rename(d3, moved); err != nil {
		t.Fatal(err)
	}
	_, err := extract.Merge(ctx, sharded, extract.MergeOptions{})
	if !errors.Is(err, extract.ErrShardMissing) || !strings.Contains(err.Error(), "shard 3 of 4 missing") {
		t.Errorf("merge without shard 3: %v", err)
	}
	if ents, _ := os.ReadDir(sharded); len(ents) != 1 || ents[0].Name() != ".preconv" {
		t.Errorf("refused merge wrote %v", ents)
	}
	// A shard without its manifest (still running, or killed) is missing too.
	if err := os.Rename(moved, d3); err != nil {
		t.Fatal(err)
	}
	m3 := filepath.Join(d3, extract.ShardManifestFile)
	os.Rename(m3, m3+".aside")
	_, err = extract.Merge(ctx, sharded, extract.MergeOptions{})
	if !errors.Is(err, extract.ErrShardMissing) || !strings.Contains(err.Error(), "shard 3 of 4 missing: no shard.json") {
		t.Errorf("merge with shard 3 unfinished: %v", err)
	}
	os.Rename(m3+".aside", m3)

	// A shard that listed another dataset: refused, naming it.
	m1 := filepath.Join(extract.ShardDir(sharded, extract.Shard{Index: 1, Of: n}), extract.ShardManifestFile)
	orig, _ := os.ReadFile(m1)
	var mf map[string]any
	json.Unmarshal(orig, &mf)
	mf["dataset_digest"] = strings.Repeat("0", 64)
	bad, _ := json.Marshal(mf)
	os.WriteFile(m1, bad, 0o644)
	_, err = extract.Merge(ctx, sharded, extract.MergeOptions{})
	if !errors.Is(err, extract.ErrShardMismatch) || !strings.Contains(err.Error(), "shard 1 of 4 listed another dataset") {
		t.Errorf("merge with shard 1 of another dataset: %v", err)
	}
	os.WriteFile(m1, orig, 0o644)
	if ents, _ := os.ReadDir(sharded); len(ents) != 1 {
		t.Errorf("refused merge wrote %v", ents)
	}

	mr, err := extract.Merge(ctx, sharded, extract.MergeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if mr.Items != 41 || mr.Failed != 1 || mr.Copied != 40 || mr.Shards != 4 {
		t.Errorf("merge: %+v", mr)
	}
	sameStore(t, single, sharded)

	// Merging again changes nothing; --clean removes the shards.
	mr, err = extract.Merge(ctx, sharded, extract.MergeOptions{Clean: true})
	if err != nil || !mr.Cleaned {
		t.Fatalf("merge --clean: %+v %v", mr, err)
	}
	sameStore(t, single, sharded)
	if _, err := os.Stat(filepath.Join(sharded, extract.ShardsDir)); !os.IsNotExist(err) {
		t.Errorf("shards left after --clean: %v", err)
	}
}

// TestShardsMoreThanItems: with N larger than the dataset some shards are
// empty; they still write a manifest and the merge is complete (f16 store).
func TestShardsMoreThanItems(t *testing.T) {
	root := bigFolder(t, 2)
	dir := t.TempDir()
	single, sharded := filepath.Join(dir, "single"), filepath.Join(dir, "sharded")
	b := open(t, "pixels", backbone.Options{})
	// f16: the merge decodes and re-encodes rows; binary16 → float32 →
	// binary16 is exact, so the chunks stay byte-identical.
	base := extract.Config{Data: root, Size: 8, Batch: 2, Workers: 1, Threads: 1, DType: "f16"}
	cfg := base
	cfg.Out = single
	run(t, cfg, b)
	const n = 9
	empty := 0
	for i := 0; i < n; i++ {
		c := base
		c.Out, c.Shard = sharded, extract.Shard{Index: i, Of: n}
		if r := run(t, c, b); r.Items == 0 {
			empty++
		}
	}
	if empty == 0 {
		t.Fatalf("5 items in 9 shards but no empty shard")
	}
	if _, err := extract.Merge(ctx, sharded, extract.MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	sameStore(t, single, sharded)
}

// TestShardWaitsForLock: a shard whose store is locked by a live process
// waits (saying so) and completes once the lock goes.
func TestShardWaitsForLock(t *testing.T) {
	root := bigFolder(t, 3)
	out := filepath.Join(t.TempDir(), "store")
	b := open(t, "pixels", backbone.Options{})
	sh := extract.Shard{Index: 0, Of: 2}
	sd := extract.ShardDir(out, sh)
	if err := os.MkdirAll(filepath.Join(sd, ".preconv"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The lock format of store/doc.go, held by this (live) process.
	host, _ := os.Hostname()
	lock := filepath.Join(sd, ".preconv", "lock")
	lb, _ := json.Marshal(map[string]any{"pid": os.Getpid(), "host": host, "since": time.Now().UTC()})
	if err := os.WriteFile(lock, lb, 0o644); err != nil {
		t.Fatal(err)
	}
	msgs := make(chan string, 100)
	done := make(chan error, 1)
	go func() {
		cfg := extract.Config{Data: root, Out: out, Size: 8, Workers: 1, Threads: 1, Shard: sh,
			Log: func(m string) { msgs <- m }}
		_, err := runE(cfg, b)
		done <- err
	}()
	select {
	case m := <-msgs:
		want := fmt.Sprintf("shard 0/2 is being written by pid %d on %s; waiting", os.Getpid(), host)
		if m != want {
			t.Errorf("wait message %q, want %q", m, want)
		}
	case err := <-done:
		t.Fatalf("shard ran despite the lock: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("no wait message")
	}
	os.Remove(lock)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("shard did not finish after the lock went")
	}
	if _, err := os.Stat(filepath.Join(sd, extract.ShardManifestFile)); err != nil {
		t.Errorf("no manifest: %v", err)
	}
}

// TestShardsIncrementalAndRecount: after images are added, rerunning the
// shards computes only the new ones and the merge equals a fresh
// single-machine extraction; shards of another N left in the store make a
// plain merge refuse (naming the counts) until --of picks one.
func TestShardsIncrementalAndRecount(t *testing.T) {
	root := bigFolder(t, 8)
	dir := t.TempDir()
	sharded := filepath.Join(dir, "sharded")
	b := open(t, "pixels", backbone.Options{})
	base := extract.Config{Data: root, Size: 8, Batch: 2, Workers: 1, Threads: 1, ChunkRows: 3}
	shards := func(n int) (computed int) {
		for i := 0; i < n; i++ {
			c := base
			c.Out, c.Shard = sharded, extract.Shard{Index: i, Of: n}
			computed += run(t, c, b).Computed
		}
		return computed
	}
	shards(3)
	if _, err := extract.Merge(ctx, sharded, extract.MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		writePNG(t, filepath.Join(root, "cat", fmt.Sprintf("new%d.png", i)), 0, 100+i, 16, 14)
	}
	if got := shards(3); got != 3 {
		t.Errorf("after adding 3 images the shards computed %d", got)
	}
	mr, err := extract.Merge(ctx, sharded, extract.MergeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if mr.Items != 20 {
		t.Errorf("merge: %+v", mr)
	}
	single := filepath.Join(dir, "single")
	c := base
	c.Out = single
	run(t, c, b)
	sameStore(t, single, sharded)

	shards(2)
	_, err = extract.Merge(ctx, sharded, extract.MergeOptions{})
	if !errors.Is(err, extract.ErrShardMismatch) || !strings.Contains(err.Error(), "N = 2, 3") {
		t.Errorf("merge with shards of N=2 and N=3: %v", err)
	}
	if _, err := extract.Merge(ctx, sharded, extract.MergeOptions{Of: 2}); err != nil {
		t.Fatal(err)
	}
	sameStore(t, single, sharded)
}

// Two runs of one shard on two "machines" (separate store roots, different
// times) write byte-identical files apart from the local run record, so
// their uploads to one s3:// location cannot interleave into a mix.
func TestShardRunsAreByteIdentical(t *testing.T) {
	root := bigFolder(t, 4)
	b := open(t, "pixels", backbone.Options{})
	sh := extract.Shard{Index: 1, Of: 2}
	var dirs []string
	for i := 0; i < 2; i++ {
		out := filepath.Join(t.TempDir(), "store")
		if _, err := runE(extract.Config{Data: root, Out: out, Size: 8, Workers: 1, Threads: 1, Shard: sh}, b); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, extract.ShardDir(out, sh))
		if i == 0 {
			time.Sleep(1100 * time.Millisecond) // a later second
		}
	}
	files := func(dir string) map[string][]byte {
		m := map[string][]byte{}
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			if rel == extract.ShardRunFile || rel == filepath.Join(".preconv", "lock") {
				return nil
			}
			m[rel], _ = os.ReadFile(p)
			return nil
		})
		return m
	}
	a, c := files(dirs[0]), files(dirs[1])
	if len(a) == 0 || len(a) != len(c) {
		t.Fatalf("%d and %d files", len(a), len(c))
	}
	for k, v := range a {
		if !bytes.Equal(v, c[k]) {
			t.Errorf("%s differs between two runs of the shard", k)
		}
	}
	if _, ok := a[extract.ShardManifestFile]; !ok {
		t.Error("no shard.json")
	}
	run, err := os.ReadFile(filepath.Join(dirs[1], extract.ShardRunFile))
	if err != nil || !bytes.Contains(run, []byte(`"computed"`)) {
		t.Errorf("shard-run.json: %s %v", run, err)
	}
}
