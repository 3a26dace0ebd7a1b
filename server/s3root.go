package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/preconv/preconv/objstore"
	"github.com/preconv/preconv/store"
)

// A bucket root (Config.Bucket, or Root "s3://bucket/prefix") keeps the same
// layout as a directory root, as objects:
//
//	NAME/.zattrs, NAME/.preconv/files.json, NAME/…   stores written by
//	                               storesync (preconv push s3://…, extract
//	                               --out s3://…): served read-only
//	.preconv-server/blobs/ab/SHA256                  pushed file bodies
//	.preconv-server/stores/NAME/versions/V.json      the Manifest of version V
//	.preconv-server/stores/NAME/current.json         the current pointer,
//	                               written last by a commit (one PUT: atomic)
//
// Pushed versions are not materialised: a file of NAME@V is served by
// looking its path up in V's (cached, immutable) manifest and streaming the
// blob.

const (
	// s3ListTTL is how long the listing of storesync stores under a bucket
	// root is reused (finding them lists every key of the bucket). Commits
	// through this server refresh it at once.
	s3ListTTL = 5 * time.Second
	// s3OpTimeout bounds each metadata lookup against the bucket.
	s3OpTimeout = time.Minute
	// s3PinnedTTL is how long a current pointer read for one request is
	// trusted for requests of a pinned NAME@VERSION that it lists (a pull
	// reads every file pinned). Requests of plain NAME always read it anew.
	s3PinnedTTL = 5 * time.Second
	// s3Workers is how many blob Stats run at once (missing checks, commits).
	s3Workers = 16
	// maxZattrs and maxFilesJSON bound what is read of a store's .zattrs and
	// storesync manifest.
	maxZattrs    = 16 << 20
	maxFilesJSON = 64 << 20
	filesJSON    = ".preconv/files.json"
)

// s3State is the part of Server used only with a bucket root.
type s3State struct {
	listMu sync.Mutex
	listAt time.Time
	plain  []string // storesync store names of the last listing

	mu      sync.Mutex
	vouched map[string]time.Time     // blob → last time a push relied on it
	cur     map[string]cachedCurrent // pushed store → its last read pointer
}

type cachedCurrent struct {
	at time.Time
	c  *current
}

func blobKey(sum string) string { return serverDir + "/blobs/" + sum[:2] + "/" + sum }
func curKey(name string) string { return serverDir + "/stores/" + name + "/current.json" }
func verKey(name, v string) string {
	return serverDir + "/stores/" + name + "/versions/" + v + ".json"
}

func s3ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s3OpTimeout)
}

// openBucketRoot returns the bucket a Config names: Config.Bucket, or Root
// when it is an s3:// URL; nil for a directory root.
func openBucketRoot(cfg Config) (objstore.Bucket, error) {
	if cfg.Bucket != nil {
		return cfg.Bucket, nil
	}
	if !strings.HasPrefix(strings.ToLower(cfg.Root), "s3://") {
		return nil, nil
	}
	b, err := objstore.Open(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("%w: root %s: %v", ErrConfig, cfg.Root, err)
	}
	return b, nil
}

// checkBucket lists the (small) stores prefix once, so that a missing
// bucket or refused credentials fail New rather than every request.
func checkBucket(b objstore.Bucket) error {
	ctx, cancel := s3ctx()
	defer cancel()
	if _, err := b.List(ctx, serverDir+"/stores/"); err != nil {
		return fmt.Errorf("%w: root %s: %v", ErrConfig, b, err)
	}
	return nil
}

// notFound maps an absent object to ErrNotFound; other errors stay.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, objstore.ErrNotExist) || errors.Is(err, objstore.ErrBadKey) {
		return fmt.Errorf("%w: "+format, append([]any{ErrNotFound}, args...)...)
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// s3Locate is locate for a bucket root: a storesync store NAME/ wins,
// otherwise NAME[@VERSION] is a pushed store.
func (s *Server) s3Locate(ref string) (*located, error) {
	if !validName(ref) {
		return nil, fmt.Errorf("%w: store name %q", ErrBadPath, ref)
	}
	ctx, cancel := s3ctx()
	defer cancel()
	m, err := s.s3PlainManifest(ctx, ref)
	if err == nil {
		return &located{name: ref, man: m, plain: true}, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	name, version, _ := strings.Cut(ref, "@")
	if version != "" && !validVersion(version) || strings.Contains(version, "@") {
		return nil, fmt.Errorf("%w: store %q: version %q", ErrNotFound, name, version)
	}
	var cur *current
	if version != "" {
		cur = s.pinnedCurrent(name, version)
	}
	if cur == nil {
		if cur, err = s.readCurrent(name); err != nil {
			return nil, err
		}
	}
	if version == "" {
		version = cur.Version
	} else if !slices.Contains(cur.History, version) {
		return nil, fmt.Errorf("%w: store %q has no version %s (kept: %s)", ErrNotFound, name, version, strings.Join(cur.History, ", "))
	}
	m, err = s.readManifest(name, version)
	if err != nil {
		return nil, err
	}
	return &located{name: name, version: version, man: m, history: cur.History}, nil
}

// s3PlainManifest reads the storesync store NAME/: its .zattrs and
// .preconv/files.json, which must belong together (the manifest records
// the .zattrs sha256; else a push is replacing the store: ErrNotFound). The
// result is cached until .zattrs changes.
func (s *Server) s3PlainManifest(ctx context.Context, name string) (*Manifest, error) {
	if strings.Contains(name, "@") {
		return nil, fmt.Errorf("%w: store %q", ErrNotFound, name)
	}
	in, err := s.bkt.Stat(ctx, name+"/.zattrs")
	if err != nil {
		return nil, notFound(err, "store %q", name)
	}
	stamp := fmt.Sprintf("%s/%d/%d", in.ETag, in.Size, in.Modified.UnixNano())
	s.mu.Lock()
	c, ok := s.manCache[name]
	s.mu.Unlock()
	if ok && c.stamp == stamp {
		return c.man, nil
	}
	zb, err := s.readMutable(ctx, name+"/.zattrs", maxZattrs)
	if err != nil {
		return nil, notFound(err, "store %q", name)
	}
	fb, err := s.readMutable(ctx, name+"/"+filesJSON, maxFilesJSON)
	if err != nil {
		return nil, notFound(err, "store %q (no %s: not written by preconv push or extract --out)", name, filesJSON)
	}
	m, err := parseFilesJSON(name, zb, fb)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.manCache[name] = cachedManifest{stamp, m}
	s.mu.Unlock()
	return m, nil
}

// parseFilesJSON turns storesync's manifest {"PATH": {"size": N, "sha256":
// HEX}} of store name into a Manifest. It must describe zattrs (the bytes
// of the store's .zattrs; else ErrNotFound: a push is replacing the store),
// and every entry must be a valid store path with a sha256 and a size.
func parseFilesJSON(name string, zattrs, data []byte) (*Manifest, error) {
	var files map[string]struct {
		Size   int64  `json:"size"`
		SHA256 string `json:"sha256"`
	}
	if err := json.Unmarshal(data, &files); err != nil {
		return nil, fmt.Errorf("store %q: %s: %v", name, filesJSON, err)
	}
	if len(files) > maxManifestFiles {
		return nil, fmt.Errorf("store %q: %s: %d files (at most %d)", name, filesJSON, len(files), maxManifestFiles)
	}
	if z, ok := files[".zattrs"]; !ok || z.SHA256 != hexSum(zattrs) || z.Size != int64(len(zattrs)) {
		return nil, fmt.Errorf("%w: store %q (%s does not describe its .zattrs: a push is replacing it)", ErrNotFound, name, filesJSON)
	}
	m := &Manifest{Name: name, Files: make([]FileEntry, 0, len(files))}
	for p, f := range files {
		if !ValidStorePath(p) || !validSHA(f.SHA256) || f.Size < 0 {
			return nil, fmt.Errorf("store %q: %s: entry %q is not a store file with a sha256 and size", name, filesJSON, p)
		}
		m.Files = append(m.Files, FileEntry{Path: p, SHA256: f.SHA256, Size: f.Size})
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	m.Version = VersionOf(m.Files)
	return m, nil
}

// readMutable reads a whole object that writers replace (a current
// pointer, a storesync store's .zattrs and files.json). S3 may fail a read
// that overlaps the replacement (the object changed between the response's
// first bytes and the rest: a failed precondition); such reads are retried
// a few times. Absence and oversize are not retried.
func (s *Server) readMutable(ctx context.Context, key string, limit int64) ([]byte, error) {
	var err error
	for try := 0; try < 4; try++ {
		var b []byte
		b, err = objstore.ReadAll(ctx, s.bkt, key, limit)
		if err == nil || errors.Is(err, objstore.ErrNotExist) || errors.Is(err, objstore.ErrTooLarge) ||
			errors.Is(err, objstore.ErrBadKey) || errors.Is(err, objstore.ErrAuth) || ctx.Err() != nil {
			return b, err
		}
		time.Sleep(time.Duration(try+1) * 10 * time.Millisecond)
	}
	return nil, err
}

func hexSum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// s3Info is info for a bucket root: provenance from the store's .zattrs
// (checked against the manifest's sha256), sizes from the manifest.
func (s *Server) s3Info(ref string) (*StoreInfo, error) {
	loc, err := s.locate(ref)
	if err != nil {
		return nil, err
	}
	stamp := "pushed/" + loc.version + "/" + strings.Join(loc.history, ",")
	if loc.plain {
		stamp = "plain/" + loc.man.Version
	}
	s.mu.Lock()
	c, ok := s.cache[ref]
	s.mu.Unlock()
	if ok && c.stamp == stamp {
		return c.info, nil
	}
	ctx, cancel := s3ctx()
	defer cancel()
	var ze FileEntry
	var in StoreInfo
	for _, f := range loc.man.Files {
		in.DiskBytes += f.Size
		if rest, ok := strings.CutPrefix(f.Path, "features/"); ok && !strings.Contains(rest, "/") && rest != ".zarray" && rest != ".zattrs" {
			in.ChunkBytes += f.Size
		}
		if f.Path == ".zattrs" {
			ze = f
		}
	}
	if ze.Path == "" {
		return nil, fmt.Errorf("%w: store %q has no .zattrs", ErrNotFound, ref)
	}
	key := blobKey(ze.SHA256)
	if loc.plain {
		key = loc.name + "/.zattrs"
	}
	zb, err := objstore.ReadAll(ctx, s.bkt, key, min(ze.Size, maxZattrs))
	if err != nil {
		return nil, notFound(err, "store %q: .zattrs", ref)
	}
	if hexSum(zb) != ze.SHA256 {
		return nil, fmt.Errorf("%w: store %q: .zattrs changed while reading it", ErrNotFound, ref)
	}
	var za struct {
		Preconv *store.Provenance `json:"preconv"`
	}
	if err := json.Unmarshal(zb, &za); err != nil || za.Preconv == nil {
		return nil, fmt.Errorf("%w: store %q (not a committed preconv store: .zattrs without provenance)", ErrNotFound, ref)
	}
	p := za.Preconv
	in.Name, in.URL, in.Spec, in.SpecDigest = loc.name, "/stores/"+ref, p.Spec, p.SpecDigest
	in.Classes, in.Items, in.Failed, in.Splits, in.Chunks = p.Classes, p.Count, p.Failed, p.Splits, p.Chunks
	in.Created, in.PreconvVersion, in.LayoutDigest = p.Created, p.Version, p.LayoutHash
	if !loc.plain {
		in.Version, in.Versions, in.PushedBy, in.PushedAt = loc.version, loc.history, loc.man.PushedBy, loc.man.PushedAt
	}
	s.mu.Lock()
	s.cache[ref] = cachedInfo{stamp: stamp, info: &in}
	s.mu.Unlock()
	return &in, nil
}

// s3PlainNames lists the names NAME with an object NAME/.zattrs (reused
// for s3ListTTL).
func (s *Server) s3PlainNames() ([]string, error) {
	s.s3.listMu.Lock()
	defer s.s3.listMu.Unlock()
	if time.Since(s.s3.listAt) < s3ListTTL {
		return slices.Clone(s.s3.plain), nil
	}
	ctx, cancel := s3ctx()
	defer cancel()
	l, err := s.bkt.List(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", s.bkt, err)
	}
	var names []string
	for _, in := range l {
		if n, ok := strings.CutSuffix(in.Key, "/.zattrs"); ok && validName(n) {
			names = append(names, n)
		}
	}
	s.s3.plain, s.s3.listAt = names, time.Now()
	return slices.Clone(names), nil
}

func (s *Server) s3Invalidate() {
	s.s3.listMu.Lock()
	s.s3.listAt = time.Time{}
	s.s3.listMu.Unlock()
}

// pinnedCurrent returns the recently read pointer of name if it lists
// version, else nil.
func (s *Server) pinnedCurrent(name, version string) *current {
	s.s3.mu.Lock()
	defer s.s3.mu.Unlock()
	cc, ok := s.s3.cur[name]
	if ok && time.Since(cc.at) < s3PinnedTTL && slices.Contains(cc.c.History, version) {
		return cc.c
	}
	return nil
}

func (s *Server) rememberCurrent(name string, c *current) {
	s.s3.mu.Lock()
	if len(s.s3.cur) >= maxCachedManifests {
		clear(s.s3.cur)
	}
	s.s3.cur[name] = cachedCurrent{time.Now(), c}
	s.s3.mu.Unlock()
}

// s3ServeFile serves file key (slash path) of loc from the bucket: the
// store's object for a storesync store, the blob for a pushed version.
func (s *Server) s3ServeFile(w http.ResponseWriter, r *http.Request, loc *located, key string) error {
	i, ok := slices.BinarySearchFunc(loc.man.Files, key, func(e FileEntry, k string) int { return strings.Compare(e.Path, k) })
	if !ok {
		return fmt.Errorf("%w: store %q file %q", ErrNotFound, loc.name, key)
	}
	f := loc.man.Files[i]
	obj := blobKey(f.SHA256)
	var mod time.Time
	h := w.Header()
	if loc.plain {
		obj = loc.name + "/" + key
	} else {
		h.Set("X-Preconv-Version", loc.version)
		mod = loc.man.PushedAt
	}
	// Open the object before answering, so that an absent one is a 404
	// rather than a truncated 200.
	rc, err := s.bkt.Get(r.Context(), obj)
	if err != nil {
		return notFound(err, "store %q file %q", loc.name, key)
	}
	defer rc.Close()
	// Get's readers seek (a ranged GET on S3), so ServeContent answers
	// Range requests without reading the object from its start. Its size
	// must be the one the manifest promises.
	rs, ok := rc.(io.ReadSeeker)
	if !ok {
		return fmt.Errorf("store %q file %q: %T is not seekable", loc.name, key, rc)
	}
	if n, err := rs.Seek(0, io.SeekEnd); err != nil || n != f.Size {
		return fmt.Errorf("store %q file %q: object %s has %d bytes, the manifest %d (%v)", loc.name, key, obj, n, f.Size, err)
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("store %q file %q: %w", loc.name, key, err)
	}
	h.Set("ETag", `"`+f.SHA256+`"`)
	h.Set("X-Content-Sha256", f.SHA256)
	h.Set("Content-Type", "application/octet-stream")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", mod, rs)
	return nil
}

// s3StatBlobs returns the sizes of the blobs in sums that exist (s3Workers
// Stats at once). Errors other than absence are returned.
func (s *Server) s3StatBlobs(ctx context.Context, sums []string) (map[string]int64, error) {
	sizes := make(map[string]int64, len(sums))
	var mu sync.Mutex
	var first error
	work := make(chan string)
	var wg sync.WaitGroup
	for range min(s3Workers, len(sums)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sum := range work {
				in, err := s.bkt.Stat(ctx, blobKey(sum))
				mu.Lock()
				if err == nil {
					sizes[sum] = in.Size
				} else if !errors.Is(err, objstore.ErrNotExist) && first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	for _, sum := range sums {
		if ctx.Err() != nil {
			break
		}
		work <- sum
	}
	close(work)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return sizes, first
}

// vouch records that a push relies on these blobs now: garbage collection
// spares them for Config.GCGrace (S3 objects have no touchable mtime).
func (s *Server) vouch(sums ...string) {
	now := time.Now()
	s.s3.mu.Lock()
	for _, h := range sums {
		s.s3.vouched[h] = now
	}
	s.s3.mu.Unlock()
}

// s3Missing answers POST /api/v1/blobs/missing for a bucket root.
func (s *Server) s3Missing(w http.ResponseWriter, r *http.Request, req []string) error {
	var uniq []string
	seen := map[string]bool{}
	for _, h := range req {
		if !validSHA(h) {
			return fmt.Errorf("%w: %q is not a sha256 hex digest", ErrBadRequest, h)
		}
		if !seen[h] {
			seen[h] = true
			uniq = append(uniq, h)
		}
	}
	sizes, err := s.s3StatBlobs(r.Context(), uniq)
	if err != nil {
		return err
	}
	out := []string{}
	var have []string
	for _, h := range uniq {
		if _, ok := sizes[h]; ok {
			have = append(have, h)
		} else {
			out = append(out, h)
		}
	}
	s.vouch(have...)
	return writeJSON(w, map[string]any{"missing": out})
}

// s3PutBlob stores an upload for a bucket root: hashed into a local temp
// file, then one Put of the verified bytes.
func (s *Server) s3PutBlob(w http.ResponseWriter, r *http.Request, sum string) error {
	ctx := r.Context()
	if in, err := s.bkt.Stat(ctx, blobKey(sum)); err == nil {
		io.Copy(io.Discard, r.Body)
		s.vouch(sum)
		return writeJSON(w, map[string]any{"sha256": sum, "size": in.Size, "existed": true})
	} else if !errors.Is(err, objstore.ErrNotExist) {
		return err
	}
	tmp, err := os.CreateTemp("", "preconv-serve-blob-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("%w: blob %s exceeds the upload limit of %d bytes", ErrTooLarge, sum, s.cfg.MaxUploadBytes)
		}
		return fmt.Errorf("%w: blob %s: reading the body: %v", ErrBadRequest, sum, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return fmt.Errorf("%w: blob %s: the %d bytes received hash to %s", ErrDigestMismatch, sum, n, got)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	s.vouch(sum)
	if err := s.bkt.Put(ctx, blobKey(sum), tmp, n); err != nil {
		return fmt.Errorf("blob %s: %w", sum, err)
	}
	w.WriteHeader(http.StatusCreated)
	return writeJSON(w, map[string]any{"sha256": sum, "size": n, "existed": false})
}

// s3Commit is Commit for a bucket root. The version's manifest object is
// written before the current pointer, which is one PUT: the commit point.
func (s *Server) s3Commit(ctx context.Context, name string, m *Manifest) (*CommitResult, error) {
	if _, err := s.s3PlainManifest(ctx, name); err == nil {
		return nil, fmt.Errorf("%w: store %q is a store written by preconv push s3://… under the root; it cannot be pushed to over HTTP", ErrConflict, name)
	}
	if err := checkManifest(m); err != nil {
		return nil, fmt.Errorf("store %q: %w", name, err)
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	sums := make([]string, 0, len(m.Files))
	for _, f := range m.Files {
		sums = append(sums, f.SHA256)
	}
	s.vouch(sums...)
	sizes, err := s.s3StatBlobs(ctx, sums)
	if err != nil {
		return nil, err
	}
	var missing []string
	var total int64
	for _, f := range m.Files {
		n, ok := sizes[f.SHA256]
		if !ok {
			missing = append(missing, f.SHA256)
			continue
		}
		if n != f.Size {
			return nil, fmt.Errorf("%w: store %q file %s: manifest says %d bytes, blob has %d", ErrBadRequest, name, f.Path, f.Size, n)
		}
		total += f.Size
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, &MissingBlobsError{Store: name, Missing: slices.Compact(missing)}
	}
	version := VersionOf(m.Files)
	m.Name, m.Version = name, version
	m.PushedAt = time.Now().UTC().Truncate(time.Second)
	if err := s.s3Validate(ctx, name, m); err != nil {
		return nil, err
	}

	mu := s.storeLock(name)
	mu.Lock()
	defer mu.Unlock()
	cur, err := s.readCurrent(name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	res := &CommitResult{Name: name, Version: version, Files: len(m.Files), Bytes: total}
	if cur != nil {
		res.Previous = cur.Version
	}
	if err := checkParent(name, m, cur); err != nil {
		return nil, err
	}
	if cur != nil && cur.Version == version {
		res.Unchanged = true
		res.Stats, _ = s.BlobStats()
		return res, nil
	}
	// The manifest of a version records its first push.
	if _, err := s.bkt.Stat(ctx, verKey(name, version)); errors.Is(err, objstore.ErrNotExist) {
		b, _ := json.MarshalIndent(m, "", " ")
		if err := s.bkt.Put(ctx, verKey(name, version), strings.NewReader(string(b)), int64(len(b))); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	next, pruned := advance(cur, version, s.cfg.KeepVersions)
	res.Pruned = append(res.Pruned, pruned...)
	b, _ := json.Marshal(next)
	if err := s.bkt.Put(ctx, curKey(name), strings.NewReader(string(b)), int64(len(b))); err != nil {
		return nil, err
	}
	s.rememberCurrent(name, &next)
	s.s3Invalidate()
	for _, v := range res.Pruned {
		if err := s.bkt.Delete(ctx, verKey(name, v)); err != nil {
			s.logf("preconv serve: store %q: deleting pruned version %s: %v", name, v, err)
		}
	}
	if len(res.Pruned) > 0 {
		s.collectBlobs(s.cfg.GCGrace)
	}
	res.Stats, _ = s.BlobStats()
	return res, nil
}

// isFeatureChunk reports whether p is a features chunk (the bytes that
// validation does not need: their sidecars carry sha256 and size).
func isFeatureChunk(p string) bool {
	rest, ok := strings.CutPrefix(p, "features/")
	return ok && rest != ".zarray" && rest != ".zattrs"
}

// s3Validate checks that a commit's files form a valid store, as
// materialize does for a directory root: the files other than features
// chunks are fetched into a local temp directory (each checked against its
// sha256) and validateStore runs there; the chunks themselves were hashed
// on upload and are checked against their index entries by sha256 and size.
func (s *Server) s3Validate(ctx context.Context, name string, m *Manifest) error {
	tmp, err := os.MkdirTemp("", "preconv-serve-commit-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, f := range m.Files {
		if isFeatureChunk(f.Path) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		p := filepath.Join(tmp, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := s.s3Fetch(ctx, f, p); err != nil {
			return fmt.Errorf("store %q version %s: %w", name, m.Version, err)
		}
	}
	if err := validateStore(tmp, m); err != nil {
		return fmt.Errorf("store %q version %s: %w", name, m.Version, err)
	}
	return nil
}

// s3Fetch copies blob f to local file p, checking size and sha256.
func (s *Server) s3Fetch(ctx context.Context, f FileEntry, p string) error {
	rc, err := s.bkt.Get(ctx, blobKey(f.SHA256))
	if err != nil {
		if errors.Is(err, objstore.ErrNotExist) {
			return &MissingBlobsError{Store: path.Base(p), Missing: []string{f.SHA256}}
		}
		return err
	}
	defer rc.Close()
	out, err := os.Create(p)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), io.LimitReader(rc, f.Size+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if n != f.Size || hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
		return fmt.Errorf("%w: %s: blob %s does not hold the file's bytes", ErrInvalidStore, f.Path, f.SHA256)
	}
	return nil
}

// s3ReadCurrent reads a pushed store's current pointer.
func (s *Server) s3ReadCurrent(name string) (*current, error) {
	ctx, cancel := s3ctx()
	defer cancel()
	b, err := s.readMutable(ctx, curKey(name), 1<<20)
	if err != nil {
		return nil, notFound(err, "store %q", name)
	}
	var c current
	if err := json.Unmarshal(b, &c); err != nil || !validVersion(c.Version) {
		return nil, fmt.Errorf("store %q: damaged current.json: %v", name, err)
	}
	s.rememberCurrent(name, &c)
	return &c, nil
}

func (s *Server) s3LoadManifest(name, version string) (*Manifest, error) {
	ctx, cancel := s3ctx()
	defer cancel()
	b, err := objstore.ReadAll(ctx, s.bkt, verKey(name, version), maxCommitBody)
	if err != nil {
		return nil, notFound(err, "store %q version %s", name, version)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("store %q version %s: damaged manifest: %v", name, version, err)
	}
	if !slices.IsSortedFunc(m.Files, func(a, b FileEntry) int { return strings.Compare(a.Path, b.Path) }) {
		sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	}
	return &m, nil
}

// s3PushedNames lists pushed stores: those with a current pointer. A
// listing error is logged (and nothing listed).
func (s *Server) s3PushedNames() []string {
	out, err := s.s3ListPushed()
	if err != nil {
		s.logf("preconv serve: listing pushed stores: %v", err)
	}
	return out
}

func (s *Server) s3ListPushed() ([]string, error) {
	ctx, cancel := s3ctx()
	defer cancel()
	l, err := s.bkt.List(ctx, serverDir+"/stores/")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, in := range l {
		rest := strings.TrimPrefix(in.Key, serverDir+"/stores/")
		if n, ok := strings.CutSuffix(rest, "/current.json"); ok && validName(n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// s3BlobCount counts the blobs and their bytes.
func (s *Server) s3BlobCount() (BlobsStats, error) {
	ctx, cancel := s3ctx()
	defer cancel()
	var st BlobsStats
	l, err := s.bkt.List(ctx, serverDir+"/blobs/")
	for _, in := range l {
		st.Blobs++
		st.BlobBytes += in.Size
	}
	return st, err
}

// s3CollectBlobs deletes blobs that no kept version of any pushed store
// names, that were stored before the grace period and that no push relied
// on during it (see vouch). It gives up, deleting nothing, when a kept
// version's manifest cannot be read.
func (s *Server) s3CollectBlobs(grace time.Duration) (n int, bytes int64) {
	ctx, cancel := s3ctx()
	defer cancel()
	l, err := s.bkt.List(ctx, serverDir+"/blobs/")
	if err != nil {
		s.logf("preconv serve: garbage collection: %v", err)
		return 0, 0
	}
	used := map[string]bool{}
	names, err := s.s3ListPushed()
	if err != nil {
		s.logf("preconv serve: garbage collection skipped: %v", err)
		return 0, 0
	}
	for _, name := range names {
		cur, err := s.readCurrent(name)
		if err != nil {
			s.logf("preconv serve: garbage collection skipped: %v", err)
			return 0, 0
		}
		for _, v := range cur.History {
			m, err := s.readManifest(name, v)
			if err != nil {
				s.logf("preconv serve: garbage collection skipped: %v", err)
				return 0, 0
			}
			for _, f := range m.Files {
				used[f.SHA256] = true
			}
		}
	}
	cutoff := time.Now().Add(-grace)
	s.s3.mu.Lock()
	vouched := make(map[string]time.Time, len(s.s3.vouched))
	for h, t := range s.s3.vouched {
		if t.After(cutoff) {
			vouched[h] = t
		}
	}
	s.s3.vouched = vouched
	s.s3.mu.Unlock()
	for _, in := range l {
		sum := path.Base(in.Key)
		if used[sum] || in.Modified.After(cutoff) || !vouched[sum].IsZero() {
			continue
		}
		if err := s.bkt.Delete(ctx, in.Key); err != nil {
			s.logf("preconv serve: garbage collection: %v", err)
			continue
		}
		n++
		bytes += in.Size
	}
	return n, bytes
}
