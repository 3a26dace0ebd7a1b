package safetensors

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/preconv/preconv/tensor"
	"github.com/x448/float16"
)

// FromTensors returns F32 entries for the map, sorted by name (so the output
// of Write is deterministic).
func FromTensors(m map[string]*tensor.Tensor) []Entry {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]Entry, 0, len(m))
	for _, n := range names {
		out = append(out, Entry{Name: n, DType: F32, Shape: m[n].Shape, F32: m[n].Data})
	}
	return out
}

// Write encodes entries (in the given order, data back to back) and the
// metadata. Float entries are written as their DType (F32 when empty; F16
// rounds to nearest even), integer entries (I64 set) as I64 or I32. Names
// must be unique and not "__metadata__", and values must match the shape;
// otherwise Write returns an error before writing anything.
func Write(w io.Writer, entries []Entry, metadata map[string]string) error {
	hdr := map[string]any{}
	if len(metadata) > 0 {
		hdr["__metadata__"] = metadata
	}
	var off int64
	for i := range entries {
		e := &entries[i]
		dt := e.DType
		if dt == "" {
			dt = F32
			if e.I64 != nil {
				dt = I64
			}
		}
		n := tensor.Numel(e.Shape)
		switch {
		case dt == F32 || dt == F16:
			if len(e.F32) != n {
				return fmt.Errorf("safetensors: tensor %q: %d values for shape %v", e.Name, len(e.F32), e.Shape)
			}
		case dt == I64 || dt == I32:
			if len(e.I64) != n {
				return fmt.Errorf("safetensors: tensor %q: %d values for shape %v", e.Name, len(e.I64), e.Shape)
			}
		default:
			return fmt.Errorf("safetensors: tensor %q: cannot write dtype %q: %w", e.Name, dt, ErrDType)
		}
		if e.Name == "__metadata__" {
			return fmt.Errorf("safetensors: reserved tensor name %q", e.Name)
		}
		if _, dup := hdr[e.Name]; dup {
			return fmt.Errorf("safetensors: duplicate tensor name %q", e.Name)
		}
		shape := e.Shape
		if shape == nil {
			shape = []int{}
		}
		size := int64(n) * int64(dt.Size())
		hdr[e.Name] = headerEntry{DType: dt, Shape: shape, DataOffsets: []int64{off, off + size}}
		off += size
	}
	js, err := json.Marshal(hdr)
	if err != nil {
		return err
	}
	// Pad the header with spaces to a multiple of 8 bytes, as the reference writer does.
	for (len(js))%8 != 0 {
		js = append(js, ' ')
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(js)))
	bw.Write(lenBuf[:])
	bw.Write(js)
	var b [8]byte
	le := binary.LittleEndian
	for i := range entries {
		e := &entries[i]
		dt := hdr[e.Name].(headerEntry).DType
		switch dt {
		case F32:
			for _, v := range e.F32 {
				le.PutUint32(b[:], math.Float32bits(v))
				bw.Write(b[:4])
			}
		case F16:
			for _, v := range e.F32 {
				le.PutUint16(b[:], float16.Fromfloat32(v).Bits())
				bw.Write(b[:2])
			}
		case I64:
			for _, v := range e.I64 {
				le.PutUint64(b[:], uint64(v))
				bw.Write(b[:8])
			}
		case I32:
			for _, v := range e.I64 {
				le.PutUint32(b[:], uint32(int32(v)))
				bw.Write(b[:4])
			}
		}
	}
	return bw.Flush()
}

// WriteFile writes atomically: to a temporary file in the same directory,
// fsynced, then renamed over path.
func WriteFile(path string, entries []Entry, metadata map[string]string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		os.Remove(name)
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := Write(tmp, entries, metadata); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return fmt.Errorf("%s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
