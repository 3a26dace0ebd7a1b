package server

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
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

// handleFile serves one file of a store byte for byte.
func (s *Server) handleFile(w http.ResponseWriter, r *http.Request) error {
	name, key := r.PathValue("name"), r.PathValue("path")
	rel, err := cleanKey(key)
	if err != nil {
		return fmt.Errorf("store %q file: %w", name, err)
	}
	dir, err := s.storeDir(name)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, ".zgroup")); err != nil {
		return fmt.Errorf("%w: store %q", ErrNotFound, name)
	}
	real, err := s.resolve(filepath.Join(dir, rel))
	if err != nil {
		return fmt.Errorf("store %q file %q: %w", name, key, err)
	}
	// A symlink inside the store may not lead into its bookkeeping.
	if r, err := filepath.Rel(dir, real); err == nil && (r == ".preconv" || strings.HasPrefix(r, ".preconv"+string(filepath.Separator))) {
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
	h.Set("ETag", `"`+strconv.FormatInt(fi.Size(), 36)+"-"+strconv.FormatInt(fi.ModTime().UnixNano(), 36)+`"`)
	h.Set("Content-Type", "application/octet-stream")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", fi.ModTime(), f)
	return nil
}
