package storesync

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/preconv/preconv/objstore"
	"github.com/preconv/preconv/remote"
	"github.com/preconv/preconv/store"
)

// Pull makes dir a verified copy of the store committed at prefix in b,
// fetching only files dir lacks and features chunks the cache at cacheDir
// ("" for DefaultCacheDir()) lacks. Stats.Files counts the store's files,
// Transferred and Bytes what was downloaded, Skipped what dir or the cache
// already had; Version is the sha256 of the pulled .zattrs.
func Pull(ctx context.Context, b objstore.Bucket, prefix, dir, cacheDir string) (remote.Stats, error) {
	return PullWith(ctx, b, prefix, dir, Options{CacheDir: cacheDir})
}

// PullWith is Pull with options.
func PullWith(ctx context.Context, b objstore.Bucket, prefix, dir string, o Options) (remote.Stats, error) {
	rb, err := objstore.Sub(b, prefix)
	if err != nil {
		return remote.Stats{}, err
	}
	cache := o.CacheDir
	if cache == "" {
		cache = DefaultCacheDir()
	}
	zattrs, man, err := readCommitted(ctx, rb)
	if err != nil {
		return remote.Stats{}, err
	}
	st := remote.Stats{Files: len(man), Version: hexSHA(zattrs)}

	// What dir already has.
	var fetch []string
	var toFetch int64
	for _, rel := range man.keys() {
		if rel == zattrsKey {
			continue
		}
		e := man[rel]
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && fi.Size() == e.Size {
			if sum, err := hashFile(p); err == nil && sum == e.SHA256 {
				continue
			}
		}
		fetch = append(fetch, rel)
		toFetch += e.Size
	}
	var stale []string
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if _, ok := man[rel]; !ok && isStoreFile(rel) {
			stale = append(stale, rel)
		}
		return nil
	})
	localZ, _ := readLimited(filepath.Join(dir, zattrsKey), maxMetaBytes)
	if len(fetch) == 0 && len(stale) == 0 && bytes.Equal(localZ, zattrs) {
		st.Skipped = st.Files
		return st, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return st, err
	}
	// Take the local commit point away while files change.
	if err := os.Remove(filepath.Join(dir, zattrsKey)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return st, err
	}
	m := &meter{o: &o, total: toFetch + int64(len(zattrs))}
	err = forEach(ctx, o.workers(), fetch, func(ctx context.Context, rel string) error {
		return pullOne(ctx, rb, rel, man[rel], dir, cache, m)
	})
	if err != nil {
		if ctx.Err() == nil && changed(ctx, rb, zattrs) {
			// Not damage: a push replaced files while we read them.
			return stats(st, m), fmt.Errorf("%s: the store changed while pulling (a push ran); pull again: %w (%w)", rb, remote.ErrConflict, err)
		}
		return stats(st, m), wrapErr(err)
	}
	for _, rel := range stale {
		os.Remove(filepath.Join(dir, filepath.FromSlash(rel)))
	}
	if err := writeAtomic(filepath.Join(dir, zattrsKey), zattrs); err != nil {
		return stats(st, m), err
	}
	m.moved(zattrsKey, int64(len(zattrs)))
	if _, err := store.Open(dir, store.WithWorkers(0)); err != nil {
		return stats(st, m), fmt.Errorf("pulled %s into %s, but it does not open: %w", rb, dir, err)
	}
	return stats(st, m), nil
}

// readCommitted reads the remote .zattrs and manifest and checks they belong
// to one commit (retrying briefly when a push is between the two).
func readCommitted(ctx context.Context, rb objstore.Bucket) ([]byte, manifest, error) {
	for try := 0; ; try++ {
		zb, err := objstore.ReadAll(ctx, rb, zattrsKey, maxMetaBytes)
		if errors.Is(err, objstore.ErrNotExist) {
			return nil, nil, fmt.Errorf("%s: no .zattrs (nothing pushed there, or a push was interrupted: rerun it): %w", rb, remote.ErrNotFound)
		}
		if err != nil {
			return nil, nil, wrapErr(err)
		}
		mb, err := objstore.ReadAll(ctx, rb, manifestKey, maxManifest)
		if errors.Is(err, objstore.ErrNotExist) && try < 3 {
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		if errors.Is(err, objstore.ErrNotExist) {
			return nil, nil, fmt.Errorf("%s: no %s (not pushed by preconv push?): %w", rb, manifestKey, remote.ErrNotFound)
		}
		if err != nil {
			return nil, nil, wrapErr(err)
		}
		man, err := parseManifest(mb, rb.String()+"/"+manifestKey)
		if err != nil {
			return nil, nil, err
		}
		if man[zattrsKey].SHA256 == hexSHA(zb) {
			return zb, man, nil
		}
		if try >= 3 {
			return nil, nil, fmt.Errorf("%s: .zattrs does not match the manifest (a push is running?): %w", rb, remote.ErrConflict)
		}
		sleep(ctx, 200*time.Millisecond)
	}
}

// changed reports whether the remote .zattrs is no longer zattrs.
func changed(ctx context.Context, rb objstore.Bucket, zattrs []byte) bool {
	now, err := objstore.ReadAll(context.WithoutCancel(ctx), rb, zattrsKey, maxMetaBytes)
	return err != nil || !bytes.Equal(now, zattrs)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// pullOne puts the verified content of rel at dir/rel; features chunks go
// through the cache (a cache hit is not a transfer).
func pullOne(ctx context.Context, rb objstore.Bucket, rel string, e entry, dir, cache string, m *meter) error {
	dst := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if !isChunk(rel) {
		if err := download(ctx, rb, rel, e, dst); err != nil {
			return err
		}
		m.moved(rel, e.Size)
		return nil
	}
	cp := filepath.Join(cache, "sha256", e.SHA256[:2], e.SHA256)
	if fi, err := os.Stat(cp); err == nil && fi.Size() == e.Size {
		if err := copyVerified(cp, dst, e); err == nil {
			return nil
		}
		os.Remove(cp) // damaged cache entry: fetch again
	}
	if err := os.MkdirAll(filepath.Dir(cp), 0o755); err != nil {
		return fmt.Errorf("chunk cache: %w", err)
	}
	if err := download(ctx, rb, rel, e, cp); err != nil {
		return err
	}
	m.moved(rel, e.Size)
	return copyVerified(cp, dst, e)
}

// download fetches rel into dst (atomically), checking size and sha256.
func download(ctx context.Context, rb objstore.Bucket, rel string, e entry, dst string) error {
	rc, err := rb.Get(ctx, rel)
	if errors.Is(err, objstore.ErrNotExist) {
		return fmt.Errorf("%s: %s is in the manifest but absent: %w", rb, rel, remote.ErrCorrupt)
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	tmp := tempName(dst)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(rc, e.Size+1))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && (n != e.Size || hex.EncodeToString(h.Sum(nil)) != e.SHA256) {
		err = fmt.Errorf("%s: %s: downloaded %d bytes that do not match the manifest (%d bytes, sha256 %s…): %w",
			rb, rel, n, e.Size, e.SHA256[:12], remote.ErrCorrupt)
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// copyVerified copies (or hard-links) a cache entry to dst after checking
// its hash. Files in a store are only ever replaced by rename, never written
// in place, so sharing an inode with the cache is safe.
func copyVerified(src, dst string, e entry) error {
	sum, err := hashFile(src)
	if err != nil {
		return err
	}
	if sum != e.SHA256 {
		return fmt.Errorf("chunk cache %s: %w", src, remote.ErrCorrupt)
	}
	tmp := tempName(dst)
	if err := os.Link(src, tmp); err != nil {
		data, rerr := os.ReadFile(src)
		if rerr != nil {
			return rerr
		}
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
