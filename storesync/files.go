package storesync

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/preconv/preconv/objstore"
	"github.com/preconv/preconv/remote"
	"github.com/preconv/preconv/store"
)

const (
	manifestKey  = ".preconv/files.json"
	zattrsKey    = ".zattrs"
	sidecarDir   = ".preconv/chunks/"
	maxMetaBytes = 16 << 20 // .zattrs, sidecars
	maxManifest  = 64 << 20
	maxFileBytes = 1 << 40 // any one store file
)

// entry is one file of the manifest.
type entry struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// manifest maps slash paths relative to the store to their size and hash.
type manifest map[string]entry

// isStoreFile reports whether rel (slash path) is a file that push and pull
// move (and may delete). The manifest itself is not one.
func isStoreFile(rel string) bool {
	if objstore.ValidKey(rel) != nil {
		return false
	}
	for _, seg := range strings.Split(rel, "/") {
		if strings.HasPrefix(seg, ".tmp-") {
			return false
		}
	}
	switch rel {
	case ".zgroup", ".zattrs", ".zmetadata", "records.jsonl",
		"shard.json": // a shard store's manifest (package extract)
		return true
	}
	if strings.HasPrefix(rel, sidecarDir) {
		name := strings.TrimPrefix(rel, sidecarDir)
		return strings.HasSuffix(name, ".json") && !strings.Contains(name, "/")
	}
	top, _, nested := strings.Cut(rel, "/")
	return nested && (top == "features" || top == "labels" || top == "keys")
}

// isChunk reports whether rel is a features chunk (cached by content on pull).
func isChunk(rel string) bool {
	return strings.HasPrefix(rel, "features/") && path.Base(rel) != ".zarray" && path.Base(rel) != ".zattrs"
}

// localFile is one file of the local store.
type localFile struct {
	rel  string
	size int64
	sha  string
	// sidecar is the rel path of a features chunk's index entry, and
	// sidecarBytes its content (compared with the remote's).
	sidecar      string
	sidecarBytes []byte
}

// sidecarInfo is the part of store's chunk index entry storesync reads.
type sidecarInfo struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// scanLocal lists the committed store at dir with hashes: chunk hashes come
// from their sidecars (checked when the chunk is read for upload), other
// files are hashed.
func scanLocal(ctx context.Context, dir string) (map[string]*localFile, []byte, error) {
	zb, err := readLimited(filepath.Join(dir, zattrsKey), maxMetaBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("%s: not a committed store (no .zattrs; finish or rerun the extraction first): %w", dir, store.ErrIncomplete)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	files := map[string]*localFile{}
	err = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if e.IsDir() {
			if rel == ".preconv/old" || strings.HasPrefix(e.Name(), ".tmp-") {
				return fs.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() || !isStoreFile(rel) {
			return nil
		}
		st, err := e.Info()
		if err != nil {
			return err
		}
		files[rel] = &localFile{rel: rel, size: st.Size()}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	// Chunks take their hashes from their sidecars.
	for rel := range files {
		if !strings.HasPrefix(rel, sidecarDir) {
			continue
		}
		b, err := readLimited(filepath.Join(dir, filepath.FromSlash(rel)), maxMetaBytes)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", dir, err)
		}
		var si sidecarInfo
		if err := json.Unmarshal(b, &si); err != nil || !isChunk(si.File) || !validSHA(si.SHA256) {
			return nil, nil, fmt.Errorf("%s: %s: malformed chunk index entry: %w", dir, rel, store.ErrFormat)
		}
		f := files[si.File]
		if f == nil {
			return nil, nil, fmt.Errorf("%s: chunk %s (indexed by %s) is missing; run 'preconv store verify': %w", dir, si.File, rel, store.ErrMissing)
		}
		if f.size != si.Size {
			return nil, nil, fmt.Errorf("%s: chunk %s has %d bytes, its index says %d: %w", dir, si.File, f.size, si.Size, store.ErrDamaged)
		}
		f.sha, f.sidecar, f.sidecarBytes = si.SHA256, rel, b
	}
	for rel, f := range files {
		if f.sha != "" {
			continue
		}
		if rel == zattrsKey {
			f.sha = hexSHA(zb)
			f.size = int64(len(zb))
			continue
		}
		if f.sha, err = hashFile(filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", dir, err)
		}
	}
	return files, zb, nil
}

func (m manifest) keys() []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func parseManifest(data []byte, where string) (manifest, error) {
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %v: %w", where, err, remote.ErrCorrupt)
	}
	for k, e := range m {
		if !isStoreFile(k) || e.Size < 0 || e.Size > maxFileBytes || !validSHA(e.SHA256) {
			return nil, fmt.Errorf("%s: entry %q: not a store file with a size and sha256: %w", where, k, remote.ErrCorrupt)
		}
	}
	if _, ok := m[zattrsKey]; !ok {
		return nil, fmt.Errorf("%s: no .zattrs entry: %w", where, remote.ErrCorrupt)
	}
	return m, nil
}

func validSHA(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

func hexSHA(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func readLimited(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes: %w", p, limit, store.ErrTooLarge)
	}
	return b, nil
}

// tempName is a temporary file beside p, named like the store's own
// temporaries (".tmp-…") so that push, the store and the server ignore it.
func tempName(p string) string {
	var r [6]byte
	rand.Read(r[:])
	return filepath.Join(filepath.Dir(p), ".tmp-"+filepath.Base(p)+"-"+hex.EncodeToString(r[:]))
}

// writeAtomic writes data to p (creating its directory) through a synced
// temporary file and rename (store.WriteFileAtomic).
func writeAtomic(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return store.WriteFileAtomic(p, data)
}
