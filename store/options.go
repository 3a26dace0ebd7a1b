package store

import (
	"fmt"
	"time"
)

// Option configures Prepare or Open. Options that do not apply are ignored.
type Option func(*options) error

type options struct {
	chunkRows  int
	level      int
	cacheBytes int64
	workers    int
	readahead  int
	sources    []string
	created    time.Time
}

func (o *options) setDefault() {
	o.level = 3
	o.cacheBytes = 256 << 20
	o.workers = 2
	o.readahead = 4
}

func buildOptions(opts []Option) (*options, error) {
	o := &options{}
	o.setDefault()
	for _, f := range opts {
		if err := f(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// WithChunkRows sets how many items one features chunk holds (Prepare).
// Default: as many as fit in 8 MiB of float32 features, between 1 and 1024.
// A store prepared with a different value is re-chunked (features copied).
func WithChunkRows(n int) Option {
	return func(o *options) error {
		if n < 1 || n > 1<<20 {
			return fmt.Errorf("chunk rows %d, want 1..%d: %w", n, 1<<20, ErrBadInput)
		}
		o.chunkRows = n
		return nil
	}
}

// WithLevel sets the zstd level (Prepare), 1..19, default 3. It is recorded in
// the .zarray; changing it does not invalidate existing chunks.
func WithLevel(l int) Option {
	return func(o *options) error {
		if l < 1 || l > 19 {
			return fmt.Errorf("zstd level %d, want 1..19: %w", l, ErrBadInput)
		}
		o.level = l
		return nil
	}
}

// WithCacheBytes sets the byte budget of Open's decompressed chunk cache
// (default 256 MiB). At least one chunk is always kept, so the budget may be
// exceeded by one chunk; readahead needs budget for readahead+2 chunks.
func WithCacheBytes(n int64) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("cache bytes %d: %w", n, ErrBadInput)
		}
		o.cacheBytes = n
		return nil
	}
}

// WithWorkers sets how many goroutines decompress chunks ahead of reads
// after Prefetch (Open; default 2, 0 disables readahead).
func WithWorkers(n int) Option {
	return func(o *options) error {
		if n < 0 || n > 256 {
			return fmt.Errorf("workers %d: %w", n, ErrBadInput)
		}
		o.workers = n
		return nil
	}
}

// WithReadahead sets how many chunks past the current read position Prefetch
// keeps decompressed (Open; default 4).
func WithReadahead(n int) Option {
	return func(o *options) error {
		if n < 0 || n > 1024 {
			return fmt.Errorf("readahead %d: %w", n, ErrBadInput)
		}
		o.readahead = n
		return nil
	}
}

// WithSources names other store directories (Prepare) whose intact chunks
// may supply features: an item whose content key and spec digest match a
// row of a source chunk is copied from there instead of being computed
// (Plan.FromSources counts them). Sources are read, never changed; a source
// may be a committed store, a shard's store or an unfinished extraction.
// Its chunks are checked against their sha256 before use, and rows recorded
// as failed are never taken.
func WithSources(dirs ...string) Option {
	return func(o *options) error {
		for _, d := range dirs {
			if d == "" {
				return fmt.Errorf("empty source directory: %w", ErrBadInput)
			}
		}
		o.sources = append(o.sources, dirs...)
		return nil
	}
}

// WithCreated sets the creation time Commit records in the provenance
// (Prepare; default: the time of the Commit). A fixed time makes every
// run that writes the same features write byte-identical files: shards of
// a sharded extraction use it, so that a shard run twice on two machines
// leaves one consistent copy however their uploads interleave.
func WithCreated(t time.Time) Option {
	return func(o *options) error {
		o.created = t.UTC().Truncate(time.Second)
		return nil
	}
}
