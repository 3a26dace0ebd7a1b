// Package client is the HTTP side of remote: a remote.Location for stores
// served by `preconv serve`, registered for the "http" and "https" schemes.
// Blank-import it to make remote.Open accept
//
//	http(s)://HOST[:PORT][/PREFIX]/stores/NAME[@VERSION]
//
// Pull lists the store's files with their sha256 (GET
// /api/v1/stores/REF/manifest), takes each file from the local directory or
// the content-addressed chunk cache when it is already there, fetches the
// rest (GET /api/v1/stores/NAME@VERSION/files/PATH, pinned to the version
// the manifest named, so a concurrent push cannot mix versions), verifies
// every sha256 and writes .zattrs (the commit point) last.
//
// Push lists the local committed store's files, asks which blobs the server
// lacks (POST /api/v1/blobs/missing), uploads only those (PUT
// /api/v1/blobs/SHA256) and commits the manifest (POST
// /api/v1/stores/NAME/commit). An interrupted push leaves blobs but no
// version; pushing again sends only what is still missing. Push does not
// send a parent version: concurrent pushes of one store each commit
// atomically and the last one wins (Location.IfMatch opts into optimistic
// concurrency, answered by remote.ErrConflict).
//
// The bearer token is remote.Config.Token, else $PRECONV_TOKEN. The chunk
// cache is remote.Config.CacheDir, else $PRECONV_CACHE/chunks, else the
// user cache dir's preconv/chunks; files are kept there by sha256 as
// CACHE/ab/<sha256>, so a file is fetched once per machine whatever store
// or version it belongs to. Cached files are read-only, and a pulled
// directory holds hard links to them (copies across file systems), so a
// second pull of the same content costs no disk; preconv's store writer
// replaces files (temp + rename) and never writes into them.
//
// HTTPS trusts the system roots (and $SSL_CERT_FILE / $SSL_CERT_DIR, as Go
// does on Unix); set Location.HTTP for anything else.
package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/preconv/preconv/remote"
	"github.com/preconv/preconv/server"
)

func init() {
	remote.Register("http", func(u *url.URL, cfg remote.Config) (remote.Location, error) { return New(u, cfg) })
	remote.Register("https", func(u *url.URL, cfg remote.Config) (remote.Location, error) { return New(u, cfg) })
}

// Location is a store on a preconv server.
type Location struct {
	// Base is the server URL up to the "/stores/" segment
	// ("http://host:8080" or "https://host/prefix").
	Base string
	// Name is the store name; Version pins a version ("" = current).
	Name, Version string
	// IfMatch makes Push commit only if the server's current version is
	// still the one Push saw when it started (else remote.ErrConflict).
	IfMatch bool
	// HTTP is the client used (default: one with a 30 s response-header
	// timeout and no overall timeout, as stores can be large).
	HTTP *http.Client

	cfg   remote.Config
	token string
	orig  string
}

var _ remote.Location = (*Location)(nil)

// New makes a Location of u ("http(s)://HOST[/PREFIX]/stores/NAME[@VERSION]").
func New(u *url.URL, cfg remote.Config) (*Location, error) {
	ref := remote.Redact(u.String())
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%s: want http(s)://HOST/stores/NAME: %w", ref, remote.ErrUnsupported)
	}
	p := strings.TrimSuffix(u.Path, "/")
	i := strings.LastIndex(p, "/stores/")
	if i < 0 {
		return nil, fmt.Errorf("%s: the path must end in /stores/NAME: %w", ref, remote.ErrUnsupported)
	}
	nameRef := p[i+len("/stores/"):]
	name, version, _ := strings.Cut(nameRef, "@")
	if name == "" || strings.ContainsAny(nameRef, "/\\") || name[0] == '.' {
		return nil, fmt.Errorf("%s: bad store name %q: %w", ref, nameRef, remote.ErrUnsupported)
	}
	base := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: p[:i]}
	l := &Location{Base: base.String(), Name: name, Version: version, cfg: cfg, orig: ref}
	l.token = cfg.Token
	if l.token == "" {
		l.token = os.Getenv("PRECONV_TOKEN")
	}
	if l.cfg.CacheDir == "" {
		l.cfg.CacheDir = defaultCacheDir()
	}
	if l.cfg.Who == "" {
		l.cfg.Who = defaultWho()
	}
	l.HTTP = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, ResponseHeaderTimeout: 30 * time.Second,
		MaxIdleConnsPerHost: 8, IdleConnTimeout: time.Minute}}
	return l, nil
}

func defaultCacheDir() string {
	if d := os.Getenv("PRECONV_CACHE"); d != "" {
		return filepath.Join(d, "chunks")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "preconv", "chunks")
	}
	return filepath.Join(os.TempDir(), "preconv-cache", "chunks")
}

func defaultWho() string {
	u := os.Getenv("USER")
	if u == "" {
		u = "unknown"
	}
	h, _ := os.Hostname()
	if h == "" {
		return u
	}
	return u + "@" + h
}

// String is the location without credentials.
func (l *Location) String() string { return l.orig }

// ref is NAME or NAME@VERSION.
func (l *Location) ref() string {
	if l.Version != "" {
		return l.Name + "@" + l.Version
	}
	return l.Name
}

// apiError is a server's JSON error body.
type apiError struct {
	Error   string   `json:"error"`
	Status  int      `json:"status"`
	Missing []string `json:"missing"`
}

// do sends a request and maps error statuses to remote's sentinels.
func (l *Location) do(ctx context.Context, method, path string, body io.Reader, size int64, hdr map[string]string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, l.Base+path, body)
	if err != nil {
		return nil, err
	}
	if body != nil && size >= 0 {
		req.ContentLength = size
	}
	if l.token != "" {
		req.Header.Set("Authorization", "Bearer "+l.token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := l.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %s %s: %w", l, method, path, err)
	}
	if resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var ae apiError
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &ae) == nil && ae.Error != "" {
		msg = ae.Error
	}
	var sentinel error
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		sentinel = remote.ErrAuth
	case http.StatusNotFound:
		sentinel = remote.ErrNotFound
	case http.StatusConflict, http.StatusPreconditionFailed:
		sentinel = remote.ErrConflict
	}
	e := &StatusError{Location: l.String(), Method: method, Path: path, Status: resp.StatusCode, Message: msg, Missing: ae.Missing, sentinel: sentinel}
	return nil, e
}

// StatusError is a refusal by the server.
type StatusError struct {
	Location, Method, Path string
	Status                 int
	Message                string
	// Missing lists blobs a commit named but the server lacks.
	Missing  []string
	sentinel error
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: %s %s: %d %s: %s", e.Location, e.Method, e.Path, e.Status, http.StatusText(e.Status), e.Message)
}

// Unwrap gives the remote sentinel (ErrAuth, ErrNotFound, ErrConflict) the
// status maps to, if any.
func (e *StatusError) Unwrap() error { return e.sentinel }

func (l *Location) getJSON(ctx context.Context, path string, v any) error {
	resp, err := l.do(ctx, "GET", path, nil, -1, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 512<<20)).Decode(v); err != nil {
		return fmt.Errorf("%s: GET %s: bad JSON: %w", l, path, err)
	}
	return nil
}

func (l *Location) postJSON(ctx context.Context, path string, in, out any, hdr map[string]string) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	if hdr == nil {
		hdr = map[string]string{}
	}
	hdr["Content-Type"] = "application/json"
	resp, err := l.do(ctx, "POST", path, bytes.NewReader(b), int64(len(b)), hdr)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(out); err != nil {
		return fmt.Errorf("%s: POST %s: bad JSON: %w", l, path, err)
	}
	return nil
}

// Info returns the server's StoreInfo of the store (provenance, spec
// digest, version); remote.ErrNotFound if there is none.
func (l *Location) Info(ctx context.Context) (*server.StoreInfo, error) {
	var in server.StoreInfo
	if err := l.getJSON(ctx, "/api/v1/stores/"+url.PathEscape(l.ref()), &in); err != nil {
		return nil, err
	}
	return &in, nil
}

// Manifest returns the files of the store's version (current unless pinned).
func (l *Location) Manifest(ctx context.Context) (*server.Manifest, error) {
	var m server.Manifest
	if err := l.getJSON(ctx, "/api/v1/stores/"+url.PathEscape(l.ref())+"/manifest", &m); err != nil {
		return nil, err
	}
	for _, f := range m.Files {
		if !server.ValidStorePath(f.Path) || !isSHA256(f.SHA256) || f.Size < 0 {
			return nil, fmt.Errorf("%s: manifest entry %q (sha256 %q, %d bytes) is not valid: %w", l, f.Path, f.SHA256, f.Size, remote.ErrCorrupt)
		}
	}
	return &m, nil
}

// hashFile returns the sha256 hex and size of a local file.
func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// isSHA256 reports whether h is 64 lowercase hex digits (it names cache
// files, so nothing else may pass).
func isSHA256(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// isNotFound reports a missing store.
func isNotFound(err error) bool { return errors.Is(err, remote.ErrNotFound) }
