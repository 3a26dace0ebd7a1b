package tfjs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/preconv/preconv/internal/npmfetch"
)

// NSFWJSVersion is the nsfwjs npm release FetchNSFWJS fetches.
const NSFWJSVersion = "4.4.0"

// FetchNSFWJS makes sure the nsfwjs@4.4.0 layers-models are unpacked under
// cacheDir (empty: npmfetch.CacheDir()) and returns the directory that
// holds them: <dir>/mobilenet_v2 and <dir>/inception_v3, each loadable with
// Load. It runs `npm pack` only when the tarball is not cached; without
// npm it fails with npmfetch.ErrNoNPM ("npm not found ... install Node.js
// and npm"). scripts/fetch-nsfwjs.sh does the same from a shell.
func FetchNSFWJS(ctx context.Context, cacheDir string) (string, error) {
	if cacheDir == "" {
		cacheDir = npmfetch.CacheDir()
	}
	dir := filepath.Join(cacheDir, "nsfwjs-"+NSFWJSVersion)
	ok := true
	for _, m := range []string{"mobilenet_v2", "inception_v3"} {
		if _, err := os.Stat(filepath.Join(dir, m, "model.min.js")); err != nil {
			ok = false
		}
	}
	if ok {
		return dir, nil
	}
	tgz, err := npmfetch.Pack(ctx, "nsfwjs@"+NSFWJSVersion, cacheDir)
	if err != nil {
		return "", fmt.Errorf("tfjs: fetching nsfwjs: %w", err)
	}
	tmp, err := os.MkdirTemp(cacheDir, ".nsfwjs-")
	if err != nil {
		return "", fmt.Errorf("tfjs: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := npmfetch.Extract(tgz, "package/dist/models/", tmp, 64<<20); err != nil {
		return "", fmt.Errorf("tfjs: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("tfjs: %w", err)
	}
	for _, m := range []string{"mobilenet_v2", "inception_v3"} {
		src := filepath.Join(tmp, "package", "dist", "models", m)
		if _, err := os.Stat(filepath.Join(src, "model.min.js")); err != nil {
			return "", fmt.Errorf("tfjs: nsfwjs@%s has no %s model: %w", NSFWJSVersion, m, ErrFormat)
		}
		_ = os.RemoveAll(filepath.Join(dir, m))
		if err := os.Rename(src, filepath.Join(dir, m)); err != nil {
			return "", fmt.Errorf("tfjs: %w", err)
		}
	}
	return dir, nil
}
