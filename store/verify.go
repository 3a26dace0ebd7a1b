package store

import (
	"errors"
	"fmt"
	"path/filepath"
)

// ChunkProblem names one damaged or missing features chunk.
type ChunkProblem struct {
	Chunk   int    `json:"chunk"`
	File    string `json:"file"`
	Problem string `json:"problem"`
	Err     error  `json:"-"`
}

// VerifyReport is the result of Verify.
type VerifyReport struct {
	Dir       string         `json:"dir"`
	Committed bool           `json:"committed"`
	Chunks    int            `json:"chunks"`
	Items     int            `json:"items"`
	Failed    int            `json:"failed_items"`
	Problems  []ChunkProblem `json:"problems"`
}

// OK reports whether the store is committed and every chunk is intact.
func (r *VerifyReport) OK() bool { return r.Committed && len(r.Problems) == 0 }

// Verify checks every features chunk of the store at dir against the
// checksum recorded when it was written, decodes it, and checks the item
// keys it holds against the records. It returns an error only when the store
// cannot be read at all; damaged or missing chunks are listed in the report
// (the next Prepare recomputes them).
func Verify(dir string) (*VerifyReport, error) {
	rep := &VerifyReport{Dir: dir, Problems: []ChunkProblem{}}
	s, err := Open(dir, WithWorkers(0), WithCacheBytes(0))
	if errors.Is(err, ErrIncomplete) {
		// Not committed: check what chunks exist.
		infos, _ := filepath.Glob(filepath.Join(dir, filepath.FromSlash(chunkInfoDir), "*.json"))
		for _, p := range infos {
			var c int
			if _, err := fmt.Sscanf(filepath.Base(p), "%d.json", &c); err != nil {
				continue
			}
			rep.Chunks++
			ci, err := readChunkInfo(p)
			if err == nil {
				_, err = checkChunk(dir, ci)
			}
			if err != nil {
				rep.Problems = append(rep.Problems, ChunkProblem{Chunk: c, File: p, Problem: reasonOf(err), Err: err})
			}
		}
		return rep, nil
	}
	if err != nil {
		return nil, err
	}
	c := s.c
	rep.Committed = true
	rep.Chunks = c.prov.Chunks
	rep.Items = c.prov.Count
	rep.Failed = c.prov.Failed
	for ch := 0; ch < c.prov.Chunks; ch++ {
		if _, err := c.load(ch); err != nil {
			rep.Problems = append(rep.Problems, ChunkProblem{Chunk: ch, File: featuresDir + "/" + c.meta.rowChunkKey(ch),
				Problem: reasonOf(err), Err: err})
		}
	}
	return rep, nil
}
