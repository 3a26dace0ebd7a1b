package server

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/preconv/preconv/objstore"
	"github.com/preconv/preconv/store"
)

// Config configures a Server.
type Config struct {
	// Root is the directory whose subdirectories are the served stores, or
	// an S3 location "s3://bucket/prefix" (configured from the environment
	// as objstore.Open does): see "Object storage" in the package doc.
	Root string
	// Bucket, when set, is the root instead of Root (Root is then only a
	// name for messages): for embedding with a ready objstore.Bucket.
	Bucket objstore.Bucket
	// Tokens maps bearer tokens to their scopes (see LoadTokens).
	Tokens map[string]Scope
	// AnonymousRead lets requests without a token read. Off by default.
	AnonymousRead bool
	// MaxBodyBytes bounds request bodies; 0 means 1 MiB.
	MaxBodyBytes int64
	// TLSCert and TLSKey are PEM files; when both are set, Open serves
	// HTTPS. Setting only one is an ErrConfig error.
	TLSCert, TLSKey string
	// Log receives internal errors; nil means log.Default().
	Log *log.Logger
	// MaxUploadBytes bounds one uploaded blob (PUT /api/v1/blobs/…); 0
	// means 256 MiB. Larger uploads get 413.
	MaxUploadBytes int64
	// KeepVersions is how many versions of each pushed store are kept
	// (readable as NAME@VERSION); older ones are deleted at the next commit
	// and their blobs collected. 0 means 5.
	KeepVersions int
	// GCGrace protects blobs younger than this from garbage collection (they
	// may belong to a push not yet committed). 0 means 1 h; negative means
	// no grace.
	GCGrace time.Duration
}

// Server serves the stores under Config.Root. Its methods are safe for
// concurrent use.
type Server struct {
	cfg    Config
	root   string // Root with symlinks resolved
	tokens []tokenEntry
	tlsCfg *tls.Config
	mux    *http.ServeMux
	bkt    objstore.Bucket // bucket root; nil for a directory root
	s3     s3State

	mu       sync.Mutex
	cache    map[string]cachedInfo     // store ref → info keyed by .zattrs stamp
	manCache map[string]cachedManifest // plain store name → manifest keyed by .zattrs stamp
	locks    map[string]*sync.Mutex    // pushed store name → commit lock
	versions map[string]*Manifest      // "name@version" → its manifest (immutable)

	ln  net.Listener
	url string
}

type cachedInfo struct {
	stamp string
	info  *StoreInfo
}

// New checks cfg and returns a Server. Root must be an existing directory,
// or an s3:// location (or Bucket set) whose .preconv-server/stores/ prefix
// can be listed.
func New(cfg Config) (*Server, error) {
	if cfg.Root == "" && cfg.Bucket == nil {
		return nil, fmt.Errorf("%w: Root is empty", ErrConfig)
	}
	bkt, err := openBucketRoot(cfg)
	if err != nil {
		return nil, err
	}
	root := ""
	if bkt == nil {
		root, err = filepath.Abs(cfg.Root)
		if err == nil {
			root, err = filepath.EvalSymlinks(root)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: root %s: %v", ErrConfig, cfg.Root, err)
		}
		if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("%w: root %s is not a directory", ErrConfig, cfg.Root)
		}
	} else if err := checkBucket(bkt); err != nil {
		return nil, err
	}
	if cfg.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("%w: MaxBodyBytes %d < 0", ErrConfig, cfg.MaxBodyBytes)
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.Log == nil {
		cfg.Log = log.Default()
	}
	if cfg.MaxUploadBytes < 0 || cfg.KeepVersions < 0 {
		return nil, fmt.Errorf("%w: MaxUploadBytes %d, KeepVersions %d: must not be negative", ErrConfig, cfg.MaxUploadBytes, cfg.KeepVersions)
	}
	if cfg.MaxUploadBytes == 0 {
		cfg.MaxUploadBytes = defaultMaxUpload
	}
	if cfg.KeepVersions == 0 {
		cfg.KeepVersions = defaultKeep
	}
	if cfg.GCGrace == 0 {
		cfg.GCGrace = defaultGCGrace
	}
	s := &Server{cfg: cfg, root: root, bkt: bkt, s3: s3State{vouched: map[string]time.Time{}, cur: map[string]cachedCurrent{}}, cache: map[string]cachedInfo{}, manCache: map[string]cachedManifest{}, locks: map[string]*sync.Mutex{}, versions: map[string]*Manifest{}}
	for tok, sc := range cfg.Tokens {
		if len(tok) < minTokenLen {
			return nil, fmt.Errorf("%w: token shorter than %d bytes", ErrConfig, minTokenLen)
		}
		s.tokens = append(s.tokens, tokenEntry{hash: sha256.Sum256([]byte(tok)), scope: sc})
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, fmt.Errorf("%w: TLS needs both a certificate and a key", ErrConfig)
	}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("%w: TLS %s, %s: %v", ErrConfig, cfg.TLSCert, cfg.TLSKey, err)
		}
		s.tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	s.cleanTemp()
	s.mux = http.NewServeMux()
	s.routes()
	return s, nil
}

// routes registers every route. Keep this the only place that does.
func (s *Server) routes() {
	s.mux.HandleFunc("GET /{$}", s.read(s.handleIndex))
	s.mux.HandleFunc("GET /static/index.js", s.handleIndexJS)
	s.mux.HandleFunc("GET /api/stores", s.read(s.handleList))
	s.mux.HandleFunc("GET /api/stores/{name}", s.read(s.handleInfo))
	s.mux.HandleFunc("GET /api/search", s.read(s.handleSearch))
	s.mux.HandleFunc("GET /stores/{name}/{path...}", s.read(s.handleFile))
	// Versioned API (push/pull). The read routes of /api also answer here.
	s.mux.HandleFunc("GET /api/v1/stores", s.read(s.handleList))
	s.mux.HandleFunc("GET /api/v1/stores/{name}", s.read(s.handleInfo))
	s.mux.HandleFunc("GET /api/v1/search", s.read(s.handleSearch))
	s.mux.HandleFunc("GET /api/v1/stats", s.read(s.handleStats))
	s.mux.HandleFunc("GET /api/v1/stores/{ref}/manifest", s.read(s.handleManifest))
	s.mux.HandleFunc("GET /api/v1/stores/{ref}/files/{path...}", s.read(s.handleStoreFile))
	s.mux.HandleFunc("POST /api/v1/blobs/missing", s.write(maxMissingBody, s.handleMissing))
	s.mux.HandleFunc("PUT /api/v1/blobs/{sha256}", func(w http.ResponseWriter, r *http.Request) {
		s.write(s.cfg.MaxUploadBytes, s.handlePutBlob)(w, r)
	})
	s.mux.HandleFunc("POST /api/v1/stores/{name}/commit", s.write(maxCommitBody, s.handleCommit))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, fmt.Errorf("%w: %s %s", ErrNotFound, r.Method, r.URL.Path))
	})
}

// read wraps a handler that needs ScopeRead and returns an error.
func (s *Server) read(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		if err := s.authorize(r, ScopeRead); err != nil {
			s.writeError(w, err)
			return
		}
		if err := h(w, r); err != nil {
			s.writeError(w, err)
		}
	}
}

// Handler returns the server's HTTP handler (for httptest or embedding).
func (s *Server) Handler() http.Handler { return s.mux }

// Open listens on addr (":8080", "127.0.0.1:0"), with TLS when configured.
func (s *Server) Open(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	scheme := "http"
	if s.tlsCfg != nil {
		ln = tls.NewListener(ln, s.tlsCfg)
		scheme = "https"
	}
	s.ln = ln
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	s.url = scheme + "://" + net.JoinHostPort(host, port)
	return nil
}

// URL is the base URL after Open ("http://localhost:8080").
func (s *Server) URL() string { return s.url }

// Serve serves on the listener from Open until ctx is cancelled, then shuts
// down gracefully (waiting up to 5 s for in-flight requests).
func (s *Server) Serve(ctx context.Context) error {
	if s.ln == nil {
		return errors.New("server: Serve before Open")
	}
	hs := &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10,
		IdleTimeout: 2 * time.Minute, ErrorLog: s.cfg.Log}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(s.ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := hs.Shutdown(sctx)
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}

func (s *Server) logf(format string, args ...any) { s.cfg.Log.Printf(format, args...) }

// writeJSON writes v as an indented JSON 200 response.
func writeJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// StoreInfo is what the API says about one store.
type StoreInfo struct {
	Name           string         `json:"name"`
	URL            string         `json:"url"` // path of the Zarr group, "/stores/NAME"
	Spec           store.Spec     `json:"spec"`
	SpecDigest     string         `json:"spec_digest"`
	Classes        []string       `json:"classes"`
	Items          int            `json:"items"`
	Failed         int            `json:"failed"`
	Splits         map[string]int `json:"splits"`
	Chunks         int            `json:"chunks"`
	Created        time.Time      `json:"created"`
	PreconvVersion string         `json:"preconv_version"`
	LayoutDigest   string         `json:"layout_digest"`
	DiskBytes      int64          `json:"disk_bytes"`
	ChunkBytes     int64          `json:"chunk_bytes"`
	// Version, PushedBy and PushedAt describe the current version of a
	// pushed store (empty for a plain directory under the root); Versions
	// lists its kept versions, oldest first.
	Version  string    `json:"version,omitempty"`
	Versions []string  `json:"versions,omitempty"`
	PushedBy string    `json:"pushed_by,omitempty"`
	PushedAt time.Time `json:"pushed_at,omitzero"`
}

// validName reports whether name can be a store name in a URL and on disk.
func validName(name string) bool {
	if name == "" || name[0] == '.' || len(name) > 255 {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '/' || c == '\\' || c == 0 {
			return false
		}
	}
	return true
}

// located is a store reference resolved to a directory: a plain store
// directory under the root, or one version of a pushed store.
type located struct {
	name, version string
	dir           string
	man           *Manifest // pushed stores (and plain ones of a bucket root)
	history       []string  // pushed stores only
	// plain: a store written by storesync under a bucket root (man is then
	// its .preconv/files.json, dir is empty). Bucket roots never set dir.
	plain bool
}

// locate resolves "NAME" or "NAME@VERSION". A plain directory ROOT/NAME
// wins; otherwise NAME is a pushed store and VERSION defaults to its current
// version, read once here so one request sees one version.
func (s *Server) locate(ref string) (*located, error) {
	if s.bkt != nil {
		return s.s3Locate(ref)
	}
	if !validName(ref) {
		return nil, fmt.Errorf("%w: store name %q", ErrBadPath, ref)
	}
	if _, err := os.Lstat(filepath.Join(s.root, ref)); err == nil {
		dir, err := s.resolve(filepath.Join(s.root, ref))
		if err != nil {
			return nil, fmt.Errorf("store %q: %w", ref, err)
		}
		return &located{name: ref, dir: dir}, nil
	}
	name, version, _ := strings.Cut(ref, "@")
	if version != "" && !validVersion(version) || strings.Contains(version, "@") {
		return nil, fmt.Errorf("%w: store %q: version %q", ErrNotFound, name, version)
	}
	cur, err := s.readCurrent(name)
	if err != nil {
		return nil, fmt.Errorf("%w: store %q", ErrNotFound, name)
	}
	if version == "" {
		version = cur.Version
	} else if !slices.Contains(cur.History, version) {
		return nil, fmt.Errorf("%w: store %q has no version %s (kept: %s)", ErrNotFound, name, version, strings.Join(cur.History, ", "))
	}
	m, err := s.readManifest(name, version)
	if err != nil {
		return nil, err
	}
	dir := s.sdir("stores", name, "versions", version)
	return &located{name: name, version: version, dir: dir, man: m, history: cur.History}, nil
}

// storeDir resolves a store reference to its directory (symlinks resolved,
// inside root) or returns ErrNotFound/ErrBadPath.
func (s *Server) storeDir(name string) (string, error) {
	loc, err := s.locate(name)
	if err != nil {
		return "", err
	}
	return loc.dir, nil
}

// resolve evaluates symlinks in p and checks the result lies inside root.
func (s *Server) resolve(p string) (string, error) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", ErrNotFound
	}
	rel, err := filepath.Rel(s.root, real)
	if err != nil || rel == ".." || len(rel) >= 3 && rel[:3] == ".."+string(filepath.Separator) || filepath.IsAbs(rel) {
		return "", fmt.Errorf("%w: resolves outside the root", ErrBadPath)
	}
	return real, nil
}

// info returns the StoreInfo of a committed store, cached until its .zattrs
// (the commit point) changes.
func (s *Server) info(name string) (*StoreInfo, error) {
	if s.bkt != nil {
		return s.s3Info(name)
	}
	loc, err := s.locate(name)
	if err != nil {
		return nil, err
	}
	dir := loc.dir
	fi, err := os.Stat(filepath.Join(dir, ".zattrs"))
	if err != nil {
		return nil, fmt.Errorf("%w: store %q", ErrNotFound, name)
	}
	stamp := fmt.Sprintf("%d/%d/%s/%s", fi.Size(), fi.ModTime().UnixNano(), dir, strings.Join(loc.history, ","))
	s.mu.Lock()
	c, ok := s.cache[name]
	s.mu.Unlock()
	if ok && c.stamp == stamp {
		return c.info, nil
	}
	st, err := store.Stat(dir)
	if err != nil {
		if errors.Is(err, store.ErrIncomplete) || errors.Is(err, store.ErrNotPreconv) {
			return nil, fmt.Errorf("%w: store %q (not a committed preconv store)", ErrNotFound, name)
		}
		return nil, fmt.Errorf("store %q: %w", name, err)
	}
	p := st.Provenance
	in := &StoreInfo{Name: loc.name, URL: "/stores/" + name, Spec: p.Spec, SpecDigest: p.SpecDigest,
		Classes: p.Classes, Items: st.Items, Failed: st.Failed, Splits: p.Splits, Chunks: st.Chunks,
		Created: p.Created, PreconvVersion: p.Version, LayoutDigest: p.LayoutHash,
		DiskBytes: st.DiskBytes, ChunkBytes: st.ChunkBytes}
	if loc.man != nil {
		in.Version, in.Versions, in.PushedBy, in.PushedAt = loc.version, loc.history, loc.man.PushedBy, loc.man.PushedAt
	}
	s.mu.Lock()
	s.cache[name] = cachedInfo{stamp: stamp, info: in}
	s.mu.Unlock()
	return in, nil
}

// Stores lists the committed stores under Root, sorted by name. Directories
// that are not committed preconv stores are skipped; damaged ones are logged
// and skipped.
func (s *Server) Stores() ([]*StoreInfo, error) {
	var names []string
	if s.bkt != nil {
		var err error
		if names, err = s.s3PlainNames(); err != nil {
			return nil, err
		}
		names = slices.Clone(names) // the listing is cached; appended to below
	} else {
		ents, err := os.ReadDir(s.root)
		if err != nil {
			return nil, fmt.Errorf("root %s: %w", s.root, err)
		}
		for _, e := range ents {
			names = append(names, e.Name())
		}
	}
	out := []*StoreInfo{}
	for _, n := range s.pushedNames() {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, n := range names {
		if !validName(n) {
			continue
		}
		in, err := s.info(n)
		if err != nil {
			if !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrBadPath) {
				s.logf("preconv serve: skipping %v", err)
			}
			continue
		}
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Stores()
	if err != nil {
		return err
	}
	return writeJSON(w, list)
}

func (s *Server) handleInfo(w http.ResponseWriter, r *http.Request) error {
	in, err := s.info(r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, in)
}

// searchFields are the query parameters /api/search accepts.
var searchFields = map[string]func(*StoreInfo) string{
	"weights_digest": func(i *StoreInfo) string { return i.Spec.WeightsDigest },
	"spec_digest":    func(i *StoreInfo) string { return i.SpecDigest },
	"tap":            func(i *StoreInfo) string { return i.Spec.Tap },
	"model":          func(i *StoreInfo) string { return i.Spec.Model },
	"arch":           func(i *StoreInfo) string { return i.Spec.Arch },
	"pool":           func(i *StoreInfo) string { return i.Spec.Pool },
	"dtype":          func(i *StoreInfo) string { return i.Spec.DType },
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for k, v := range q {
		if searchFields[k] == nil {
			return fmt.Errorf("%w: unknown search parameter %q", ErrBadRequest, k)
		}
		if len(v) != 1 {
			return fmt.Errorf("%w: search parameter %q given %d times", ErrBadRequest, k, len(v))
		}
	}
	list, err := s.Stores()
	if err != nil {
		return err
	}
	out := []*StoreInfo{}
	for _, in := range list {
		ok := true
		for k, v := range q {
			if searchFields[k](in) != v[0] {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, in)
		}
	}
	return writeJSON(w, out)
}
