package objstore

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// FS returns a read-only io/fs view of b: objects are files, and the
// slash-separated folders of their keys are directories (synthesised from
// List; an empty bucket is an empty root). Every request uses ctx. Files
// implement io.Seeker (a seek reopens the object and skips ahead), so
// http.FileServer and http.ServeContent work over it; for example
// preconv serve could serve an s3:// root through http.FS(objstore.FS(…)).
//
// The result implements fs.StatFS, fs.ReadDirFS and fs.ReadFileFS.
func FS(ctx context.Context, b Bucket) fs.FS { return &bucketFS{ctx: ctx, b: b} }

type bucketFS struct {
	ctx context.Context
	b   Bucket
}

var (
	_ fs.StatFS     = (*bucketFS)(nil)
	_ fs.ReadDirFS  = (*bucketFS)(nil)
	_ fs.ReadFileFS = (*bucketFS)(nil)
)

func pathErr(op, name string, err error) error {
	if errors.Is(err, ErrNotExist) || errors.Is(err, ErrBadKey) {
		err = fs.ErrNotExist
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// Stat describes a file or a directory.
func (f *bucketFS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, pathErr("stat", name, fs.ErrInvalid)
	}
	if name == "." {
		return dirInfo("."), nil
	}
	in, err := f.b.Stat(f.ctx, name)
	if err == nil {
		return fileInfoOf(in), nil
	}
	if !errors.Is(err, ErrNotExist) && !errors.Is(err, ErrBadKey) {
		return nil, pathErr("stat", name, err)
	}
	l, lerr := f.b.List(f.ctx, name+"/")
	if lerr != nil {
		return nil, pathErr("stat", name, lerr)
	}
	if len(l) == 0 {
		return nil, pathErr("stat", name, fs.ErrNotExist)
	}
	return dirInfo(path.Base(name)), nil
}

// Open opens a file or a directory.
func (f *bucketFS) Open(name string) (fs.File, error) {
	fi, err := f.Stat(name)
	if err != nil {
		return nil, pathErr("open", name, errors.Unwrap(err))
	}
	if fi.IsDir() {
		ents, err := f.ReadDir(name)
		if err != nil {
			return nil, err
		}
		return &dirFile{info: fi, ents: ents}, nil
	}
	return &objFile{fsys: f, name: name, info: fi}, nil
}

// ReadDir lists the immediate children of a directory, sorted by name.
func (f *bucketFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, pathErr("readdir", name, fs.ErrInvalid)
	}
	prefix := ""
	if name != "." {
		prefix = name + "/"
	}
	l, err := f.b.List(f.ctx, prefix)
	if err != nil {
		return nil, pathErr("readdir", name, err)
	}
	if len(l) == 0 && name != "." {
		if _, err := f.b.Stat(f.ctx, name); err == nil {
			return nil, pathErr("readdir", name, errors.New("not a directory"))
		}
		return nil, pathErr("readdir", name, fs.ErrNotExist)
	}
	seen := map[string]bool{}
	var ents []fs.DirEntry
	for _, in := range l {
		rest := strings.TrimPrefix(in.Key, prefix)
		child, _, isDir := strings.Cut(rest, "/")
		if seen[child] {
			continue
		}
		seen[child] = true
		if isDir {
			ents = append(ents, fs.FileInfoToDirEntry(dirInfo(child)))
		} else {
			in.Key = child
			ents = append(ents, fs.FileInfoToDirEntry(fileInfoOf(in)))
		}
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	return ents, nil
}

// ReadFile reads a whole object (bounded by its size as Stat reports it).
func (f *bucketFS) ReadFile(name string) ([]byte, error) {
	fi, err := f.Stat(name)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, pathErr("read", name, errors.New("is a directory"))
	}
	b, err := ReadAll(f.ctx, f.b, name, fi.Size())
	if err != nil {
		return nil, pathErr("read", name, err)
	}
	return b, nil
}

// objFile reads an object lazily, opened at the first Read; a Seek moves
// the offset and the next Read seeks the bucket's reader there (Get's
// readers are io.Seekers: a ranged read on S3).
type objFile struct {
	fsys *bucketFS
	name string
	info fs.FileInfo
	rc   io.ReadCloser
	off  int64 // offset of the next Read
	at   int64 // offset rc is at
}

func (o *objFile) Stat() (fs.FileInfo, error) { return o.info, nil }

func (o *objFile) Read(p []byte) (int, error) {
	if o.off >= o.info.Size() {
		return 0, io.EOF
	}
	if o.rc == nil {
		rc, err := o.fsys.b.Get(o.fsys.ctx, o.name)
		if err != nil {
			return 0, pathErr("read", o.name, err)
		}
		o.rc, o.at = rc, 0
	}
	if o.at != o.off {
		if err := seekTo(o.rc, o.off); err != nil {
			return 0, pathErr("read", o.name, err)
		}
		o.at = o.off
	}
	n, err := o.rc.Read(p)
	o.off += int64(n)
	o.at += int64(n)
	return n, err
}

func (o *objFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += o.off
	case io.SeekEnd:
		offset += o.info.Size()
	}
	if offset < 0 {
		return 0, pathErr("seek", o.name, fs.ErrInvalid)
	}
	o.off = offset
	return offset, nil
}

func (o *objFile) Close() error {
	if o.rc != nil {
		return o.rc.Close()
	}
	return nil
}

// dirFile is an opened directory.
type dirFile struct {
	info fs.FileInfo
	ents []fs.DirEntry
	pos  int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.Name(), Err: errors.New("is a directory")}
}
func (d *dirFile) Close() error { return nil }

func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.ents[d.pos:]
	if n <= 0 {
		d.pos = len(d.ents)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.pos += n
	return rest[:n], nil
}

// fileInfo adapts Info (Key is the base name here).
type objInfo struct{ in Info }

func fileInfoOf(in Info) fs.FileInfo { in.Key = path.Base(in.Key); return objInfo{in} }

func (i objInfo) Name() string       { return i.in.Key }
func (i objInfo) Size() int64        { return i.in.Size }
func (i objInfo) Mode() fs.FileMode  { return 0o444 }
func (i objInfo) ModTime() time.Time { return i.in.Modified }
func (i objInfo) IsDir() bool        { return false }
func (i objInfo) Sys() any           { return i.in }

type dirInfo string

func (d dirInfo) Name() string       { return string(d) }
func (d dirInfo) Size() int64        { return 0 }
func (d dirInfo) Mode() fs.FileMode  { return fs.ModeDir | 0o555 }
func (d dirInfo) ModTime() time.Time { return time.Time{} }
func (d dirInfo) IsDir() bool        { return true }
func (d dirInfo) Sys() any           { return nil }
