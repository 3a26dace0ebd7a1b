package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// FileEntry is one file of a store in a Manifest.
type FileEntry struct {
	// Path is relative to the store directory, slash-separated.
	Path string `json:"path"`
	// SHA256 is the lowercase hex sha256 of the file's bytes.
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Manifest lists the files of one store version. It is what a push commits
// and what a pull fetches.
type Manifest struct {
	Name    string      `json:"name,omitempty"`
	Version string      `json:"version,omitempty"`
	Files   []FileEntry `json:"files"`
	// PushedBy is who the pushing client said it was; PushedAt is the
	// server's clock at commit. Both are empty for plain-directory stores.
	PushedBy string    `json:"pushed_by,omitempty"`
	PushedAt time.Time `json:"pushed_at,omitzero"`
	// Parent, in a commit request, is the version the client expects to
	// replace ("" = no expectation); see the package doc on concurrency.
	Parent string `json:"parent,omitempty"`
}

// Limits on manifests (commit bodies, plain-directory walks).
const (
	maxManifestFiles = 1 << 20
	maxPathLen       = 1024
	maxPathSegs      = 32
)

// ValidStorePath reports whether p (slash-separated, relative) may be a file
// of a pushed store: no empty, "." or ".." segments, no backslash or NUL,
// not absolute, no writer temp files (".tmp-*"), and inside the bookkeeping
// folder only the chunk index entries ".preconv/chunks/<n>.json" (the lock
// and chunks kept aside for reuse are never part of a store).
func ValidStorePath(p string) bool {
	if p == "" || len(p) > maxPathLen || strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00:") {
		return false
	}
	segs := strings.Split(p, "/")
	if len(segs) > maxPathSegs {
		return false
	}
	for _, s := range segs {
		if s == "" || s == "." || s == ".." || strings.HasPrefix(s, ".tmp-") {
			return false
		}
	}
	if segs[0] == ".preconv" {
		if len(segs) != 3 || segs[1] != "chunks" {
			return false
		}
		n, ok := strings.CutSuffix(segs[2], ".json")
		if _, err := strconv.ParseUint(n, 10, 31); !ok || err != nil || n != strconv.Itoa(atoi(n)) {
			return false
		}
		return true
	}
	for _, s := range segs {
		if s == ".preconv" {
			return false
		}
	}
	return true
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// validSHA reports whether h is 64 lowercase hex digits.
func validSHA(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// BuildManifest walks the committed store at dir and returns its files
// (every regular file ValidStorePath accepts; symlinks, the lock, temp files
// and .preconv/old are left out) with their sha256, sorted by path. It fails
// with ErrNotFound when dir has no .zattrs (no committed store).
func BuildManifest(ctx context.Context, dir string) (*Manifest, error) {
	if _, err := os.Stat(filepath.Join(dir, ".zattrs")); err != nil {
		return nil, fmt.Errorf("%s: %w: no .zattrs (not a committed store)", dir, ErrNotFound)
	}
	m := &Manifest{Files: []FileEntry{}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == ".preconv/old" || strings.HasPrefix(d.Name(), ".tmp-") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !ValidStorePath(rel) {
			return nil
		}
		if len(m.Files) >= maxManifestFiles {
			return fmt.Errorf("%s: more than %d files: %w", dir, maxManifestFiles, ErrTooLarge)
		}
		sum, n, err := hashFile(p)
		if err != nil {
			return err
		}
		m.Files = append(m.Files, FileEntry{Path: rel, SHA256: sum, Size: n})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	m.Version = VersionOf(m.Files)
	return m, nil
}

func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// VersionOf is the content address of a store version: the first 20 hex
// digits of the sha256 over its sorted "path NUL sha256 NUL size" lines.
// Pushing the same files twice gives the same version.
func VersionOf(files []FileEntry) string {
	fs := append([]FileEntry(nil), files...)
	sort.Slice(fs, func(i, j int) bool { return fs[i].Path < fs[j].Path })
	h := sha256.New()
	for _, f := range fs {
		fmt.Fprintf(h, "%s\x00%s\x00%d\n", f.Path, f.SHA256, f.Size)
	}
	return hex.EncodeToString(h.Sum(nil))[:20]
}

// validVersion reports whether v looks like a VersionOf result.
func validVersion(v string) bool {
	if len(v) != 20 {
		return false
	}
	return validSHA(v + strings.Repeat("0", 44))
}

// checkManifest validates a commit body: every path valid and unique, every
// hash well formed, sizes sane, .zgroup and .zattrs present.
func checkManifest(m *Manifest) error {
	if len(m.Files) == 0 || len(m.Files) > maxManifestFiles {
		return fmt.Errorf("%w: manifest has %d files (want 1..%d)", ErrBadRequest, len(m.Files), maxManifestFiles)
	}
	seen := make(map[string]bool, len(m.Files))
	for _, f := range m.Files {
		if !ValidStorePath(f.Path) {
			return fmt.Errorf("%w: manifest path %q", ErrBadPath, f.Path)
		}
		if seen[f.Path] {
			return fmt.Errorf("%w: manifest path %q listed twice", ErrBadRequest, f.Path)
		}
		seen[f.Path] = true
		if !validSHA(f.SHA256) || f.Size < 0 {
			return fmt.Errorf("%w: manifest entry %q: sha256 %q size %d", ErrBadRequest, f.Path, f.SHA256, f.Size)
		}
	}
	for _, need := range []string{".zgroup", ".zattrs"} {
		if !seen[need] {
			return fmt.Errorf("%w: manifest lacks %s (not a committed store)", ErrInvalidStore, need)
		}
	}
	if len(m.PushedBy) > 256 {
		return fmt.Errorf("%w: pushed_by longer than 256 bytes", ErrBadRequest)
	}
	if m.Parent != "" && !validVersion(m.Parent) {
		return fmt.Errorf("%w: parent %q is not a version", ErrBadRequest, m.Parent)
	}
	return nil
}
