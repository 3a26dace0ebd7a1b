package imageset

import (
	"fmt"
	"image"
	"math/rand/v2"
	"testing"

	"github.com/preconv/preconv/internal/cpu"
)

// randomImages returns images of every reader family the planar path
// meets: YCbCr 4:2:0, 4:2:2, 4:4:4, 4:4:0 (the kernel-driven planar
// reader) and 4:1:1 (converted through row), NRGBA and Gray.
func randomImages(rng *rand.Rand, w, h int) []image.Image {
	fill := func(b []uint8) {
		for i := range b {
			b[i] = uint8(rng.UintN(256))
		}
	}
	ycc := func(r image.YCbCrSubsampleRatio) *image.YCbCr {
		m := image.NewYCbCr(image.Rect(0, 0, w, h), r)
		fill(m.Y)
		fill(m.Cb)
		fill(m.Cr)
		return m
	}
	y420, y422, y444, y440 := ycc(image.YCbCrSubsampleRatio420), ycc(image.YCbCrSubsampleRatio422), ycc(image.YCbCrSubsampleRatio444), ycc(image.YCbCrSubsampleRatio440)
	y411 := ycc(image.YCbCrSubsampleRatio411) // not fancy: converted through row
	rgba := image.NewNRGBA(image.Rect(0, 0, w, h))
	fill(rgba.Pix)
	for i := 3; i < len(rgba.Pix); i += 4 {
		rgba.Pix[i] = 255
	}
	gray := image.NewGray(image.Rect(0, 0, w, h))
	fill(gray.Pix)
	return []image.Image{y420, y422, y444, y440, y411, rgba, gray}
}

// TestPlanarMatchesGo checks that the AVX-512 planar resampling path
// writes exactly the floats of the Go passes (themselves checked against
// PIL by the parity tests) over downscales of every kernel width the plan
// accepts, upscales, bicubic and nearest filters, BGR order, crops larger
// than the image, and images of several reader types.
func TestPlanarMatchesGo(t *testing.T) {
	if !haveResampleKernels() {
		t.Skip("no AVX-512 or AVX2 on this CPU: only the Go passes run here (the parity tests cover them)")
	}
	if cpu.HasAVX512VBMI() {
		t.Run("vbmi", testPlanarMatchesGo)
	}
	if cpu.HasAVX512BW() {
		t.Run("bw", func(t *testing.T) {
			defer cpu.DisableVBMI()()
			testPlanarMatchesGo(t)
		})
	}
	if cpu.HasAVX2FMA() {
		t.Run("avx2", func(t *testing.T) {
			defer cpu.DisableAVX512()()
			testPlanarMatchesGo(t)
		})
	}
}

func testPlanarMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	type tc struct {
		w, h   int
		preset string
		size   int
		interp string
		crop   int
	}
	cases := []tc{
		{500, 375, "torchvision", 256, "bilinear", 224},
		{768, 576, "torchvision", 256, "bilinear", 224},
		{1352, 900, "torchvision", 256, "bilinear", 224},
		{37, 29, "torchvision", 256, "bilinear", 224},  // upscale
		{301, 199, "torchvision", 64, "bilinear", 0},   // factor ~3.1: ks 9
		{640, 427, "torchvision", 256, "bicubic", 224}, // bicubic ks 9
		{333, 251, "keras-caffe", 224, "bilinear", 0},  // BGR, exact size
		{333, 251, "unit", 224, "nearest", 0},
		{200, 180, "torchvision", 150, "bilinear", 224},   // crop larger than the resize: padding
		{2000, 1500, "torchvision", 256, "bilinear", 224}, // factor ~5.9: the plan declines, Go runs
	}
	for _, c := range cases {
		p, err := Named(c.preset)
		if err != nil {
			t.Fatal(err)
		}
		p = p.WithSize(c.size)
		if c.crop >= 0 && p.ResizeShort > 0 {
			p = p.WithCrop(c.crop)
		}
		p.Interpolation = c.interp
		if p.OutShape()[1] == 0 {
			p = p.WithCrop(c.size)
		}
		for k, img := range randomImages(rng, c.w, c.h) {
			name := fmt.Sprintf("%dx%d %s size %d %s crop %d img %d", c.w, c.h, c.preset, c.size, c.interp, c.crop, k)
			os := p.OutShape()
			want := make([]float32, os[0]*os[1]*os[2])
			got := make([]float32, len(want))
			s := &scratch{}
			if err := p.apply(img, got, s); err != nil {
				t.Fatal(name, err)
			}
			// Reuse the scratch for a second image to catch stale buffers.
			if err := p.apply(img, got, s); err != nil {
				t.Fatal(name, err)
			}
			restore := cpu.DisableAVX2() // no kernels: the Go passes
			err := p.apply(img, want, &scratch{})
			restore()
			if err != nil {
				t.Fatal(name, err)
			}
			for i := range want {
				if want[i] != got[i] {
					t.Fatalf("%s: element %d = %v, Go path %v", name, i, got[i], want[i])
				}
			}
		}
	}
}

// TestHPlanDeclinesWideGroups: a downscale whose 16 outputs span more than
// the 64-byte window is refused (the Go passes run), never misread.
func TestHPlanDeclinesWideGroups(t *testing.T) {
	hc := pilCoeffs(2000, 300, 0, 300, "bilinear", true)
	if _, ok := buildHPlan(hc, 0, nil); ok {
		t.Fatal("plan accepted a 6.7x downscale")
	}
	hc = pilCoeffs(500, 341, 0, 341, "bilinear", true)
	if _, ok := buildHPlan(hc, 0, nil); !ok {
		t.Fatal("plan refused the 500 -> 341 resize")
	}
}
