// Command realfeat writes real CNN activations of real photos to a .npy file,
// the input of store's benchmarks (STORE_BENCH_FEATURES). It runs the
// ImageNet-derived MobileNetV2 of npm nsfwjs@4.4.0 (scripts/fetch-nsfwjs.sh)
// up to a tap over the given photos, several crops/flips each.
//
//	go run ./store/internal/realfeat -out /tmp/mnv2.npy /usr/share/darknet/data/*.jpg
//
// It lives under store/internal so package store does not import model.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/preconv/preconv/model/tfjs"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/tensor"
	"golang.org/x/image/draw"
)

func main() {
	home, _ := os.UserHomeDir()
	modelDir := flag.String("model", filepath.Join(home, ".cache/preconv/nsfwjs-4.4.0/mobilenet_v2"), "TF.js model dir")
	tap := flag.String("tap", "block_13_expand_relu", "layer to tap")
	out := flag.String("out", "features.npy", "output .npy (float32)")
	views := flag.Int("views", 4, "crops/flips per photo (1..8)")
	threads := flag.Int("threads", 2, "threads")
	flag.Parse()
	if err := run(*modelDir, *tap, *out, *views, *threads, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "realfeat:", err)
		os.Exit(1)
	}
}

func run(modelDir, tap, out string, views, threads int, photos []string) error {
	g, err := tfjs.Load(modelDir, tfjs.Options{})
	if err != nil {
		return err
	}
	e := &nn.Exec{Threads: threads}
	var feats []float32
	var shape []int
	n := 0
	for _, p := range photos {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		img, _, err := image.Decode(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(os.Stderr, "skip %s: %v\n", p, err)
			continue
		}
		for v := 0; v < views; v++ {
			x := view(img, v, 224)
			y, err := g.Forward(e, x, tap)
			if err != nil {
				return err
			}
			shape = y.Shape[1:]
			feats = append(feats, y.Data...)
			n++
			fmt.Fprintf(os.Stderr, "%s view %d: %v\n", filepath.Base(p), v, y.Shape)
		}
	}
	if n == 0 {
		return fmt.Errorf("no photos decoded")
	}
	return writeNPY(out, feats, append([]int{n}, shape...))
}

// view returns crop/flip v of img as a (1,3,s,s) tensor in [0,1].
func view(img image.Image, v, s int) *tensor.Tensor {
	b := img.Bounds()
	side := min(b.Dx(), b.Dy())
	scale := []float64{1, 0.8, 0.9, 0.7}[v%4]
	cs := int(float64(side) * scale)
	ox := b.Min.X + (b.Dx()-cs)*[]int{1, 0, 2, 1}[v%4]/2
	oy := b.Min.Y + (b.Dy()-cs)*[]int{1, 0, 2, 2}[v%4]/2
	dst := image.NewRGBA(image.Rect(0, 0, s, s))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, image.Rect(ox, oy, ox+cs, oy+cs), draw.Src, nil)
	x := tensor.New(1, 3, s, s)
	for yy := 0; yy < s; yy++ {
		for xx := 0; xx < s; xx++ {
			sx := xx
			if v >= 4 {
				sx = s - 1 - xx
			}
			o := dst.PixOffset(sx, yy)
			for c := 0; c < 3; c++ {
				x.Data[(c*s+yy)*s+xx] = float32(dst.Pix[o+c]) / 255
			}
		}
	}
	return x
}

func writeNPY(path string, data []float32, shape []int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	hdr := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", strings.Join(dims, ", "))
	hdr += strings.Repeat(" ", (64-(10+len(hdr)+1)%64)%64) + "\n"
	w := bufio.NewWriter(f)
	w.WriteString("\x93NUMPY\x01\x00")
	binary.Write(w, binary.LittleEndian, uint16(len(hdr)))
	w.WriteString(hdr)
	var b [4]byte
	for _, v := range data {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		w.Write(b[:])
	}
	return w.Flush()
}
