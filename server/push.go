package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/preconv/preconv/store"
)

// Server-side bookkeeping of pushed stores lives in Root/.preconv-server
// (never served, never listed: names starting with "." are not stores):
//
//	blobs/ab/<sha256 hex>          content-addressed file bodies (read-only)
//	tmp/                           uploads and commits in progress
//	stores/NAME/current.json       {"version": V, "history": [oldest … V]}
//	stores/NAME/versions/V.json    the Manifest of version V
//	stores/NAME/versions/V/        the version's files: hard links to blobs
const serverDir = ".preconv-server"

// Defaults for the push side of Config.
const (
	defaultMaxUpload = 256 << 20
	defaultKeep      = 5
	defaultGCGrace   = time.Hour
	maxCommitBody    = 256 << 20 // a manifest of maxManifestFiles entries fits
	maxMissingBody   = 64 << 20
)

type current struct {
	Version string   `json:"version"`
	History []string `json:"history"`
}

// checkParent refuses a commit whose Parent (If-Match) is not the current
// version of the store.
func checkParent(name string, m *Manifest, cur *current) error {
	if m.Parent == "" || (cur != nil && cur.Version == m.Parent) {
		return nil
	}
	have := "none"
	if cur != nil {
		have = cur.Version
	}
	return fmt.Errorf("%w: store %q: parent %s is not the current version (%s)", ErrConflict, name, m.Parent, have)
}

// advance returns the pointer that makes version current after cur (nil:
// a first push), keeping the last keep versions in History, and the
// versions that fall out of it.
func advance(cur *current, version string, keep int) (next current, pruned []string) {
	next = current{Version: version}
	if cur != nil {
		for _, v := range cur.History {
			if v != version {
				next.History = append(next.History, v)
			}
		}
	}
	next.History = append(next.History, version)
	if len(next.History) > keep {
		pruned = append(pruned, next.History[:len(next.History)-keep]...)
		next.History = next.History[len(next.History)-keep:]
	}
	return next, pruned
}

func (s *Server) sdir(parts ...string) string {
	return filepath.Join(append([]string{s.root, serverDir}, parts...)...)
}

func (s *Server) blobPath(sum string) string { return s.sdir("blobs", sum[:2], sum) }

// storeLock returns the mutex that serialises commits of one store.
func (s *Server) storeLock(name string) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.locks[name]
	if m == nil {
		m = &sync.Mutex{}
		s.locks[name] = m
	}
	return m
}

// write wraps a handler that needs ScopeWrite; limit bounds the body.
func (s *Server) write(limit int64, h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.authorize(r, ScopeWrite); err != nil {
			s.writeError(w, err)
			return
		}
		if r.ContentLength > limit {
			s.writeError(w, fmt.Errorf("%w: body of %d bytes exceeds the limit of %d", ErrTooLarge, r.ContentLength, limit))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if err := h(w, r); err != nil {
			s.writeError(w, err)
		}
	}
}

// missingRequest is the body of POST /api/v1/blobs/missing.
type missingRequest struct {
	SHA256 []string `json:"sha256"`
}

// handleMissing answers POST /api/v1/blobs/missing {"sha256":[…]} with
// {"missing":[…]}: the listed blobs the server does not have.
func (s *Server) handleMissing(w http.ResponseWriter, r *http.Request) error {
	var req missingRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		return err
	}
	if len(req.SHA256) > maxManifestFiles {
		return fmt.Errorf("%w: %d hashes (at most %d)", ErrBadRequest, len(req.SHA256), maxManifestFiles)
	}
	if s.bkt != nil {
		return s.s3Missing(w, r, req.SHA256)
	}
	out := []string{}
	seen := map[string]bool{}
	for _, h := range req.SHA256 {
		if !validSHA(h) {
			return fmt.Errorf("%w: %q is not a sha256 hex digest", ErrBadRequest, h)
		}
		if seen[h] {
			continue
		}
		seen[h] = true
		if _, err := os.Stat(s.blobPath(h)); err != nil {
			out = append(out, h)
		} else {
			// The push about to commit relies on this blob: restart its
			// garbage-collection grace period.
			now := time.Now()
			os.Chtimes(s.blobPath(h), now, now)
		}
	}
	return writeJSON(w, map[string]any{"missing": out})
}

// handlePutBlob stores PUT /api/v1/blobs/{sha256}: the body is hashed while
// it is written to a temp file, and kept only when it matches.
func (s *Server) handlePutBlob(w http.ResponseWriter, r *http.Request) error {
	sum := r.PathValue("sha256")
	if !validSHA(sum) {
		return fmt.Errorf("%w: blob name %q is not a sha256 hex digest", ErrBadPath, sum)
	}
	if s.bkt != nil {
		return s.s3PutBlob(w, r, sum)
	}
	dst := s.blobPath(sum)
	if fi, err := os.Stat(dst); err == nil && fi.Mode().IsRegular() {
		io.Copy(io.Discard, r.Body) // drain (bounded by MaxBytesReader) so the connection is reused
		return writeJSON(w, map[string]any{"sha256": sum, "size": fi.Size(), "existed": true})
	}
	tmp, err := s.tempFile("blob-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), r.Body)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
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
	if err := os.Chmod(tmp.Name(), 0o444); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return err
	}
	w.WriteHeader(http.StatusCreated)
	return writeJSON(w, map[string]any{"sha256": sum, "size": n, "existed": false})
}

// cleanTemp removes uploads and commit directories left in the server's
// tmp dir by a crash (entries older than an hour; a live server's are
// younger).
func (s *Server) cleanTemp() {
	if s.bkt != nil {
		return // uploads are staged in the OS temp dir and removed at once
	}
	ents, _ := os.ReadDir(s.sdir("tmp"))
	cutoff := time.Now().Add(-time.Hour)
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.ModTime().Before(cutoff) {
			os.RemoveAll(s.sdir("tmp", e.Name()))
		}
	}
}

func (s *Server) tempFile(prefix string) (*os.File, error) {
	dir := s.sdir("tmp")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return os.CreateTemp(dir, prefix)
}

// CommitResult is the answer to a commit.
type CommitResult struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Previous is the version the commit replaced ("" for a new store).
	Previous string `json:"previous,omitempty"`
	Files    int    `json:"files"`
	Bytes    int64  `json:"bytes"`
	// Unchanged: the commit's files equal the current version's.
	Unchanged bool `json:"unchanged"`
	// Pruned lists versions dropped by Config.KeepVersions.
	Pruned []string   `json:"pruned,omitempty"`
	Stats  BlobsStats `json:"stats"`
}

// handleCommit commits POST /api/v1/stores/{name}/commit: body a Manifest
// (files, pushed_by, optional parent; an If-Match header with the parent
// version works too).
func (s *Server) handleCommit(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	var m Manifest
	if err := decodeJSON(r.Body, &m); err != nil {
		return err
	}
	if im := strings.Trim(r.Header.Get("If-Match"), `"`); im != "" {
		if m.Parent != "" && m.Parent != im {
			return fmt.Errorf("%w: If-Match %q and parent %q differ", ErrBadRequest, im, m.Parent)
		}
		m.Parent = im
	}
	res, err := s.Commit(r.Context(), name, &m)
	if err != nil {
		return err
	}
	return writeJSON(w, res)
}

// Commit makes m the current version of the pushed store name. Every blob
// must have been uploaded; the files must form a valid committed preconv
// store whose chunk index entries agree with the manifest. The switch is
// atomic (current.json written and renamed); a reader of name sees the old
// or the new version, whole. m.Parent, when set, must be the current version
// (else ErrConflict); "" accepts any current version.
func (s *Server) Commit(ctx context.Context, name string, m *Manifest) (*CommitResult, error) {
	if !validName(name) || strings.Contains(name, "@") {
		return nil, fmt.Errorf("%w: store name %q (no leading '.', '/', '\\' or '@')", ErrBadPath, name)
	}
	if s.bkt != nil {
		return s.s3Commit(ctx, name, m)
	}
	if _, err := os.Lstat(filepath.Join(s.root, name)); err == nil {
		return nil, fmt.Errorf("%w: store %q is a plain directory under the root; it cannot be pushed to", ErrConflict, name)
	}
	if err := checkManifest(m); err != nil {
		return nil, fmt.Errorf("store %q: %w", name, err)
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	var missing []string
	var total int64
	for _, f := range m.Files {
		fi, err := os.Stat(s.blobPath(f.SHA256))
		if err != nil {
			missing = append(missing, f.SHA256)
			continue
		}
		if fi.Size() != f.Size {
			return nil, fmt.Errorf("%w: store %q file %s: manifest says %d bytes, blob has %d", ErrBadRequest, name, f.Path, f.Size, fi.Size())
		}
		total += f.Size
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, &MissingBlobsError{Store: name, Missing: missing}
	}
	version := VersionOf(m.Files)
	m.Name, m.Version = name, version
	m.PushedAt = time.Now().UTC().Truncate(time.Second)

	vdir := s.sdir("stores", name, "versions")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(vdir, version, ".zattrs")); err != nil {
		if err := s.materialize(ctx, name, m, filepath.Join(vdir, version)); err != nil {
			return nil, err
		}
	}

	mu := s.storeLock(name)
	mu.Lock()
	defer mu.Unlock()
	cur, _ := s.readCurrent(name)
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
	mp := filepath.Join(vdir, version+".json")
	if _, err := os.Stat(mp); err != nil {
		b, _ := json.MarshalIndent(m, "", " ")
		if err := writeAtomic(s, mp, b); err != nil {
			return nil, err
		}
	}
	next, pruned := advance(cur, version, s.cfg.KeepVersions)
	res.Pruned = append(res.Pruned, pruned...)
	b, _ := json.Marshal(next)
	if err := writeAtomic(s, s.sdir("stores", name, "current.json"), b); err != nil {
		return nil, err
	}
	for _, v := range res.Pruned {
		os.RemoveAll(filepath.Join(vdir, v))
		os.Remove(filepath.Join(vdir, v+".json"))
	}
	if len(res.Pruned) > 0 {
		s.collectBlobs(s.cfg.GCGrace)
	}
	res.Stats, _ = s.BlobStats()
	return res, nil
}

// materialize builds version dir dst from hard links to the blobs in a temp
// directory, validates it as a store and renames it into place.
func (s *Server) materialize(ctx context.Context, name string, m *Manifest, dst string) error {
	if err := os.MkdirAll(s.sdir("tmp"), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(s.sdir("tmp"), "commit-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, f := range m.Files {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := filepath.Join(tmp, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.Link(s.blobPath(f.SHA256), p); err != nil {
			if os.IsNotExist(err) { // collected between the check and here
				return &MissingBlobsError{Store: name, Missing: []string{f.SHA256}}
			}
			// No hard links on this file system: copy (no dedup, same result).
			if err := copyBlob(s.blobPath(f.SHA256), p); err != nil {
				return err
			}
		}
	}
	if err := validateStore(tmp, m); err != nil {
		return fmt.Errorf("store %q version %s: %w", name, m.Version, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		if _, serr := os.Stat(filepath.Join(dst, ".zattrs")); serr == nil {
			return nil // a concurrent commit of the same version won
		}
		return err
	}
	return nil
}

func copyBlob(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		if os.IsNotExist(err) {
			return fmt.Errorf("%w: blob %s", ErrMissingBlobs, filepath.Base(src))
		}
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// validateStore opens the materialized store (metadata, records, provenance)
// and checks each chunk index entry's sha256 and size against the manifest.
func validateStore(dir string, m *Manifest) error {
	if _, err := store.Open(dir, store.WithWorkers(0), store.WithCacheBytes(0)); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidStore, err)
	}
	byPath := make(map[string]FileEntry, len(m.Files))
	for _, f := range m.Files {
		byPath[f.Path] = f
	}
	sidecars := 0
	for _, f := range m.Files {
		if !strings.HasPrefix(f.Path, ".preconv/chunks/") {
			continue
		}
		sidecars++
		b, err := readLimited(filepath.Join(dir, filepath.FromSlash(f.Path)), 64<<20)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrInvalidStore, f.Path, err)
		}
		var ci struct {
			File   string `json:"file"`
			SHA256 string `json:"sha256"`
			Size   int64  `json:"size"`
		}
		if err := json.Unmarshal(b, &ci); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrInvalidStore, f.Path, err)
		}
		chunk, ok := byPath[ci.File]
		if !ok {
			return fmt.Errorf("%w: %s names chunk %q, which the manifest lacks", ErrInvalidStore, f.Path, ci.File)
		}
		if chunk.SHA256 != ci.SHA256 || chunk.Size != ci.Size {
			return fmt.Errorf("%w: %s records chunk %s as sha256 %s (%d bytes); the manifest has %s (%d bytes)",
				ErrInvalidStore, f.Path, ci.File, ci.SHA256, ci.Size, chunk.SHA256, chunk.Size)
		}
	}
	st, err := store.Stat(dir)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidStore, err)
	}
	if sidecars < st.Chunks {
		return fmt.Errorf("%w: %d features chunks but %d chunk index entries", ErrInvalidStore, st.Chunks, sidecars)
	}
	return nil
}

func readLimited(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

// writeAtomic writes b to p through a temp file in the server's tmp dir,
// fsync and rename.
func writeAtomic(s *Server, p string, b []byte) error {
	f, err := s.tempFile("meta-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.Rename(f.Name(), p)
}

func (s *Server) readCurrent(name string) (*current, error) {
	if s.bkt != nil {
		return s.s3ReadCurrent(name)
	}
	b, err := readLimited(s.sdir("stores", name, "current.json"), 1<<20)
	if err != nil {
		return nil, err
	}
	var c current
	if err := json.Unmarshal(b, &c); err != nil || !validVersion(c.Version) {
		return nil, fmt.Errorf("store %q: damaged current.json: %v", name, err)
	}
	return &c, nil
}

// readManifest returns a version's manifest, parsed once and kept in
// memory (a version's manifest never changes; at most maxCachedManifests
// are kept).
func (s *Server) readManifest(name, version string) (*Manifest, error) {
	key := name + "@" + version
	s.mu.Lock()
	m := s.versions[key]
	s.mu.Unlock()
	if m != nil {
		return m, nil
	}
	m, err := s.loadManifest(name, version)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.versions) >= maxCachedManifests {
		clear(s.versions)
	}
	s.versions[key] = m
	s.mu.Unlock()
	return m, nil
}

const maxCachedManifests = 256

func (s *Server) loadManifest(name, version string) (*Manifest, error) {
	if s.bkt != nil {
		return s.s3LoadManifest(name, version)
	}
	b, err := readLimited(s.sdir("stores", name, "versions", version+".json"), maxCommitBody)
	if err != nil {
		return nil, fmt.Errorf("%w: store %q version %s", ErrNotFound, name, version)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("store %q version %s: damaged manifest: %v", name, version, err)
	}
	return &m, nil
}

// pushedNames lists the pushed stores (those with a current version).
func (s *Server) pushedNames() []string {
	if s.bkt != nil {
		return s.s3PushedNames()
	}
	ents, _ := os.ReadDir(s.sdir("stores"))
	var out []string
	for _, e := range ents {
		if e.IsDir() && validName(e.Name()) {
			if _, err := os.Stat(s.sdir("stores", e.Name(), "current.json")); err == nil {
				out = append(out, e.Name())
			}
		}
	}
	return out
}

// BlobsStats summarises the blob store and what dedup saves.
type BlobsStats struct {
	Blobs     int   `json:"blobs"`
	BlobBytes int64 `json:"blob_bytes"`
	// LogicalBytes sums the file sizes of every kept version of every
	// pushed store; SavedBytes = LogicalBytes - BlobBytes is what storing
	// identical files once saves (across versions and stores).
	LogicalBytes int64 `json:"logical_bytes"`
	SavedBytes   int64 `json:"saved_bytes"`
}

// BlobStats walks the blob store and the kept manifests.
func (s *Server) BlobStats() (BlobsStats, error) {
	var st BlobsStats
	var err error
	if s.bkt != nil {
		st, err = s.s3BlobCount()
	} else {
		err = s.walkBlobs(&st)
	}
	for _, n := range s.pushedNames() {
		cur, err := s.readCurrent(n)
		if err != nil {
			continue
		}
		for _, v := range cur.History {
			if m, err := s.readManifest(n, v); err == nil {
				for _, f := range m.Files {
					st.LogicalBytes += f.Size
				}
			}
		}
	}
	st.SavedBytes = st.LogicalBytes - st.BlobBytes
	return st, err
}

// walkBlobs counts the blobs of a directory root.
func (s *Server) walkBlobs(st *BlobsStats) error {
	return filepath.WalkDir(s.sdir("blobs"), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				st.Blobs++
				st.BlobBytes += fi.Size()
			}
		}
		return nil
	})
}

// CollectGarbage deletes blobs no kept version uses (a blob's only link is
// the blob store itself) and which are older than grace, so the blobs of a
// push in progress survive. It returns how many blobs and bytes it removed.
func (s *Server) CollectGarbage(grace time.Duration) (int, int64) { return s.collectBlobs(grace) }

func (s *Server) collectBlobs(grace time.Duration) (n int, bytes int64) {
	if s.bkt != nil {
		return s.s3CollectBlobs(grace)
	}
	cutoff := time.Now().Add(-grace)
	filepath.WalkDir(s.sdir("blobs"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil || fi.ModTime().After(cutoff) {
			return nil
		}
		if links, ok := linkCount(fi); ok && links == 1 {
			if os.Remove(p) == nil {
				n++
				bytes += fi.Size()
			}
		}
		return nil
	})
	return n, bytes
}

// decodeJSON decodes one JSON value from a (size-limited) body, refusing
// unknown fields and trailing data.
func decodeJSON(r io.Reader, v any) error {
	b, err := io.ReadAll(r)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("%w: body larger than %d bytes", ErrTooLarge, mbe.Limit)
		}
		return fmt.Errorf("%w: reading the body: %v", ErrBadRequest, err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%w: JSON body: %v", ErrBadRequest, err)
	}
	if d.More() {
		return fmt.Errorf("%w: JSON body: trailing data", ErrBadRequest)
	}
	return nil
}

// handleManifest answers GET /api/v1/stores/{ref}/manifest (ref NAME or
// NAME@VERSION) with the store's Manifest: recorded at push for pushed
// stores, computed (and cached until .zattrs changes) for plain directories.
func (s *Server) handleManifest(w http.ResponseWriter, r *http.Request) error {
	loc, err := s.locate(r.PathValue("ref"))
	if err != nil {
		return err
	}
	m := loc.man
	if m == nil {
		if m, err = s.plainManifest(r.Context(), loc); err != nil {
			return err
		}
	}
	w.Header().Set("ETag", `"`+m.Version+`"`)
	return writeJSON(w, m)
}

func (s *Server) plainManifest(ctx context.Context, loc *located) (*Manifest, error) {
	fi, err := os.Stat(filepath.Join(loc.dir, ".zattrs"))
	if err != nil {
		return nil, fmt.Errorf("%w: store %q", ErrNotFound, loc.name)
	}
	stamp := fmt.Sprintf("%d/%d", fi.Size(), fi.ModTime().UnixNano())
	s.mu.Lock()
	c, ok := s.manCache[loc.name]
	s.mu.Unlock()
	if ok && c.stamp == stamp {
		return c.man, nil
	}
	m, err := BuildManifest(ctx, loc.dir)
	if err != nil {
		return nil, err
	}
	m.Name = loc.name
	s.mu.Lock()
	s.manCache[loc.name] = cachedManifest{stamp, m}
	s.mu.Unlock()
	return m, nil
}

type cachedManifest struct {
	stamp string
	man   *Manifest
}

// handleStoreFile serves GET /api/v1/stores/{ref}/files/{path...}: any file
// ValidStorePath accepts, including the chunk index entries that pulls need
// (which /stores/NAME/... leaves out).
func (s *Server) handleStoreFile(w http.ResponseWriter, r *http.Request) error {
	loc, err := s.locate(r.PathValue("ref"))
	if err != nil {
		return err
	}
	key := r.PathValue("path")
	if !ValidStorePath(key) {
		return fmt.Errorf("%w: store %q file %q", ErrBadPath, loc.name, key)
	}
	return s.serveFile(w, r, loc, filepath.FromSlash(key))
}

// handleStats answers GET /api/v1/stats with BlobStats.
func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) error {
	st, err := s.BlobStats()
	if err != nil {
		return err
	}
	return writeJSON(w, st)
}
