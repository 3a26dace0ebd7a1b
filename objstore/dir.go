package objstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// tmpMark is part of the names of Dir's temporary files; keys may not
// contain it, and List skips such files.
const tmpMark = ".objstore-tmp-"

// Dir is a Bucket over a local directory: key "a/b" is the file DIR/a/b.
type Dir struct {
	root string
}

// NewDir returns a Bucket over dir (created on the first Put).
func NewDir(dir string) Bucket { return &Dir{root: filepath.Clean(dir)} }

// String is the directory.
func (d *Dir) String() string { return d.root }

func (d *Dir) path(key string) (string, error) {
	if err := ValidKey(key); err != nil {
		return "", fmt.Errorf("%s: %w", d.root, err)
	}
	return filepath.Join(d.root, filepath.FromSlash(key)), nil
}

func (d *Dir) notExist(op, key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%s: %s %q: %w", d.root, op, key, ErrNotExist)
	}
	return fmt.Errorf("%s: %s %q: %w", d.root, op, key, err)
}

// Get opens DIR/key.
func (d *Dir) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, d.notExist("get", key, err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: get %q: not a regular file: %w", d.root, key, ErrNotExist)
	}
	return f, nil
}

// Put writes a temporary file beside DIR/key, syncs it and renames it into
// place, so the object appears whole.
func (d *Dir) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(filepath.Dir(p), "."+filepath.Base(p)+tmpMark+hex.EncodeToString(rnd[:]))
	var f *os.File
	// A concurrent Delete may prune a parent directory while MkdirAll
	// creates the chain, or between MkdirAll and the create: retry.
	const tries = 10
	for try := 0; ; try++ {
		err := os.MkdirAll(filepath.Dir(p), 0o755)
		if err == nil {
			f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err == nil {
				break
			}
		}
		if !errors.Is(err, fs.ErrNotExist) || try == tries-1 {
			return fmt.Errorf("%s: put %q: %w", d.root, key, err)
		}
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	src := io.Reader(ctxReader{ctx, r})
	if size >= 0 {
		src = io.LimitReader(src, size+1)
	}
	n, err := io.Copy(f, src)
	if err != nil {
		return fmt.Errorf("%s: put %q: %w", d.root, key, err)
	}
	if size >= 0 && n != size {
		return fmt.Errorf("%s: put %q: reader gave %s bytes, size is %d: %w", d.root, key, countStr(n, size), size, ErrShort)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("%s: put %q: %w", d.root, key, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: put %q: %w", d.root, key, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("%s: put %q: %w", d.root, key, err)
	}
	ok = true
	if dir, err := os.Open(filepath.Dir(p)); err == nil {
		dir.Sync()
		dir.Close()
	}
	return nil
}

func countStr(n, size int64) string {
	if n > size {
		return "more than " + strconv.FormatInt(size, 10)
	}
	return strconv.FormatInt(n, 10)
}

// Stat describes DIR/key; ETag is derived from size and modification time.
func (d *Dir) Stat(ctx context.Context, key string) (Info, error) {
	p, err := d.path(key)
	if err != nil {
		return Info{}, err
	}
	st, err := os.Stat(p)
	if err != nil {
		return Info{}, d.notExist("stat", key, err)
	}
	if !st.Mode().IsRegular() {
		return Info{}, fmt.Errorf("%s: stat %q: not a regular file: %w", d.root, key, ErrNotExist)
	}
	return fileInfo(key, st), nil
}

func fileInfo(key string, st fs.FileInfo) Info {
	return Info{Key: key, Size: st.Size(), Modified: st.ModTime().UTC(),
		ETag: strconv.FormatInt(st.Size(), 16) + "-" + strconv.FormatInt(st.ModTime().UnixNano(), 16)}
}

// List walks the directory below prefix's parent folder. Symlinks and other
// non-regular files are skipped, as are Put's temporary files.
func (d *Dir) List(ctx context.Context, prefix string) ([]Info, error) {
	if err := validPrefix(prefix); err != nil {
		return nil, fmt.Errorf("%s: %w", d.root, err)
	}
	start := d.root
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = filepath.Join(d.root, filepath.FromSlash(prefix[:i]))
	}
	var out []Info
	err := filepath.WalkDir(start, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == start {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, rerr := filepath.Rel(d.root, p)
		if rerr != nil {
			return rerr
		}
		key := filepath.ToSlash(rel)
		if e.IsDir() {
			if p != start && !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() || strings.Contains(e.Name(), tmpMark) || !strings.HasPrefix(key, prefix) {
			return nil
		}
		st, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed meanwhile
			}
			return err
		}
		out = append(out, fileInfo(key, st))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: list %q: %w", d.root, prefix, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Delete removes DIR/key and prunes parent folders it leaves empty (never
// the root).
func (d *Dir) Delete(ctx context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: delete %q: %w", d.root, key, err)
	}
	for dir := filepath.Dir(p); dir != d.root && strings.HasPrefix(dir, d.root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil { // not empty (or gone): stop
			break
		}
	}
	return nil
}
