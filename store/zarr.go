package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	"github.com/klauspost/compress/zstd"
	"github.com/x448/float16"
)

// Limits on what a .zarray may ask for. A chunk is decompressed into one
// buffer of at most maxChunkBytes; metadata files are at most maxMetaBytes.
const (
	maxDims       = 8
	maxChunkBytes = 1 << 30
	maxMetaBytes  = 1 << 20
	maxElements   = int64(1) << 50
)

// Codec is a Zarr v2 compressor entry. Only {"id":"zstd","level":L} and a
// null compressor are read and written.
type Codec struct {
	ID    string `json:"id"`
	Level int    `json:"level"`
}

// ArrayMeta is the content of a Zarr v2 .zarray file.
type ArrayMeta struct {
	ZarrFormat         int               `json:"zarr_format"`
	Shape              []int             `json:"shape"`
	Chunks             []int             `json:"chunks"`
	DType              string            `json:"dtype"`
	Compressor         *Codec            `json:"compressor"`
	FillValue          any               `json:"fill_value"`
	Order              string            `json:"order"`
	Filters            []json.RawMessage `json:"filters"`
	DimensionSeparator string            `json:"dimension_separator,omitempty"`
}

// itemSize returns the byte size of one element of dtype, or an error for
// dtypes this package does not handle: <f4, <f2, <i4, <i8, |u1 and |Sn.
func itemSize(dtype string) (int, error) {
	switch dtype {
	case "<f4", "<i4":
		return 4, nil
	case "<f2":
		return 2, nil
	case "<i8", "<f8":
		return 8, nil
	case "|u1", "|i1", "|b1":
		return 1, nil
	}
	if strings.HasPrefix(dtype, "|S") {
		n, err := strconv.Atoi(dtype[2:])
		if err == nil && n > 0 && n <= 4096 {
			return n, nil
		}
	}
	return 0, fmt.Errorf("dtype %q: %w", dtype, ErrUnsupported)
}

// ParseArrayMeta parses and validates a .zarray document. It rejects shapes
// and chunks beyond the allocation limits, so a hostile file cannot make a
// reader allocate unboundedly.
func ParseArrayMeta(data []byte) (*ArrayMeta, error) {
	if len(data) > maxMetaBytes {
		return nil, fmt.Errorf(".zarray is %d bytes: %w", len(data), ErrTooLarge)
	}
	var m ArrayMeta
	d := json.NewDecoder(bytes.NewReader(data))
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf(".zarray: %v: %w", err, ErrFormat)
	}
	if m.ZarrFormat != 2 {
		return nil, fmt.Errorf(".zarray: zarr_format %d, want 2: %w", m.ZarrFormat, ErrUnsupported)
	}
	if len(m.Shape) == 0 || len(m.Shape) > maxDims || len(m.Chunks) != len(m.Shape) {
		return nil, fmt.Errorf(".zarray: shape %v chunks %v: need 1..%d matching dimensions: %w", m.Shape, m.Chunks, maxDims, ErrFormat)
	}
	isz, err := itemSize(m.DType)
	if err != nil {
		return nil, fmt.Errorf(".zarray: %w", err)
	}
	total, chunk := int64(1), int64(isz)
	for i := range m.Shape {
		s, c := m.Shape[i], m.Chunks[i]
		if s < 0 || c <= 0 {
			return nil, fmt.Errorf(".zarray: shape %v chunks %v: %w", m.Shape, m.Chunks, ErrFormat)
		}
		if s != 0 && total > maxElements/int64(s) {
			return nil, fmt.Errorf(".zarray: shape %v: %w", m.Shape, ErrTooLarge)
		}
		total *= int64(s)
		if chunk > maxChunkBytes/int64(c) {
			return nil, fmt.Errorf(".zarray: chunks %v of %s exceed %d bytes: %w", m.Chunks, m.DType, maxChunkBytes, ErrTooLarge)
		}
		chunk *= int64(c)
	}
	if m.Order != "C" {
		return nil, fmt.Errorf(".zarray: order %q: %w", m.Order, ErrUnsupported)
	}
	if len(m.Filters) > 0 {
		return nil, fmt.Errorf(".zarray: filters: %w", ErrUnsupported)
	}
	if m.Compressor != nil && m.Compressor.ID != "zstd" {
		return nil, fmt.Errorf(".zarray: compressor %q (only zstd or null): %w", m.Compressor.ID, ErrUnsupported)
	}
	switch m.DimensionSeparator {
	case "":
		m.DimensionSeparator = "."
	case ".", "/":
	default:
		return nil, fmt.Errorf(".zarray: dimension_separator %q: %w", m.DimensionSeparator, ErrFormat)
	}
	return &m, nil
}

// ChunkBytes is the decompressed size of one (full, padded) chunk.
func (m *ArrayMeta) ChunkBytes() int {
	n, _ := itemSize(m.DType)
	for _, c := range m.Chunks {
		n *= c
	}
	return n
}

// ChunkGrid is the number of chunks along each dimension.
func (m *ArrayMeta) ChunkGrid() []int {
	g := make([]int, len(m.Shape))
	for i := range g {
		g[i] = (m.Shape[i] + m.Chunks[i] - 1) / m.Chunks[i]
	}
	return g
}

// ChunkKey is the chunk file name for chunk coordinates, e.g. "3.0.0.0".
func (m *ArrayMeta) ChunkKey(coords []int) string {
	sep := m.DimensionSeparator
	if sep == "" {
		sep = "."
	}
	parts := make([]string, len(coords))
	for i, c := range coords {
		parts[i] = strconv.Itoa(c)
	}
	return strings.Join(parts, sep)
}

// rowChunkKey is the key of chunk c along dimension 0 (other coordinates 0).
func (m *ArrayMeta) rowChunkKey(c int) string {
	coords := make([]int, len(m.Shape))
	coords[0] = c
	return m.ChunkKey(coords)
}

// codec compresses and decompresses chunks. Both halves are safe for
// concurrent use.
type codec struct {
	level int // 0: no compression
	enc   *zstd.Encoder
	dec   *zstd.Decoder
}

func newCodec(level int, maxBytes int) (*codec, error) {
	c := &codec{level: level}
	var err error
	if level > 0 {
		c.enc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)),
			zstd.WithEncoderConcurrency(1), zstd.WithZeroFrames(true), zstd.WithSingleSegment(true),
			zstd.WithEncoderCRC(true))
		if err != nil {
			return nil, err
		}
	}
	// A frame never needs a window larger than the chunk; the floor covers
	// encoders that declare a default window for small inputs.
	win := uint64(1 << 20)
	for win < uint64(maxBytes) {
		win <<= 1
	}
	c.dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0),
		zstd.WithDecoderMaxMemory(max(uint64(maxBytes)+1, win)), zstd.WithDecoderMaxWindow(win))
	return c, err
}

// frameHasChecksum reports whether a zstd frame declares a content checksum.
func frameHasChecksum(b []byte) bool {
	var h zstd.Header
	return h.Decode(b) == nil && h.HasCheckSum
}

// compress returns the chunk file bytes for raw (with a content checksum,
// which decoders verify). zstd frames carry the
// content size: they are single-segment frames, because numcodecs 0.11's
// Zstd codec cannot decode frames without it.
func (c *codec) compress(raw []byte) []byte {
	if c.enc == nil {
		return append([]byte(nil), raw...)
	}
	return c.enc.EncodeAll(raw, make([]byte, 0, len(raw)/4+64))
}

// decompress decodes a chunk file into dst[:want], refusing frames that
// declare or produce more than want bytes. compressed=false copies raw bytes.
func (c *codec) decompress(dst, src []byte, want int, compressed bool) ([]byte, error) {
	if !compressed {
		if len(src) != want {
			return nil, fmt.Errorf("uncompressed chunk is %d bytes, want %d: %w", len(src), want, ErrDamaged)
		}
		return append(dst[:0], src...), nil
	}
	var h zstd.Header
	if err := h.Decode(src); err != nil {
		return nil, fmt.Errorf("zstd header: %v: %w", err, ErrDamaged)
	}
	if h.HasFCS && h.FrameContentSize > uint64(want) {
		return nil, fmt.Errorf("zstd frame declares %d bytes, chunk holds %d: %w", h.FrameContentSize, want, ErrDamaged)
	}
	if cap(dst) < want {
		dst = make([]byte, 0, want)
	}
	out, err := c.dec.DecodeAll(src, dst[:0])
	if err != nil {
		return nil, fmt.Errorf("zstd: %v: %w", err, ErrDamaged)
	}
	if len(out) != want {
		return nil, fmt.Errorf("chunk decodes to %d bytes, want %d: %w", len(out), want, ErrDamaged)
	}
	return out, nil
}

// f16Table maps every binary16 bit pattern to its float32 value; read-only
// after init.
var f16Table = func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = float16.Frombits(uint16(i)).Float32()
	}
	return &t
}()

// encodeF32 writes src as little-endian dtype ("<f4" or "<f2") into dst.
func encodeF32(dst []byte, src []float32, dtype string) {
	if dtype == "<f2" {
		for i, v := range src {
			binary.LittleEndian.PutUint16(dst[2*i:], float16.Fromfloat32(v).Bits())
		}
		return
	}
	if nativeLittleEndian && len(src) > 0 {
		copy(dst[:4*len(src)], unsafe.Slice((*byte)(unsafe.Pointer(&src[0])), 4*len(src)))
		return
	}
	for i, v := range src {
		binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
	}
}

// decodeF32 converts little-endian "<f4"/"<f2" bytes into dst.
func decodeF32(dst []float32, src []byte, dtype string) {
	if dtype == "<f2" {
		t := f16Table
		src = src[:2*len(dst)]
		for i := range dst {
			dst[i] = t[binary.LittleEndian.Uint16(src[2*i:])]
		}
		return
	}
	src = src[:4*len(dst)]
	if nativeLittleEndian && len(dst) > 0 {
		// Same bytes in memory: a plain byte copy into dst's storage.
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), len(src)), src)
		return
	}
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

// nativeLittleEndian is true on little-endian hosts (read-only).
var nativeLittleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// Array is a read-only Zarr v2 array in a directory (any writer, e.g. Python
// zarr with numcodecs.Zstd), for interop and tests. Missing chunks read as the
// fill value (0), as in zarr.
type Array struct {
	Dir   string
	Meta  *ArrayMeta
	codec *codec
}

// OpenArray reads dir/.zarray.
func OpenArray(dir string) (*Array, error) {
	p := filepath.Join(dir, ".zarray")
	b, err := readLimited(p, maxMetaBytes)
	if err != nil {
		return nil, err
	}
	m, err := ParseArrayMeta(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	c, err := newCodec(0, m.ChunkBytes())
	if err != nil {
		return nil, err
	}
	return &Array{Dir: dir, Meta: m, codec: c}, nil
}

// ReadChunkBytes returns the decompressed bytes of the chunk at coords (a
// full, padded chunk).
func (a *Array) ReadChunkBytes(coords []int) ([]byte, error) {
	key := a.Meta.ChunkKey(coords)
	p := filepath.Join(a.Dir, filepath.FromSlash(key))
	want := a.Meta.ChunkBytes()
	src, err := readLimited(p, int64(want)+(1<<16)+int64(want)/8)
	if errors.Is(err, fs.ErrNotExist) {
		return make([]byte, want), nil
	}
	if err != nil {
		return nil, err
	}
	out, err := a.codec.decompress(nil, src, want, a.Meta.Compressor != nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return out, nil
}

// ReadFloat32 reads the whole array (a float dtype, chunked along dimension 0
// only) as float32, row-major. Meant for small arrays and tests.
func (a *Array) ReadFloat32() ([]float32, error) {
	m := a.Meta
	if m.DType != "<f4" && m.DType != "<f2" {
		return nil, fmt.Errorf("%s: dtype %s is not float: %w", a.Dir, m.DType, ErrUnsupported)
	}
	for i := 1; i < len(m.Shape); i++ {
		if m.Chunks[i] != m.Shape[i] {
			return nil, fmt.Errorf("%s: chunked along dimension %d: %w", a.Dir, i, ErrUnsupported)
		}
	}
	row := 1
	for _, s := range m.Shape[1:] {
		row *= s
	}
	out := make([]float32, m.Shape[0]*row)
	isz, _ := itemSize(m.DType)
	for c := 0; c < m.ChunkGrid()[0]; c++ {
		coords := make([]int, len(m.Shape))
		coords[0] = c
		raw, err := a.ReadChunkBytes(coords)
		if err != nil {
			return nil, err
		}
		lo := c * m.Chunks[0]
		hi := min(lo+m.Chunks[0], m.Shape[0])
		decodeF32(out[lo*row:hi*row], raw[:(hi-lo)*row*isz], m.DType)
	}
	return out, nil
}

// readLimited reads a whole file, failing with ErrTooLarge past limit bytes.
// Regular files are read into one exact-size buffer.
func readLimited(path string, limit int64) ([]byte, error) {
	return readFileInto(path, limit, nil)
}

// readFileInto is readLimited reusing buf when its capacity suffices.
func readFileInto(path string, limit int64, buf []byte) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		if fi.Size() > limit {
			return nil, fmt.Errorf("%s: %d bytes, more than %d: %w", path, fi.Size(), limit, ErrTooLarge)
		}
		b := buf[:0]
		if int64(cap(b)) < fi.Size()+1 {
			b = make([]byte, fi.Size()+1)
		}
		b = b[:fi.Size()+1]
		n, err := io.ReadFull(f, b)
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return b[:n], nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		// The file grew while reading: fall through to the bounded read.
		f.Seek(0, io.SeekStart)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes: %w", path, limit, ErrTooLarge)
	}
	return b, nil
}

// WriteFileAtomic writes data to path through a temporary file
// ".tmp-<name>-*" in the same directory (the name every store reader,
// push and the server skip), fsync and rename, then fsyncs the directory.
// On error path is unchanged and the temporary file is removed. The
// directory must exist.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
