package tfjs

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// source reads model files either from a standard TF.js directory
// (model.json + binary shards) or from an npm-bundled one (model.min.js +
// group1-shardNofM.min.js).
type source struct {
	dir      string
	jsonPath string // model.json, or "" when bundled
	bundled  bool
}

// openDir resolves path (a directory, a model.json or a model.min.js).
func openDir(path string) (*source, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tfjs: %w", err)
	}
	if !st.IsDir() {
		if strings.HasSuffix(path, ".min.js") || strings.HasSuffix(path, ".js") {
			return &source{dir: filepath.Dir(path), jsonPath: path, bundled: true}, nil
		}
		return &source{dir: filepath.Dir(path), jsonPath: path}, nil
	}
	if _, err := os.Stat(filepath.Join(path, "model.json")); err == nil {
		return &source{dir: path, jsonPath: filepath.Join(path, "model.json")}, nil
	}
	if _, err := os.Stat(filepath.Join(path, "model.min.js")); err == nil {
		return &source{dir: path, jsonPath: filepath.Join(path, "model.min.js"), bundled: true}, nil
	}
	return nil, fmt.Errorf("tfjs: %s: no model.json or model.min.js: %w", path, ErrFormat)
}

func (s *source) modelName() string { return s.jsonPath }

// maxModelJSON bounds the size of model.json (the nsfwjs ones are < 1 MB).
const maxModelJSON = 64 << 20

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes: %w", path, limit, ErrLimit)
	}
	return b, nil
}

// modelJSON returns the model.json bytes.
func (s *source) modelJSON() ([]byte, error) {
	b, err := readLimited(s.jsonPath, maxModelJSON)
	if err != nil {
		return nil, fmt.Errorf("tfjs: %w", err)
	}
	if !s.bundled {
		return b, nil
	}
	j, err := ModuleJSON(b)
	if err != nil {
		return nil, fmt.Errorf("tfjs: %s: %v: %w", s.jsonPath, err, ErrFormat)
	}
	return j, nil
}

// shard returns the bytes of manifest path p (relative to the model dir).
// limit bounds the size (<= 0: 1 GiB).
func (s *source) shard(p string, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = 1 << 30
	}
	clean := filepath.Clean(filepath.FromSlash(p))
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("tfjs: %s: shard path %q escapes the model directory: %w", s.jsonPath, p, ErrShards)
	}
	path := filepath.Join(s.dir, clean)
	if s.bundled {
		path += ".min.js"
		b, err := readLimited(path, limit*4/3+(1<<20))
		if err != nil {
			return nil, fmt.Errorf("tfjs: missing or unreadable weight shard %s: %v: %w", path, err, ErrShards)
		}
		d, err := ModuleBase64(b)
		if err != nil {
			return nil, fmt.Errorf("tfjs: weight shard %s: %v: %w", path, err, ErrFormat)
		}
		return d, nil
	}
	b, err := readLimited(path, limit)
	if err != nil {
		return nil, fmt.Errorf("tfjs: missing or unreadable weight shard %s: %v: %w", path, err, ErrShards)
	}
	return b, nil
}
