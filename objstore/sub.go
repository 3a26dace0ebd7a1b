package objstore

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// Sub returns a Bucket whose keys live under prefix in b ("" returns b).
// The prefix must be a valid key (slashes at either end are trimmed).
func Sub(b Bucket, prefix string) (Bucket, error) {
	prefix = strings.Trim(prefix, "/")
	if prefix == "" {
		return b, nil
	}
	if err := ValidKey(prefix); err != nil {
		return nil, fmt.Errorf("%s: prefix: %w", b, err)
	}
	return &sub{b: b, p: prefix + "/"}, nil
}

type sub struct {
	b Bucket
	p string
}

func (s *sub) String() string {
	return strings.TrimSuffix(s.b.String(), "/") + "/" + strings.TrimSuffix(s.p, "/")
}

func (s *sub) key(k string) (string, error) {
	if err := ValidKey(k); err != nil {
		return "", fmt.Errorf("%s: %w", s, err)
	}
	return s.p + k, nil
}

func (s *sub) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	k, err := s.key(key)
	if err != nil {
		return nil, err
	}
	return s.b.Get(ctx, k)
}

func (s *sub) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	k, err := s.key(key)
	if err != nil {
		return err
	}
	return s.b.Put(ctx, k, r, size)
}

func (s *sub) Stat(ctx context.Context, key string) (Info, error) {
	k, err := s.key(key)
	if err != nil {
		return Info{}, err
	}
	in, err := s.b.Stat(ctx, k)
	in.Key = key
	return in, err
}

func (s *sub) List(ctx context.Context, prefix string) ([]Info, error) {
	if err := validPrefix(prefix); err != nil {
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	l, err := s.b.List(ctx, s.p+prefix)
	if err != nil {
		return nil, err
	}
	for i := range l {
		l[i].Key = strings.TrimPrefix(l[i].Key, s.p)
	}
	return l, nil
}

func (s *sub) Delete(ctx context.Context, key string) error {
	k, err := s.key(key)
	if err != nil {
		return err
	}
	return s.b.Delete(ctx, k)
}
