package store

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
)

// Info summarises a committed store (preconv store info).
type Info struct {
	Dir        string                    `json:"dir"`
	Provenance Provenance                `json:"provenance"`
	Items      int                       `json:"items"`
	Failed     int                       `json:"failed"`
	PerSplit   map[string]map[string]int `json:"per_split_class"` // split → class → items
	Chunks     int                       `json:"chunks"`
	DiskBytes  int64                     `json:"disk_bytes"`    // everything under dir
	ChunkBytes int64                     `json:"chunk_bytes"`   // compressed features chunks
	RawBytes   int64                     `json:"raw_bytes"`     // features uncompressed, stored dtype
	RawF32     int64                     `json:"raw_f32_bytes"` // features as raw float32 (.npy)
	Ratio      float64                   `json:"compression_ratio"`
	RatioF32   float64                   `json:"ratio_vs_raw_f32"`
}

// Stat opens the store at dir and summarises it without reading chunks.
func Stat(dir string) (*Info, error) {
	s, err := Open(dir, WithWorkers(0))
	if err != nil {
		return nil, err
	}
	c := s.c
	in := &Info{Dir: dir, Provenance: *c.prov, Items: len(c.recs), Failed: c.prov.Failed, Chunks: c.prov.Chunks,
		PerSplit: map[string]map[string]int{}}
	for _, r := range c.recs {
		if r.Failed != "" {
			continue
		}
		name := "(unlabelled)"
		if r.Label >= 0 {
			name = c.prov.Classes[r.Label]
		}
		if in.PerSplit[r.Split] == nil {
			in.PerSplit[r.Split] = map[string]int{}
		}
		in.PerSplit[r.Split][name]++
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			in.DiskBytes += fi.Size()
			if filepath.Dir(p) == filepath.Join(dir, featuresDir) && d.Name() != ".zarray" {
				in.ChunkBytes += fi.Size()
			}
		}
		return nil
	})
	in.RawBytes = int64(len(c.recs)) * int64(c.rowElems) * int64(c.isz)
	in.RawF32 = int64(len(c.recs)) * int64(c.rowElems) * 4
	if in.ChunkBytes > 0 {
		in.Ratio = float64(in.RawBytes) / float64(in.ChunkBytes)
		in.RatioF32 = float64(in.RawF32) / float64(in.ChunkBytes)
	}
	return in, nil
}

// streamRows reads the view's items in order, chunk-sized batches at a time,
// and hands each batch (len = items*rowElems) to fn. Memory stays bounded by
// one batch plus the chunk cache.
func (s *Store) streamRows(ctx context.Context, fn func([]float32) error) error {
	e, step := s.c.rowElems, s.c.rows
	buf := make([]float32, step*e)
	idx := make([]int, 0, step)
	for lo := 0; lo < s.Len(); lo += step {
		if err := ctx.Err(); err != nil {
			return err
		}
		idx = idx[:0]
		for i := lo; i < min(s.Len(), lo+step); i++ {
			idx = append(idx, i)
		}
		if err := s.Read(idx, buf[:len(idx)*e]); err != nil {
			return err
		}
		if err := fn(buf[:len(idx)*e]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) npyDescr() (string, int) {
	if s.c.meta.DType == "<f2" {
		return "<f2", 2
	}
	return "<f4", 4
}

// ExportNPY writes the view's features as one .npy array (shape (Len(),
// …FeatureShape), dtype as stored: <f4 or <f2), streaming chunk by chunk.
func (s *Store) ExportNPY(ctx context.Context, w io.Writer) error {
	descr, isz := s.npyDescr()
	shape := make([]string, 0, 4)
	for _, d := range append([]int{s.Len()}, s.c.prov.Spec.FeatureShape...) {
		shape = append(shape, fmt.Sprint(d))
	}
	sh := strings.Join(shape, ", ")
	if len(shape) == 1 {
		sh += ","
	}
	hdr := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, sh)
	pad := 64 - (10+len(hdr)+1)%64
	hdr += strings.Repeat(" ", pad%64) + "\n"
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString("\x93NUMPY\x01\x00")
	binary.Write(bw, binary.LittleEndian, uint16(len(hdr)))
	bw.WriteString(hdr)
	var raw []byte
	err := s.streamRows(ctx, func(rows []float32) error {
		raw = growBytes(raw, len(rows)*isz)
		encodeF32(raw, rows, descr)
		_, err := bw.Write(raw)
		return err
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

func growBytes(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// ExportSafetensors writes the view's features ("features", F32 or F16 as
// stored, shape (Len(), …FeatureShape)) and labels ("labels", I64) as a
// safetensors file, streaming, with the spec digest, model and classes in
// the metadata.
func (s *Store) ExportSafetensors(ctx context.Context, w io.Writer) error {
	descr, isz := s.npyDescr()
	dt := map[string]string{"<f4": "F32", "<f2": "F16"}[descr]
	n := int64(s.Len())
	featBytes := n * int64(s.c.rowElems) * int64(isz)
	cls, _ := json.Marshal(s.c.prov.Classes)
	hdr := map[string]any{
		"__metadata__": map[string]string{"spec_digest": s.c.prov.SpecDigest, "model": s.c.prov.Spec.Model,
			"tap": s.c.prov.Spec.Tap, "classes": string(cls), "preconv_version": s.c.prov.Version},
		"features": map[string]any{"dtype": dt, "shape": append([]int{s.Len()}, s.c.prov.Spec.FeatureShape...),
			"data_offsets": []int64{0, featBytes}},
		"labels": map[string]any{"dtype": "I64", "shape": []int{s.Len()}, "data_offsets": []int64{featBytes, featBytes + 8*n}},
	}
	js, _ := json.Marshal(hdr)
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	binary.Write(bw, binary.LittleEndian, uint64(len(js)))
	bw.Write(js)
	var raw []byte
	err := s.streamRows(ctx, func(rows []float32) error {
		raw = growBytes(raw, len(rows)*isz)
		encodeF32(raw, rows, descr)
		_, err := bw.Write(raw)
		return err
	})
	if err != nil {
		return err
	}
	var lb [8]byte
	for i := 0; i < s.Len(); i++ {
		binary.LittleEndian.PutUint64(lb[:], uint64(int64(s.Label(i))))
		bw.Write(lb[:])
	}
	return bw.Flush()
}
