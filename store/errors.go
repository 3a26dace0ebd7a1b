package store

import "errors"

// Sentinel errors. Functions wrap them with %w and add the file, chunk or
// item they concern; test with errors.Is.
var (
	// ErrFormat means a file of the store (metadata, records, chunk index) is
	// malformed or inconsistent with the rest of the store.
	ErrFormat = errors.New("store: malformed store file")
	// ErrUnsupported means the Zarr metadata is valid but uses a feature this
	// package does not read (a codec other than zstd, filters, Fortran order,
	// an unknown dtype, …).
	ErrUnsupported = errors.New("store: unsupported zarr feature")
	// ErrTooLarge means a shape or chunk from a file exceeds the allocation
	// limits (a hostile or corrupt .zarray).
	ErrTooLarge = errors.New("store: size exceeds limits")
	// ErrDamaged means a chunk's bytes do not match the checksum recorded when
	// it was written, or do not decode to the expected size. Damaged chunks
	// are never served; the next Prepare recomputes them.
	ErrDamaged = errors.New("store: damaged chunk")
	// ErrMissing means a chunk that the committed store needs is absent.
	ErrMissing = errors.New("store: missing chunk")
	// ErrIncomplete means the store has no committed metadata (an extraction
	// is running or was interrupted; rerun it to resume), or Commit was called
	// before every item was Put or Failed.
	ErrIncomplete = errors.New("store: incomplete store")
	// ErrLocked means another live process holds the writer lock.
	ErrLocked = errors.New("store: locked by another writer")
	// ErrNotPreconv means the directory is a Zarr group but was not written by
	// preconv (no provenance); read its arrays with OpenArray.
	ErrNotPreconv = errors.New("store: not a preconv store")
	// ErrBadInput means an argument (spec, item, features length, position)
	// is invalid.
	ErrBadInput = errors.New("store: invalid input")
	// ErrClosed means the writer was already committed or closed.
	ErrClosed = errors.New("store: writer closed")
)
