package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/x448/float16"
)

// Benchmarks take real features from STORE_BENCH_FEATURES=path.npy (<f4 or
// <f2, shape (N, ...)), e.g. VGG16 `features` maps or MobileNetV2 taps of real
// photos. Without it they use benchFeatures' synthetic stand-in, which is only
// a proxy: compression ratios on it are not the acceptance numbers.
//
//	STORE_BENCH_FEATURES=vgg16.npy go test ./store -run '^$' -bench . -benchtime 3x

// benchFeatures returns the features to benchmark on and their shape.
func benchFeatures(b *testing.B) ([]float32, []int, string) {
	b.Helper()
	if p := os.Getenv("STORE_BENCH_FEATURES"); p != "" {
		data, shape, err := readNPY(p)
		if err != nil {
			b.Fatalf("STORE_BENCH_FEATURES: %v", err)
		}
		return data, shape, filepath.Base(p)
	}
	return syntheticFeatures(128, 512, 7, 7), []int{128, 512, 7, 7}, "synthetic"
}

// syntheticFeatures imitates post-ReLU conv maps: each channel has a
// log-normal strength and a smooth spatial bump; values below a threshold
// are zero (~75% zeros), the rest carry mantissa noise.
func syntheticFeatures(n, c, h, w int) []float32 {
	rng := rand.New(rand.NewPCG(42, 7))
	out := make([]float32, n*c*h*w)
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			s := math.Exp(rng.NormFloat64()*1.2) - 1.6
			cy, cx := rng.Float64()*float64(h), rng.Float64()*float64(w)
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					d := (float64(y)-cy)*(float64(y)-cy) + (float64(x)-cx)*(float64(x)-cx)
					v := s*math.Exp(-d/8) + rng.NormFloat64()*0.3
					if v > 0 {
						out[((i*c+ch)*h+y)*w+x] = float32(v)
					}
				}
			}
		}
	}
	return out
}

var npyHeader = regexp.MustCompile(`'descr':\s*'([<|][fi][248])'.*'fortran_order':\s*False.*'shape':\s*\(([0-9, ]*)\)`)

// readNPY reads a little-endian float32/float16 C-order .npy file.
func readNPY(p string) ([]float32, []int, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, nil, err
	}
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return nil, nil, fmt.Errorf("%s: not a .npy file", p)
	}
	var hl, off int
	if b[6] == 1 {
		hl, off = int(binary.LittleEndian.Uint16(b[8:])), 10
	} else {
		hl, off = int(binary.LittleEndian.Uint32(b[8:])), 12
	}
	if off+hl > len(b) {
		return nil, nil, fmt.Errorf("%s: truncated header", p)
	}
	m := npyHeader.FindStringSubmatch(string(b[off : off+hl]))
	if m == nil || (m[1] != "<f4" && m[1] != "<f2") {
		return nil, nil, fmt.Errorf("%s: need a C-order <f4 or <f2 array, header %q", p, b[off:off+hl])
	}
	var shape []int
	n := 1
	for _, f := range strings.Split(m[2], ",") {
		if f = strings.TrimSpace(f); f != "" {
			d, _ := strconv.Atoi(f)
			shape = append(shape, d)
			n *= d
		}
	}
	isz := map[string]int{"<f4": 4, "<f2": 2}[m[1]]
	raw := b[off+hl:]
	if len(raw) != n*isz || len(shape) < 2 {
		return nil, nil, fmt.Errorf("%s: %d data bytes for shape %v", p, len(raw), shape)
	}
	out := make([]float32, n)
	decodeF32(out, raw, m[1])
	return out, shape, nil
}

func benchItems(n int) []ItemRef {
	items := make([]ItemRef, n)
	for i := range items {
		items[i] = ItemRef{Key: sha(fmt.Sprintf("bench-%d", i)), Path: fmt.Sprintf("img%d.jpg", i), Label: i % 2, Split: "train"}
	}
	return items
}

// writeBenchStore writes data into a fresh store and returns its dir and the
// compressed size of its features chunks.
func writeBenchStore(b *testing.B, dir string, data []float32, shape []int, dtype string, level int) int64 {
	spec := testSpec(dtype, shape[1:]...)
	n, e := shape[0], len(data)/shape[0]
	w, plan, err := Prepare(context.Background(), dir, spec, []string{"a", "b"}, benchItems(n), WithLevel(level))
	if err != nil {
		b.Fatal(err)
	}
	for lo := 0; lo < len(plan.Todo); lo += 32 {
		hi := min(lo+32, len(plan.Todo))
		if err := w.Put(plan.Todo[lo:hi], data[plan.Todo[lo]*e:plan.Todo[hi-1]*e+e]); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		b.Fatal(err)
	}
	w.Close()
	var sz int64
	ents, _ := os.ReadDir(filepath.Join(dir, featuresDir))
	for _, en := range ents {
		if fi, _ := en.Info(); en.Name() != ".zarray" {
			sz += fi.Size()
		}
	}
	return sz
}

var benchConfigs = []struct {
	dtype string
	level int
}{{"f32", 1}, {"f32", 3}, {"f32", 9}, {"f16", 1}, {"f16", 3}, {"f16", 9}}

// BenchmarkStore_Write: Prepare+Put+Commit of all features (fsync included).
// MB/s counts float32 input bytes; x_smaller_vs_f32 is raw float32 size over
// compressed chunk size.
func BenchmarkStore_Write(b *testing.B) {
	data, shape, _ := benchFeatures(b)
	raw := int64(len(data)) * 4
	b.Run("raw_npy", func(b *testing.B) {
		b.SetBytes(raw)
		buf := make([]byte, raw)
		cpu := startCPU()
		for i := 0; i < b.N; i++ {
			encodeF32(buf, data, "<f4")
			if err := WriteFileAtomic(filepath.Join(b.TempDir(), "f.npy"), buf); err != nil {
				b.Fatal(err)
			}
		}
		cpu.report(b, raw)
		b.ReportMetric(1, "x_smaller_vs_f32")
	})
	for _, c := range benchConfigs {
		b.Run(fmt.Sprintf("%s_zstd%d", c.dtype, c.level), func(b *testing.B) {
			b.SetBytes(raw)
			b.ReportAllocs()
			var sz int64
			cpu := startCPU()
			for i := 0; i < b.N; i++ {
				sz = writeBenchStore(b, b.TempDir(), data, shape, c.dtype, c.level)
			}
			cpu.report(b, raw)
			b.ReportMetric(float64(raw)/float64(sz), "x_smaller_vs_f32")
		})
	}
}

// BenchmarkStore_ReadChunk: read file + checksum + decompress + convert to
// float32 of one chunk on one goroutine, the store's inner read loop. MB/s counts decoded float32 bytes.
func BenchmarkStore_ReadChunk(b *testing.B) {
	data, shape, _ := benchFeatures(b)
	b.Run("raw_npy", func(b *testing.B) {
		p := filepath.Join(b.TempDir(), "f.npy")
		buf := make([]byte, len(data)*4)
		encodeF32(buf, data, "<f4")
		os.WriteFile(p, buf, 0o644)
		out := make([]float32, len(data))
		b.SetBytes(int64(len(data)) * 4)
		b.ResetTimer()
		cpu := startCPU()
		for i := 0; i < b.N; i++ {
			raw, _ := os.ReadFile(p)
			decodeF32(out, raw, "<f4")
		}
		cpu.report(b, int64(len(data))*4)
	})
	for _, c := range benchConfigs {
		b.Run(fmt.Sprintf("%s_zstd%d", c.dtype, c.level), func(b *testing.B) {
			dir := b.TempDir()
			writeBenchStore(b, dir, data, shape, c.dtype, c.level)
			s, err := Open(dir, WithWorkers(0))
			if err != nil {
				b.Fatal(err)
			}
			nc := s.c.prov.Chunks
			b.SetBytes(int64(s.c.rows*s.c.rowElems) * 4)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startCPU()
			out := make([]float32, s.c.rows*s.c.rowElems)
			for i := 0; i < b.N; i++ {
				raw, err := s.c.load(i % nc)
				if err != nil {
					b.Fatal(err)
				}
				decodeF32(out, raw, s.c.meta.DType)
			}
			cpu.report(b, int64(s.c.rows*s.c.rowElems)*4)
		})
	}
}

// BenchmarkStore_RandomBatches: training-style access, mini-batches of 64 in
// EpochOrder with Prefetch, cache budget of 4 chunks (so nearly every chunk
// is decompressed once per epoch). MB/s counts float32 bytes delivered.
func BenchmarkStore_RandomBatches(b *testing.B) {
	data, shape, _ := benchFeatures(b)
	for _, c := range []struct {
		dtype   string
		level   int
		workers int
	}{{"f32", 3, 0}, {"f16", 3, 0}, {"f16", 3, 1}, {"f16", 3, 2}} {
		b.Run(fmt.Sprintf("%s_zstd%d_workers%d", c.dtype, c.level, c.workers), func(b *testing.B) {
			dir := b.TempDir()
			writeBenchStore(b, dir, data, shape, c.dtype, c.level)
			s0, _ := Open(dir)
			chunkBytes := int64(s0.c.meta.ChunkBytes())
			s, err := Open(dir, WithWorkers(c.workers), WithReadahead(2), WithCacheBytes(4*chunkBytes))
			if err != nil {
				b.Fatal(err)
			}
			e := s.c.rowElems
			dst := make([]float32, 64*e)
			b.SetBytes(int64(s.Len() * e * 4))
			b.ResetTimer()
			cpu := startCPU()
			defer func() { cpu.report(b, int64(s.Len()*e*4)) }()
			for i := 0; i < b.N; i++ {
				order := s.EpochOrder(1, i)
				s.Prefetch(order)
				for lo := 0; lo < len(order); lo += 64 {
					hi := min(lo+64, len(order))
					if err := s.Read(order[lo:hi], dst[:(hi-lo)*e]); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkF16Decode isolates the half→float conversion.
func BenchmarkF16Decode(b *testing.B) {
	src := make([]byte, 2*25088)
	for i := 0; i < 25088; i++ {
		binary.LittleEndian.PutUint16(src[2*i:], float16.Fromfloat32(float32(i%97)/7).Bits())
	}
	dst := make([]float32, 25088)
	b.SetBytes(int64(len(dst)) * 4)
	cpu := startCPU()
	for i := 0; i < b.N; i++ {
		decodeF32(dst, src, "<f2")
	}
	cpu.report(b, int64(len(dst))*4)
}

// cpuClock measures this process's CPU time (user+sys, all threads): the
// machines benchmarks run on are shared, so wall-clock MB/s understates what
// one core does. cpu_MB/s = bytes per CPU-second.
type cpuClock struct{ start time.Duration }

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{cpuNow()} }

func (c cpuClock) report(b *testing.B, bytesPerOp int64) {
	d := cpuNow() - c.start
	if d > 0 {
		b.ReportMetric(float64(bytesPerOp)*float64(b.N)/d.Seconds()/1e6, "cpu_MB/s")
	}
}
