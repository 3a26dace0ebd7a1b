package storesync

import (
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// Options tune Push and Pull; zero values take the defaults.
type Options struct {
	// Workers is the number of concurrent transfers (default 8).
	Workers int
	// CacheDir is Pull's content-addressed chunk cache (default
	// DefaultCacheDir()).
	CacheDir string
	// Progress, when set, is called (from any goroutine, serialised) as bytes
	// move: done of total bytes to transfer.
	Progress func(done, total int64)
	// OnTransfer, when set, is called (serialised) with the store path of
	// every file sent or fetched, after it moved.
	OnTransfer func(path string)
}

// DefaultCacheDir is $PRECONV_CACHE/chunks, else the user cache directory's
// preconv/chunks, else a folder in the temporary directory.
func DefaultCacheDir() string {
	if d := os.Getenv("PRECONV_CACHE"); d != "" {
		return filepath.Join(d, "chunks")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "preconv", "chunks")
	}
	return filepath.Join(os.TempDir(), "preconv-cache", "chunks")
}

func (o *Options) workers() int {
	if o.Workers <= 0 {
		return 8
	}
	return o.Workers
}

// meter serialises the Progress and OnTransfer callbacks.
type meter struct {
	o           *Options
	mu          sync.Mutex
	total, done int64
	files       atomic.Int64
	bytes       atomic.Int64
}

func (m *meter) moved(path string, n int64) {
	m.files.Add(1)
	m.bytes.Add(n)
	if m.o.Progress == nil && m.o.OnTransfer == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.done += n
	if m.o.OnTransfer != nil {
		m.o.OnTransfer(path)
	}
	if m.o.Progress != nil {
		m.o.Progress(m.done, m.total)
	}
}
