// Package remote moves feature stores between a local directory and a shared
// location: an S3 bucket prefix ("s3://bucket/prefix") or a preconv server
// ("http(s)://host/stores/NAME"). preconv itself always reads and writes a
// local store directory (package store); a remote store is pulled into a
// local directory (through a content-addressed chunk cache) before use and
// pushed back after an extraction.
//
// Schemes register themselves (Register) from the packages that implement
// them, so this package has no dependency on an S3 client or HTTP protocol.
package remote

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Errors returned by locations, wrapped with the location and file.
var (
	// ErrNotFound: no committed store at the location.
	ErrNotFound = errors.New("no committed store there")
	// ErrUnsupported: the scheme is unknown, or the location cannot do this
	// (e.g. push to a read-only location).
	ErrUnsupported = errors.New("unsupported location")
	// ErrAuth: the location refused the credentials.
	ErrAuth = errors.New("not authorized")
	// ErrCorrupt: downloaded bytes do not match their recorded sha256.
	ErrCorrupt = errors.New("content does not match its hash")
	// ErrConflict: another writer committed first (optimistic push).
	ErrConflict = errors.New("store changed concurrently")
)

// Config carries what a location needs beyond its URL. Zero values take the
// environment's defaults (see each scheme).
type Config struct {
	// Token is the bearer token for preconv servers (default: $PRECONV_TOKEN).
	Token string
	// CacheDir holds downloaded chunks by sha256 so that a chunk is fetched
	// once per machine (default: the user cache dir, preconv/chunks).
	CacheDir string
	// Who is recorded as the pusher (default: $USER@host).
	Who string
	// Progress, when set, is called as bytes move.
	Progress func(done, total int64)
}

// Stats says what a Pull or Push moved.
type Stats struct {
	Files       int    `json:"files"`             // files in the store
	Transferred int    `json:"transferred"`       // files sent or fetched
	Bytes       int64  `json:"bytes"`             // bytes sent or fetched
	Skipped     int    `json:"skipped"`           // files the other side already had (dedup, cache)
	Version     string `json:"version,omitempty"` // the committed version, where the location has versions
}

// Location is a remote store.
type Location interface {
	// Pull makes dir a verified copy of the location's committed store,
	// fetching only content that dir or the chunk cache lacks; the copy is
	// committed (its .zattrs written) last, so an interrupted pull leaves no
	// committed store behind. It returns ErrNotFound when the location has
	// no committed store.
	Pull(ctx context.Context, dir string) (Stats, error)
	// Push uploads the committed store at dir, sending only content the
	// location lacks, and commits it atomically: until the push completes,
	// readers see the previous version (or nothing); an interrupted push is
	// resumed by pushing again.
	Push(ctx context.Context, dir string) (Stats, error)
	// String is the location as the user wrote it, without credentials.
	String() string
}

// Opener makes a Location of a parsed URL.
type Opener func(u *url.URL, cfg Config) (Location, error)

var (
	mu      sync.RWMutex
	openers = map[string]Opener{}
)

// Register makes Open handle URLs with the scheme (lowercase, without "://").
func Register(scheme string, open Opener) {
	mu.Lock()
	defer mu.Unlock()
	openers[scheme] = open
}

// IsRemote reports whether ref is a URL with a scheme (anything else is a
// local path).
func IsRemote(ref string) bool {
	i := strings.Index(ref, "://")
	if i <= 0 {
		return false
	}
	for _, r := range ref[:i] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// Open parses ref ("s3://bucket/prefix", "http://host:8080/stores/NAME", …).
func Open(ref string, cfg Config) (Location, error) {
	u, err := url.Parse(ref)
	if err != nil || !IsRemote(ref) {
		return nil, fmt.Errorf("%q is not a store URL: %w", ref, ErrUnsupported)
	}
	mu.RLock()
	open := openers[strings.ToLower(u.Scheme)]
	mu.RUnlock()
	if open == nil {
		return nil, fmt.Errorf("%s: scheme %q not supported (known: %s): %w", Redact(ref), u.Scheme, strings.Join(Schemes(), ", "), ErrUnsupported)
	}
	return open(u, cfg)
}

// Schemes lists the registered schemes.
func Schemes() []string {
	mu.RLock()
	defer mu.RUnlock()
	var s []string
	for k := range openers {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// Redact drops user info and query secrets from a URL for messages.
func Redact(ref string) string {
	u, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}
