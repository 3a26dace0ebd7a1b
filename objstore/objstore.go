package objstore

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxKeyLen is the longest key accepted (S3's limit is 1024 bytes including
// the prefix; the store's keys are far shorter).
const MaxKeyLen = 900

// Info describes one object.
type Info struct {
	Key      string    `json:"key"` // relative to the bucket's root
	Size     int64     `json:"size"`
	ETag     string    `json:"etag"` // opaque; changes when the content changes
	Modified time.Time `json:"modified"`
}

// Bucket is a flat key space of immutable objects.
type Bucket interface {
	// Get opens the object for reading; the caller closes it. An absent key
	// gives an error wrapping ErrNotExist. The reader is also an io.Seeker:
	// reading after a seek starts at that offset without transferring the
	// bytes before it.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Put stores size bytes from r under key (size -1: until EOF). The
	// object appears whole or not at all: after an error (a canceled
	// context, a reader that yields fewer bytes than size: ErrShort) the key
	// holds the previous object or, when the server committed just before
	// the client gave up, the complete new one; never a part.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Stat describes the object; ErrNotExist when absent.
	Stat(ctx context.Context, key string) (Info, error)
	// List returns every object whose key starts with prefix (a plain string
	// prefix, "" for all), recursively, sorted by key.
	List(ctx context.Context, prefix string) ([]Info, error)
	// Delete removes the object; deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
	// String names the bucket for messages ("s3://bucket/prefix", or the
	// directory), without credentials.
	String() string
}

// ValidKey reports whether key is a clean relative slash path (see the
// package doc), returning an error wrapping ErrBadKey if not.
func ValidKey(key string) error {
	bad := func(why string) error { return fmt.Errorf("key %q: %s: %w", key, why, ErrBadKey) }
	switch {
	case key == "":
		return bad("empty")
	case len(key) > MaxKeyLen:
		return bad("too long")
	case !utf8.ValidString(key):
		return bad("not UTF-8")
	case strings.HasPrefix(key, "/"):
		return bad("leading /")
	case strings.HasSuffix(key, "/"):
		return bad("trailing /")
	case strings.Contains(key, tmpMark):
		return bad("reserved temporary name")
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return bad("control character or backslash")
		}
	}
	for _, seg := range strings.Split(key, "/") {
		switch seg {
		case "":
			return bad("empty segment")
		case ".", "..":
			return bad("dot segment")
		}
	}
	return nil
}

// validPrefix checks a List prefix: "" or a key, optionally ending in "/".
func validPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if err := ValidKey(strings.TrimSuffix(prefix, "/")); err != nil {
		return fmt.Errorf("list prefix: %w", err)
	}
	return nil
}

// ReadAll reads a whole object of at most limit bytes; a larger object gives
// ErrTooLarge without reading it all.
func ReadAll(ctx context.Context, b Bucket, key string, limit int64) ([]byte, error) {
	rc, err := b.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: read %q: %w", b, key, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %q is larger than %d bytes: %w", b, key, limit, ErrTooLarge)
	}
	return data, nil
}

// Open makes a Bucket of a location: "s3://bucket/prefix" (configured from
// the environment, see S3ConfigFromEnv; keys are relative to prefix), a
// "file://" URL or a plain local directory path. Other URL schemes give
// ErrBadRef.
func Open(ref string) (Bucket, error) {
	if i := strings.Index(ref, "://"); i > 0 {
		u, err := url.Parse(ref)
		if err != nil {
			return nil, fmt.Errorf("%q: %v: %w", ref, err, ErrBadRef)
		}
		switch strings.ToLower(u.Scheme) {
		case "s3":
			cfg := S3ConfigFromEnv()
			cfg.Bucket = u.Host
			cfg.Prefix = strings.Trim(u.Path, "/")
			return NewS3(cfg)
		case "file":
			if u.Host != "" && u.Host != "localhost" {
				return nil, fmt.Errorf("%q: file URL with a host: %w", ref, ErrBadRef)
			}
			if u.Path == "" {
				return nil, fmt.Errorf("%q: empty path: %w", ref, ErrBadRef)
			}
			return NewDir(u.Path), nil
		default:
			return nil, fmt.Errorf("%q: scheme %q is not an object store (s3:// or a directory): %w", ref, u.Scheme, ErrBadRef)
		}
	}
	if ref == "" {
		return nil, fmt.Errorf("empty location: %w", ErrBadRef)
	}
	return NewDir(ref), nil
}

// seekTo moves a reader returned by Get to offset off (Get's readers are
// io.Seekers by the Bucket contract).
func seekTo(rc io.Reader, off int64) error {
	sk, ok := rc.(io.Seeker)
	if !ok {
		return fmt.Errorf("%T returned by Get is not an io.Seeker", rc)
	}
	_, err := sk.Seek(off, io.SeekStart)
	return err
}

// ctxReader fails reads once ctx is done (checked per Read call, i.e. per
// buffer, not per byte).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
