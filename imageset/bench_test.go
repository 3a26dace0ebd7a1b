package imageset

import (
	"bufio"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/preconv/preconv/internal/cpu"
)

// cpuTime is the process's user+system CPU time. Benchmarks report img/s
// per CPU-second ("img/cpu-s") beside wall-clock img/s, because the shared
// 2-core machines are often oversubscribed and wall time then measures the
// neighbours.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportRate(b *testing.B, c0 time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "img/s")
	if c := cpuTime() - c0; c > 0 {
		b.ReportMetric(float64(b.N)/c.Seconds(), "img/cpu-s")
	}
}

// benchJPEG writes the 500x375 q90 JPEG used by the benchmark target
// (darknet's dog.jpg resized by our own "unit" preset, encoded by Go's
// image/jpeg at quality 90, 4:2:0) into dir and returns its path.
func benchJPEG(tb testing.TB, dir string) string {
	tb.Helper()
	img, err := DecodeFile("/usr/share/darknet/data/dog.jpg", 0)
	if err != nil {
		tb.Skip("needs Debian darknet photos: ", err)
	}
	p := mustPreset(tb, "unit")
	p.ResizeH, p.ResizeW = 375, 500
	x := make([]float32, 3*375*500)
	if err := p.Apply(img, x); err != nil {
		tb.Fatal(err)
	}
	out := imageFromCHW(x, 500, 375)
	path := filepath.Join(dir, "dog500x375q90.jpg")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if err := jpeg.Encode(w, out, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	w.Flush()
	f.Close()
	return path
}

// BenchmarkDecodePreprocess measures decode + torchvision preprocessing per
// image on one goroutine (img/s per core). Files: PRECONV_BENCH_FILES
// (space-separated) or the 500x375 q90 JPEG and the darknet photos. Compare
// with /work/shared/peers/pil_preprocess.py on the same files
// (testdata/bench_preprocess.sh runs both).
func BenchmarkDecodePreprocess(b *testing.B) {
	files := strings.Fields(os.Getenv("PRECONV_BENCH_FILES"))
	if len(files) == 0 {
		files = append([]string{benchJPEG(b, b.TempDir())}, must(filepath.Glob("/usr/share/darknet/data/*.jpg"))...)
	}
	pre := mustPreset(b, "torchvision")
	dst := make([]float32, 3*224*224)
	s := &scratch{}
	run := func(b *testing.B, files []string) {
		b.ReportAllocs()
		c0 := cpuTime()
		for i := 0; i < b.N; i++ {
			if err := loadOne(files[i%len(files)], pre, 0, dst, s); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, c0)
	}
	b.Run("first", func(b *testing.B) { run(b, files[:1]) })
	b.Run("all", func(b *testing.B) { run(b, files) })
	b.Run("decode-only/first", func(b *testing.B) {
		c0 := cpuTime()
		for i := 0; i < b.N; i++ {
			if _, err := DecodeFile(files[0], 0); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, c0)
	})
	// "first": the best kernels of this CPU; "avx2": those of CPUs without
	// AVX-512; "portable": the Go passes.
	keep := func() func() { return func() {} }
	for _, v := range []struct {
		name    string
		disable func() func()
	}{{"first", keep}, {"avx2", cpu.DisableAVX512}, {"portable", cpu.DisableAVX2}} {
		b.Run("preprocess-only/"+v.name, func(b *testing.B) {
			defer v.disable()()
			img, err := DecodeFile(files[0], 0)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			c0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if err := pre.apply(img, dst, s); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b, c0)
		})
	}
}

func must[T any](v T, _ error) T { return v }

// imageFromCHW turns a [0,1] CHW tensor into an 8-bit RGBA image.
func imageFromCHW(x []float32, w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for xx := 0; xx < w; xx++ {
			o := img.PixOffset(xx, y)
			for c := 0; c < 3; c++ {
				img.Pix[o+c] = uint8(x[c*w*h+y*w+xx]*255 + 0.5)
			}
			img.Pix[o+3] = 255
		}
	}
	return img
}
