package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/preconv/preconv/remote"
	"github.com/preconv/preconv/server"
)

// parallel is how many files move at once.
const parallel = 4

// Pull makes dir a verified copy of the store (see the package doc). The
// returned Stats count files taken from the server (Transferred, Bytes)
// and files already in dir or the cache (Skipped).
func (l *Location) Pull(ctx context.Context, dir string) (remote.Stats, error) {
	var st remote.Stats
	m, err := l.Manifest(ctx)
	if err != nil {
		return st, err
	}
	st.Files = len(m.Files)
	st.Version = m.Version
	// A pushed store is fetched pinned to the manifest's version; a plain
	// directory on the server has one version only (the sha256 check
	// catches a change during the pull).
	ref := l.Name
	if !m.PushedAt.IsZero() && m.Version != "" {
		ref = l.Name + "@" + m.Version
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return st, err
	}
	var zattrs *server.FileEntry
	var todo []server.FileEntry
	for i, f := range m.Files {
		if f.Path == ".zattrs" {
			zattrs = &m.Files[i]
			continue
		}
		todo = append(todo, f)
	}
	if zattrs == nil {
		return st, fmt.Errorf("%s: manifest has no .zattrs: %w", l, remote.ErrNotFound)
	}
	// Uncommit dir unless it already holds exactly this .zattrs.
	if sum, _, err := hashFile(filepath.Join(dir, ".zattrs")); err == nil && sum != zattrs.SHA256 {
		if err := os.Remove(filepath.Join(dir, ".zattrs")); err != nil {
			return st, err
		}
	}
	var total int64
	for _, f := range m.Files {
		total += f.Size
	}
	var done atomic.Int64
	progress := func(n int64) {
		if l.cfg.Progress != nil {
			l.cfg.Progress(done.Add(n), total)
		}
	}
	var mu sync.Mutex
	err = forEach(ctx, todo, func(ctx context.Context, f server.FileEntry) error {
		fetched, err := l.place(ctx, ref, dir, f)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			return err
		}
		if fetched {
			st.Transferred++
			st.Bytes += f.Size
		} else {
			st.Skipped++
		}
		progress(f.Size)
		return nil
	})
	if err != nil {
		return st, err
	}
	if err := removeStale(dir, m); err != nil {
		return st, err
	}
	fetched, err := l.place(ctx, ref, dir, *zattrs)
	if err != nil {
		return st, err
	}
	if fetched {
		st.Transferred++
		st.Bytes += zattrs.Size
	} else {
		st.Skipped++
	}
	progress(zattrs.Size)
	return st, nil
}

// place makes dir/f.Path hold f's bytes, from dir itself, the cache or the
// server (reporting whether it fetched).
func (l *Location) place(ctx context.Context, ref, dir string, f server.FileEntry) (bool, error) {
	dst := filepath.Join(dir, filepath.FromSlash(f.Path))
	if sum, n, err := hashFile(dst); err == nil && sum == f.SHA256 && n == f.Size {
		return false, nil
	}
	cached := filepath.Join(l.cfg.CacheDir, f.SHA256[:2], f.SHA256)
	fetched := false
	if sum, _, err := hashFile(cached); err != nil || sum != f.SHA256 {
		if err := l.fetch(ctx, ref, f, cached); err != nil {
			return false, err
		}
		fetched = true
	}
	// The cached file was verified just now (hashed or downloaded): link it
	// in, or copy where links fail (another file system).
	if err := linkFile(cached, dst); err != nil {
		if err := copyFile(cached, dst, f.SHA256); err != nil {
			return false, fmt.Errorf("%s: %s: %w", l, f.Path, err)
		}
	}
	return fetched, nil
}

// fetch downloads f into the cache at cached, verifying its sha256.
func (l *Location) fetch(ctx context.Context, ref string, f server.FileEntry, cached string) error {
	path := "/api/v1/stores/" + url.PathEscape(ref) + "/files/" + escapePath(f.Path)
	resp, err := l.do(ctx, "GET", path, nil, -1, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := os.MkdirAll(filepath.Dir(cached), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(cached), ".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(resp.Body, f.Size+1))
	if err == nil {
		err = tmp.Sync() // the pulled store's .zattrs must not reach disk before its chunks
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: GET %s: %w", l, f.Path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 || n != f.Size {
		return fmt.Errorf("%s: %s: got %d bytes with sha256 %s, manifest says %d bytes, %s: %w", l, f.Path, n, got, f.Size, f.SHA256, remote.ErrCorrupt)
	}
	// Read-only: a pulled store shares these inodes (hard links), so an
	// in-place write there must fail rather than change the cache.
	if err := os.Chmod(tmp.Name(), 0o444); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), cached)
}

func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// linkFile makes dst a hard link to src (through a temp name and rename,
// so dst is replaced atomically).
func linkFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(dst), ".tmp-pull-"+filepath.Base(src)[:16]+"-"+filepath.Base(dst))
	os.Remove(tmp)
	if err := os.Link(src, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// copyFile copies src to dst through a temp file and rename, checking the
// bytes hash to sum on the way (the cache could have been changed).
func copyFile(src, dst, sum string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".tmp-pull-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), in)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if hex.EncodeToString(h.Sum(nil)) != sum {
		return fmt.Errorf("cached copy %s changed: %w", src, remote.ErrCorrupt)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// removeStale deletes store files in dir that the manifest does not list
// (chunks of an older, larger version), leaving the lock and anything
// ValidStorePath does not accept alone.
func removeStale(dir string, m *server.Manifest) error {
	keep := make(map[string]bool, len(m.Files))
	for _, f := range m.Files {
		keep[f.Path] = true
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.Type().IsRegular() && server.ValidStorePath(rel) && !keep[rel] {
			return os.Remove(p)
		}
		return nil
	})
}

// forEach runs fn over items on up to parallel goroutines and returns the
// first error (cancelling the rest).
func forEach[T any](ctx context.Context, items []T, fn func(context.Context, T) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan T)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range min(parallel, max(1, len(items))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range ch {
				if err := fn(ctx, it); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
feed:
	for _, it := range items {
		select {
		case ch <- it:
		case <-ctx.Done():
			break feed
		}
	}
	close(ch)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// Push uploads the committed store at dir (see the package doc).
func (l *Location) Push(ctx context.Context, dir string) (remote.Stats, error) {
	var st remote.Stats
	if l.Version != "" {
		return st, fmt.Errorf("%s: cannot push to a pinned version (drop @%s): %w", l, l.Version, remote.ErrUnsupported)
	}
	m, err := server.BuildManifest(ctx, dir)
	if err != nil {
		if errors.Is(err, server.ErrNotFound) {
			return st, fmt.Errorf("push %s: %s is not a committed store (no .zattrs): %w", l, dir, err)
		}
		return st, fmt.Errorf("push %s: %w", l, err)
	}
	st.Files = len(m.Files)
	commit := server.Manifest{Files: m.Files, PushedBy: l.cfg.Who}
	if l.IfMatch {
		cur, err := l.Manifest(ctx)
		switch {
		case err == nil:
			commit.Parent = cur.Version
		case !isNotFound(err):
			return st, err
		}
	}
	bySHA := map[string]server.FileEntry{}
	var hashes []string
	for _, f := range m.Files {
		if _, ok := bySHA[f.SHA256]; !ok {
			bySHA[f.SHA256] = f
			hashes = append(hashes, f.SHA256)
		}
	}
	var miss struct {
		Missing []string `json:"missing"`
	}
	if err := l.postJSON(ctx, "/api/v1/blobs/missing", map[string]any{"sha256": hashes}, &miss, nil); err != nil {
		return st, err
	}
	var total int64
	for _, h := range miss.Missing {
		total += bySHA[h].Size
	}
	var done atomic.Int64
	upload := func(missing []string) error {
		var mu sync.Mutex
		return forEach(ctx, missing, func(ctx context.Context, h string) error {
			f, ok := bySHA[h]
			if !ok {
				return fmt.Errorf("%s: server asked for blob %s, which was not offered", l, h)
			}
			if err := l.putBlob(ctx, dir, f); err != nil {
				return err
			}
			mu.Lock()
			st.Bytes += f.Size
			mu.Unlock()
			if l.cfg.Progress != nil {
				l.cfg.Progress(done.Add(f.Size), total)
			}
			return nil
		})
	}
	if err := upload(miss.Missing); err != nil {
		return st, err
	}
	var res server.CommitResult
	err = l.postJSON(ctx, "/api/v1/stores/"+url.PathEscape(l.Name)+"/commit", commit, &res, nil)
	var se *StatusError
	if errors.As(err, &se) && len(se.Missing) > 0 {
		// Collected between upload and commit (or never uploaded): send and retry once.
		miss.Missing = append(miss.Missing, se.Missing...)
		if err := upload(se.Missing); err != nil {
			return st, err
		}
		err = l.postJSON(ctx, "/api/v1/stores/"+url.PathEscape(l.Name)+"/commit", commit, &res, nil)
	}
	if err != nil {
		return st, err
	}
	sent := map[string]bool{}
	for _, h := range miss.Missing {
		sent[h] = true
	}
	for _, f := range m.Files {
		if sent[f.SHA256] {
			st.Transferred++
			delete(sent, f.SHA256)
		} else {
			st.Skipped++
		}
	}
	st.Version = res.Version
	return st, nil
}

func (l *Location) putBlob(ctx context.Context, dir string, f server.FileEntry) error {
	in, err := os.Open(filepath.Join(dir, filepath.FromSlash(f.Path)))
	if err != nil {
		return fmt.Errorf("push %s: %w", l, err)
	}
	defer in.Close()
	resp, err := l.do(ctx, "PUT", "/api/v1/blobs/"+f.SHA256, io.LimitReader(in, f.Size), f.Size,
		map[string]string{"Content-Type": "application/octet-stream"})
	if err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}
