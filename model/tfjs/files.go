package tfjs

import (
	"fmt"
	"path/filepath"
	"strings"
)

// WeightFiles returns the files that make up the model at path (a directory,
// model.json or the npm-bundled model.min.js): the model file itself, then
// every weight shard named by its weightsManifest, in manifest order. It is
// what a digest of the model must cover, and nothing else in the directory.
func WeightFiles(path string) ([]string, error) {
	src, err := openDir(path)
	if err != nil {
		return nil, err
	}
	mj, err := src.modelJSON()
	if err != nil {
		return nil, err
	}
	m, err := parseModelJSON(mj, src.jsonPath)
	if err != nil {
		return nil, err
	}
	files := []string{src.jsonPath}
	for _, g := range m.WeightsManifest {
		for _, p := range g.Paths {
			clean := filepath.Clean(filepath.FromSlash(p))
			if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
				return nil, fmt.Errorf("tfjs: %s: shard path %q escapes the model directory: %w", src.jsonPath, p, ErrShards)
			}
			f := filepath.Join(src.dir, clean)
			if src.bundled {
				f += ".min.js"
			}
			files = append(files, f)
		}
	}
	return files, nil
}
