package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"

	"github.com/preconv/preconv/tensor"
	"github.com/x448/float16"
)

// MaxHeaderLen bounds the JSON header length accepted by Read (100 MB, the
// limit of the reference implementation).
const MaxHeaderLen = 100 << 20

// Entry is one tensor of a file. Exactly one of F32 and I64 holds the values:
// F32 for floating-point dtypes, I64 for integer and bool dtypes.
type Entry struct {
	Name  string
	DType DType // as stored in the file; for Write, zero means F32 (or I64 when I64 is set)
	Shape []int
	F32   []float32
	I64   []int64
}

// File is a decoded safetensors file.
type File struct {
	// Entries in file order (ascending data offset).
	Entries []Entry
	// Metadata is the "__metadata__" object (never nil after Read).
	Metadata map[string]string
	index    map[string]int
}

// Names returns the tensor names in file order.
func (f *File) Names() []string {
	out := make([]string, len(f.Entries))
	for i, e := range f.Entries {
		out[i] = e.Name
	}
	return out
}

// Entry returns the named entry.
func (f *File) Entry(name string) (*Entry, error) {
	i, ok := f.index[name]
	if !ok {
		return nil, fmt.Errorf("tensor %q: %w", name, ErrNotFound)
	}
	return &f.Entries[i], nil
}

// Tensor returns the named floating-point tensor as a float32 tensor sharing
// the File's data.
func (f *File) Tensor(name string) (*tensor.Tensor, error) {
	e, err := f.Entry(name)
	if err != nil {
		return nil, err
	}
	if !e.DType.IsFloat() {
		return nil, fmt.Errorf("tensor %q has dtype %s, want a float: %w", name, e.DType, ErrDType)
	}
	return tensor.FromData(e.F32, e.Shape...), nil
}

// Ints returns the named integer tensor's values and shape.
func (f *File) Ints(name string) ([]int64, []int, error) {
	e, err := f.Entry(name)
	if err != nil {
		return nil, nil, err
	}
	if e.DType.IsFloat() {
		return nil, nil, fmt.Errorf("tensor %q has dtype %s, want an integer: %w", name, e.DType, ErrDType)
	}
	return e.I64, e.Shape, nil
}

// Tensors returns all floating-point tensors by name.
func (f *File) Tensors() map[string]*tensor.Tensor {
	m := make(map[string]*tensor.Tensor)
	for _, e := range f.Entries {
		if e.DType.IsFloat() {
			m[e.Name] = tensor.FromData(e.F32, e.Shape...)
		}
	}
	return m
}

// ReadFile reads the safetensors file at path. Errors name the path.
func ReadFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	f, err := Read(fh, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

type headerEntry struct {
	DType       DType   `json:"dtype"`
	Shape       []int   `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// Read decodes a safetensors file of size bytes from r.
func Read(r io.ReaderAt, size int64) (*File, error) {
	if size < 8 {
		return nil, fmt.Errorf("file is %d bytes, shorter than the 8-byte header length: %w", size, ErrHeader)
	}
	var lenBuf [8]byte
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("reading header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxHeaderLen {
		return nil, fmt.Errorf("header length %d exceeds limit %d: %w", n, MaxHeaderLen, ErrHeader)
	}
	if int64(n) > size-8 {
		return nil, fmt.Errorf("header length %d exceeds file size %d: %w", n, size, ErrHeader)
	}
	hdr := make([]byte, n)
	if _, err := r.ReadAt(hdr, 8); err != nil {
		return nil, fmt.Errorf("reading header: %w", err)
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(hdr))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("header JSON: %v: %w", err, ErrHeader)
	}
	if raw == nil {
		return nil, fmt.Errorf("header is not a JSON object: %w", ErrHeader)
	}
	f := &File{Metadata: map[string]string{}, index: map[string]int{}}
	dataStart := 8 + int64(n)
	dataLen := size - dataStart
	if m, ok := raw["__metadata__"]; ok {
		if err := json.Unmarshal(m, &f.Metadata); err != nil {
			return nil, fmt.Errorf("__metadata__ must map strings to strings: %v: %w", err, ErrHeader)
		}
		if f.Metadata == nil {
			f.Metadata = map[string]string{}
		}
		delete(raw, "__metadata__")
	}
	type pending struct {
		Entry
		b, e int64
	}
	var ps []pending
	for name, msg := range raw {
		var h headerEntry
		if err := json.Unmarshal(msg, &h); err != nil {
			return nil, fmt.Errorf("tensor %q: %v: %w", name, err, ErrHeader)
		}
		es := h.DType.Size()
		if es == 0 {
			return nil, fmt.Errorf("tensor %q: dtype %q: %w", name, h.DType, ErrDType)
		}
		if h.Shape == nil {
			h.Shape = []int{}
		}
		if len(h.DataOffsets) != 2 {
			return nil, fmt.Errorf("tensor %q: data_offsets has %d values, want 2: %w", name, len(h.DataOffsets), ErrOffsets)
		}
		b, e := h.DataOffsets[0], h.DataOffsets[1]
		if b < 0 || e < b || e > dataLen {
			return nil, fmt.Errorf("tensor %q: data_offsets [%d, %d] outside the %d data bytes: %w", name, b, e, dataLen, ErrOffsets)
		}
		numel, err := tensor.CheckedNumel(h.Shape, math.MaxInt64/8)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %v: %w", name, err, ErrOffsets)
		}
		if int64(numel)*int64(es) != e-b {
			return nil, fmt.Errorf("tensor %q: %s shape %v needs %d bytes, data_offsets give %d: %w", name, h.DType, h.Shape, int64(numel)*int64(es), e-b, ErrOffsets)
		}
		ps = append(ps, pending{Entry{Name: name, DType: h.DType, Shape: h.Shape}, b, e})
	}
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].b != ps[j].b {
			return ps[i].b < ps[j].b
		}
		return ps[i].e < ps[j].e
	})
	for i := 1; i < len(ps); i++ {
		if ps[i].b < ps[i-1].e {
			return nil, fmt.Errorf("tensors %q [%d, %d] and %q [%d, %d] overlap: %w", ps[i-1].Name, ps[i-1].b, ps[i-1].e, ps[i].Name, ps[i].b, ps[i].e, ErrOffsets)
		}
	}
	for _, p := range ps {
		buf := make([]byte, p.e-p.b)
		if _, err := r.ReadAt(buf, dataStart+p.b); err != nil {
			return nil, fmt.Errorf("tensor %q: reading data: %w", p.Name, err)
		}
		en := p.Entry
		decode(&en, buf)
		f.index[en.Name] = len(f.Entries)
		f.Entries = append(f.Entries, en)
	}
	return f, nil
}

// decode converts little-endian raw bytes of e.DType into e.F32 or e.I64.
func decode(e *Entry, buf []byte) {
	le := binary.LittleEndian
	n := len(buf) / e.DType.Size()
	switch e.DType {
	case F32:
		e.F32 = make([]float32, n)
		for i := range e.F32 {
			e.F32[i] = math.Float32frombits(le.Uint32(buf[4*i:]))
		}
	case F64:
		e.F32 = make([]float32, n)
		for i := range e.F32 {
			e.F32[i] = float32(math.Float64frombits(le.Uint64(buf[8*i:])))
		}
	case F16:
		e.F32 = make([]float32, n)
		for i := range e.F32 {
			e.F32[i] = float16.Frombits(le.Uint16(buf[2*i:])).Float32()
		}
	case BF16:
		e.F32 = make([]float32, n)
		for i := range e.F32 {
			e.F32[i] = math.Float32frombits(uint32(le.Uint16(buf[2*i:])) << 16)
		}
	default:
		e.I64 = make([]int64, n)
		for i := range e.I64 {
			switch e.DType {
			case I64:
				e.I64[i] = int64(le.Uint64(buf[8*i:]))
			case I32:
				e.I64[i] = int64(int32(le.Uint32(buf[4*i:])))
			case I16:
				e.I64[i] = int64(int16(le.Uint16(buf[2*i:])))
			case I8:
				e.I64[i] = int64(int8(buf[i]))
			case U8, Bool:
				e.I64[i] = int64(buf[i])
			}
		}
	}
}
