package store

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// FuzzZarrMetadata: any .zarray either parses into metadata whose chunk
// fits the allocation limit, or fails with an error; never a panic.
func FuzzZarrMetadata(f *testing.F) {
	for _, p := range []string{"testdata/pyzarr/f32/.zarray", "testdata/pyzarr/f16/.zarray", "testdata/pyzarr/flat/.zarray"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"zarr_format":2,"shape":[9223372036854775807,9223372036854775807],"chunks":[4611686018427387904,2],"dtype":"<f4","compressor":{"id":"zstd","level":3},"fill_value":0,"order":"C","filters":null}`))
	f.Add([]byte(`{"zarr_format":2,"shape":[10],"chunks":[0],"dtype":"|S99999999","compressor":null,"fill_value":null,"order":"F","filters":[{"id":"delta"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseArrayMeta(data)
		if err != nil {
			return
		}
		if m.ChunkBytes() <= 0 && len(m.Chunks) > 0 {
			// zero-size chunks are fine only for zero-size dtype, which we reject
			t.Fatalf("chunk bytes %d for %+v", m.ChunkBytes(), m)
		}
		if m.ChunkBytes() > maxChunkBytes {
			t.Fatalf("accepted chunk of %d bytes", m.ChunkBytes())
		}
		_ = m.ChunkGrid()
		_ = m.ChunkKey(make([]int, len(m.Shape)))
	})
}

// FuzzChunkDecode: decompressing hostile chunk bytes is bounded by the
// expected chunk size and returns exactly that many bytes or an error.
func FuzzChunkDecode(f *testing.F) {
	for _, p := range []string{"testdata/pyzarr/f32/0.0.0", "testdata/pyzarr/f16/2.0.0", "testdata/pyzarr/flat/1.0"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, uint16(192))
		}
	}
	enc, _ := zstd.NewWriter(nil)
	f.Add(enc.EncodeAll(bytes.Repeat([]byte{0}, 1<<20), nil), uint16(100)) // declares 1 MiB, expect 100 B
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58}, uint16(8))
	f.Fuzz(func(t *testing.T, data []byte, want uint16) {
		c, err := newCodec(0, int(want))
		if err != nil {
			t.Fatal(err)
		}
		defer c.dec.Close()
		out, err := c.decompress(nil, data, int(want), true)
		if err != nil {
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("error not ErrDamaged: %v", err)
			}
			return
		}
		if len(out) != int(want) {
			t.Fatalf("decoded %d bytes, want %d", len(out), want)
		}
		if cap(out) > int(want)+(1<<20)+64 {
			t.Fatalf("allocated %d bytes for a %d-byte chunk", cap(out), want)
		}
	})
}

// FuzzChunkIndex: a hostile .preconv/chunks/N.json is rejected or yields an
// entry whose sizes are within limits.
func FuzzChunkIndex(f *testing.F) {
	f.Add([]byte(`{"file":"features/0.0","spec":"x","dtype":"<f2","row_elems":6,"rows":4,"keys":["a","b"],"failed":{"1":"bad jpeg"},"sha256":"00","size":10}`))
	f.Add([]byte(`{"file":"../../etc/passwd","dtype":"<f4","row_elems":1,"rows":1,"size":1}`))
	f.Add([]byte(`{"file":"f","dtype":"<f4","row_elems":9223372036854775807,"rows":9223372036854775807}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := t.TempDir() + "/0.json"
		os.WriteFile(p, data, 0o644)
		ci, err := readChunkInfo(p)
		if err != nil {
			return
		}
		if int64(ci.Rows)*int64(ci.RowElems) > maxChunkBytes/2 || len(ci.Keys) > ci.Rows {
			t.Fatalf("accepted %+v", ci)
		}
	})
}

// FuzzRecords: records.jsonl is rejected unless it holds exactly the
// expected records in order.
func FuzzRecords(f *testing.F) {
	f.Add([]byte("{\"i\":0,\"path\":\"a.jpg\",\"key\":\"k\",\"label\":1,\"split\":\"train\"}\n{\"i\":1,\"path\":\"b.jpg\",\"key\":\"k2\",\"label\":0,\"split\":\"valid\",\"failed\":\"x\"}\n"), 2)
	f.Add([]byte("{\"i\":5}\n"), 1)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		p := t.TempDir() + "/r.jsonl"
		os.WriteFile(p, data, 0o644)
		recs, err := readRecords(p, n)
		if err != nil {
			return
		}
		if len(recs) != n {
			t.Fatalf("%d records, want %d", len(recs), n)
		}
	})
}
