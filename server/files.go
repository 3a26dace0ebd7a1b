package server

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// cleanKey checks a store-relative, slash-separated file path from a URL
// (already percent-decoded) and returns it with OS separators.
func cleanKey(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("%w: empty path", ErrNotFound)
	}
	if strings.HasPrefix(p, "/") || filepath.IsAbs(p) || strings.ContainsAny(p, "\\\x00") {
		return "", fmt.Errorf("%w: %q", ErrBadPath, p)
	}
	segs := strings.Split(p, "/")
	for _, s := range segs {
		if s == "" || s == "." || s == ".." {
			return "", fmt.Errorf("%w: %q", ErrBadPath, p)
		}
	}
	// Bookkeeping and half-written temp files are not part of the store.
	for _, s := range segs {
		if s == ".preconv" || strings.HasPrefix(s, ".tmp-") {
			return "", fmt.Errorf("%w: %q", ErrNotFound, p)
		}
	}
	return filepath.FromSlash(p), nil
}

// handleFile serves one file of a store byte for byte. NAME may be
// NAME@VERSION for a pushed store; responses from a pushed store carry
// X-Preconv-Version (the version the file came from) so that a reader can
// pin the rest of its reads to it.
func (s *Server) handleFile(w http.ResponseWriter, r *http.Request) error {
	name, key := r.PathValue("name"), r.PathValue("path")
	rel, err := cleanKey(key)
	if err != nil {
		return fmt.Errorf("store %q file: %w", name, err)
	}
	loc, err := s.locate(name)
	if err != nil {
		return err
	}
	return s.serveFile(w, r, loc, rel)
}

// serveFile serves the file rel (OS separators, already checked) of loc.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, loc *located, rel string) error {
	if s.bkt != nil {
		return s.s3ServeFile(w, r, loc, filepath.ToSlash(rel))
	}
	name, key, dir := loc.name, filepath.ToSlash(rel), loc.dir
	if _, err := os.Stat(filepath.Join(dir, ".zgroup")); err != nil {
		return fmt.Errorf("%w: store %q", ErrNotFound, name)
	}
	real, err := s.resolve(filepath.Join(dir, rel))
	if err != nil {
		return fmt.Errorf("store %q file %q: %w", name, key, err)
	}
	// A symlink inside the store may not lead into its bookkeeping, except
	// to the chunk index entries when they were asked for by name.
	if r, err := filepath.Rel(dir, real); err == nil && (r == ".preconv" || strings.HasPrefix(r, ".preconv"+string(filepath.Separator))) &&
		!(ValidStorePath(filepath.ToSlash(r)) && r == rel) {
		return fmt.Errorf("%w: store %q file %q", ErrNotFound, name, key)
	}
	f, err := os.Open(real)
	if err != nil {
		return fmt.Errorf("%w: store %q file %q", ErrNotFound, name, key)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: store %q file %q", ErrNotFound, name, key)
	}
	h := w.Header()
	etag := `"` + strconv.FormatInt(fi.Size(), 36) + "-" + strconv.FormatInt(fi.ModTime().UnixNano(), 36) + `"`
	if loc.man != nil {
		h.Set("X-Preconv-Version", loc.version)
		if i, ok := slices.BinarySearchFunc(loc.man.Files, key, func(e FileEntry, k string) int { return strings.Compare(e.Path, k) }); ok {
			etag = `"` + loc.man.Files[i].SHA256 + `"`
			h.Set("X-Content-Sha256", loc.man.Files[i].SHA256)
		}
	}
	h.Set("ETag", etag)
	h.Set("Content-Type", "application/octet-stream")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", fi.ModTime(), f)
	return nil
}
