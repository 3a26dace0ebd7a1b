package imageset

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"strconv"
	"strings"
)

// ErrAugment means an augmentation spec is invalid (unknown op, parameter
// out of range, malformed JSON).
var ErrAugment = errors.New("bad augmentation spec")

// AugmentVersion identifies the augmentation algorithms (random draws and
// pixel arithmetic). It is part of Augment's canonical JSON, so a change of
// algorithm changes the content keys of augmented views.
const AugmentVersion = 1

// AugOp is one augmentation step. Only the fields of its Op are used; the
// others must be zero. Zero parameters take the defaults given per op.
//
//   - "flip": horizontal flip with probability P (default 0.5), as
//     torchvision RandomHorizontalFlip.
//   - "crop": random resized crop, as torchvision RandomResizedCrop.get_params:
//     up to 10 tries of area fraction in Scale (default [0.08, 1]) and aspect
//     ratio log-uniform in Ratio (default [3/4, 4/3]), else the central crop
//     clamped to Ratio. The crop is cut from the decoded image (exact integer
//     box); the preprocessing then resizes it to the output size, so with an
//     exact-resize preprocessing ("unit", "keras-tf") this is
//     RandomResizedCrop(size) exactly, and with "torchvision" the crop goes
//     through Resize(256)+CenterCrop(224).
//   - "rotate": rotation by an angle uniform in [-Degrees, Degrees] (default
//     10) counter-clockwise about the image centre, nearest neighbour, same
//     size, black fill: torchvision RandomRotation(Degrees) on a PIL image
//     (PIL Image.rotate's affine mapping).
//   - "jitter": colour jitter, as torchvision ColorJitter(Brightness,
//     Contrast, Saturation) on a uint8 tensor: factors uniform in
//     [max(0, 1-x), 1+x], applied in a random order; brightness
//     clamp(f·v), contrast blend with the mean of the grayscale image,
//     saturation blend with the grayscale image (0.2989 R + 0.587 G + 0.114 B,
//     truncated to uint8), float32 arithmetic truncated to uint8. All three
//     zero means 0.4 each.
type AugOp struct {
	Op         string     `json:"op"`
	P          float64    `json:"p,omitempty"`
	Scale      [2]float64 `json:"scale,omitzero"`
	Ratio      [2]float64 `json:"ratio,omitzero"`
	Degrees    float64    `json:"degrees,omitempty"`
	Brightness float64    `json:"brightness,omitempty"`
	Contrast   float64    `json:"contrast,omitempty"`
	Saturation float64    `json:"saturation,omitempty"`
}

// Augment is a sequence of augmentation steps applied, in order, to the
// decoded image before preprocessing. json.Marshal of a normalized Augment
// (ParseAugment returns one) is its canonical form, part of the content key of
// every augmented view. The zero value (no ops) is "no augmentation".
type Augment struct {
	Version int     `json:"version"`
	Ops     []AugOp `json:"ops"`
}

// IsZero reports whether a has no ops.
func (a Augment) IsZero() bool { return len(a.Ops) == 0 }

// Key returns the canonical JSON of a ("" when a has no ops).
func (a Augment) Key() string {
	if a.IsZero() {
		return ""
	}
	b, _ := json.Marshal(a)
	return string(b)
}

// String is the shorthand of a's op names ("flip,crop").
func (a Augment) String() string {
	n := make([]string, len(a.Ops))
	for i, o := range a.Ops {
		n[i] = o.Op
	}
	return strings.Join(n, ",")
}

// AugOps lists the op names ParseAugment accepts.
func AugOps() []string { return []string{"flip", "crop", "rotate", "jitter"} }

// ParseAugment reads an augmentation spec: "" or "none" (no augmentation), a
// comma-separated list of op names with torchvision defaults ("flip,crop"),
// each optionally with one parameter ("flip=1" probability, "crop=0.5" the
// smallest area fraction, "rotate=15" degrees, "jitter=0.2" for all three
// colour factors), or the JSON form {"ops":[{"op":"crop","scale":[0.5,1]},…]}
// (unknown fields are an error). The result is normalized (defaults filled
// in) and validated; errors wrap ErrAugment.
func ParseAugment(s string) (Augment, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return Augment{}, nil
	}
	var a Augment
	if strings.HasPrefix(s, "{") {
		dec := json.NewDecoder(bytes.NewReader([]byte(s)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			return Augment{}, fmt.Errorf("augment JSON: %v: %w", err, ErrAugment)
		}
		if a.Version == 0 {
			a.Version = AugmentVersion
		}
	} else {
		a.Version = AugmentVersion
		for _, f := range strings.Split(s, ",") {
			name, val, hasVal := strings.Cut(strings.TrimSpace(f), "=")
			op := AugOp{Op: name}
			if hasVal {
				v, err := strconv.ParseFloat(val, 64)
				if err != nil {
					return Augment{}, fmt.Errorf("augment %q: parameter %q: %w", f, val, ErrAugment)
				}
				switch name {
				case "flip":
					op.P = v
				case "crop":
					op.Scale = [2]float64{v, 1}
				case "rotate":
					op.Degrees = v
				case "jitter":
					op.Brightness, op.Contrast, op.Saturation = v, v, v
				}
			}
			a.Ops = append(a.Ops, op)
		}
	}
	if err := a.normalize(); err != nil {
		return Augment{}, err
	}
	return a, nil
}

// normalize fills defaults and validates.
func (a *Augment) normalize() error {
	if a.Version != AugmentVersion {
		return fmt.Errorf("augment version %d, this build implements %d: %w", a.Version, AugmentVersion, ErrAugment)
	}
	if len(a.Ops) == 0 {
		return fmt.Errorf("augment: no ops (known: %s): %w", strings.Join(AugOps(), ", "), ErrAugment)
	}
	if len(a.Ops) > 16 {
		return fmt.Errorf("augment: %d ops, at most 16: %w", len(a.Ops), ErrAugment)
	}
	finite := func(v ...float64) bool {
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return false
			}
		}
		return true
	}
	for i := range a.Ops {
		o := &a.Ops[i]
		bad := func(f string, args ...any) error {
			return fmt.Errorf("augment op %d (%s): %s: %w", i, o.Op, fmt.Sprintf(f, args...), ErrAugment)
		}
		if !finite(o.P, o.Scale[0], o.Scale[1], o.Ratio[0], o.Ratio[1], o.Degrees, o.Brightness, o.Contrast, o.Saturation) {
			return bad("parameter not finite")
		}
		foreign := func(keep ...string) error {
			set := map[string]bool{"p": o.P != 0, "scale": o.Scale != [2]float64{}, "ratio": o.Ratio != [2]float64{},
				"degrees": o.Degrees != 0, "brightness": o.Brightness != 0, "contrast": o.Contrast != 0, "saturation": o.Saturation != 0}
			for _, k := range keep {
				delete(set, k)
			}
			for k, v := range set {
				if v {
					return bad("parameter %q does not belong to this op", k)
				}
			}
			return nil
		}
		var err error
		switch o.Op {
		case "flip":
			err = foreign("p")
			if o.P == 0 {
				o.P = 0.5
			}
			if err == nil && (o.P < 0 || o.P > 1) {
				err = bad("p %v outside (0, 1]", o.P)
			}
		case "crop":
			err = foreign("scale", "ratio")
			if o.Scale == [2]float64{} {
				o.Scale = [2]float64{0.08, 1}
			}
			if o.Ratio == [2]float64{} {
				o.Ratio = [2]float64{3.0 / 4, 4.0 / 3}
			}
			if err == nil && !(o.Scale[0] > 0 && o.Scale[0] <= o.Scale[1] && o.Scale[1] <= 1) {
				err = bad("scale %v: want 0 < lo <= hi <= 1", o.Scale)
			}
			if err == nil && !(o.Ratio[0] > 0 && o.Ratio[0] <= o.Ratio[1] && o.Ratio[1] < 100) {
				err = bad("ratio %v: want 0 < lo <= hi < 100", o.Ratio)
			}
		case "rotate":
			err = foreign("degrees")
			if o.Degrees == 0 {
				o.Degrees = 10
			}
			if err == nil && (o.Degrees < 0 || o.Degrees > 180) {
				err = bad("degrees %v outside (0, 180]", o.Degrees)
			}
		case "jitter":
			err = foreign("brightness", "contrast", "saturation")
			if o.Brightness == 0 && o.Contrast == 0 && o.Saturation == 0 {
				o.Brightness, o.Contrast, o.Saturation = 0.4, 0.4, 0.4
			}
			for _, v := range []float64{o.Brightness, o.Contrast, o.Saturation} {
				if err == nil && (v < 0 || v > 10) {
					err = bad("factor %v outside [0, 10]", v)
				}
			}
		default:
			err = bad("unknown op (known: %s)", strings.Join(AugOps(), ", "))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ViewKey returns the content key of view k of the image whose content key
// is imageKey under augmentation a: the image key itself for view 0 (the
// un-augmented preprocessing, shared with a store extracted without
// augmentation), else the sha256 hex of imageKey ‖ 0 ‖ a.Key() ‖ 0 ‖ k. The
// key also seeds the view's random draws, so view k of an image is the same
// pixels on any run, worker count or machine.
func ViewKey(imageKey string, a Augment, k int) string {
	if k == 0 || a.IsZero() {
		return imageKey
	}
	h := sha256.New()
	h.Write([]byte(imageKey))
	h.Write([]byte{0})
	h.Write([]byte(a.Key()))
	h.Write([]byte{0})
	h.Write([]byte(strconv.Itoa(k)))
	return hex.EncodeToString(h.Sum(nil))
}

// viewRNG is a counter-based generator: draw i is SplitMix64's output
// function applied to seed + (i+1)·γ, so every draw depends only on the seed
// and its index (no shared state, no global RNG).
type viewRNG struct {
	seed uint64
	n    uint64
}

func newViewRNG(key string) *viewRNG {
	sum := sha256.Sum256([]byte("preconv-augment\x00" + key))
	return &viewRNG{seed: binary.LittleEndian.Uint64(sum[:8])}
}

func (r *viewRNG) next() uint64 {
	r.n++
	z := r.seed + r.n*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// float returns a uniform value in [0, 1) (53 bits).
func (r *viewRNG) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// uniform returns a value uniform in [lo, hi).
// The explicit float64 conversion of the product forbids a fused
// multiply-add (Go spec), so the value is the same on every architecture.
func (r *viewRNG) uniform(lo, hi float64) float64 { return lo + float64((hi-lo)*r.float()) }

// intn returns a value uniform in [0, n), n > 0.
func (r *viewRNG) intn(n int) int { return int(r.next() % uint64(n)) }

// rgbImage is a packed 8-bit RGB image (3 bytes per pixel, no padding).
type rgbImage struct {
	w, h int
	pix  []uint8
}

// toRGB converts img to packed RGB with the same conversions as Preprocess
// (PIL's convert("RGB")).
func toRGB(img image.Image) rgbImage {
	b := img.Bounds()
	m := rgbImage{w: b.Dx(), h: b.Dy(), pix: make([]uint8, 3*b.Dx()*b.Dy())}
	rr := newRowReader(img)
	for y := 0; y < m.h; y++ {
		rr.row(b.Min.Y+y, b.Min.X, b.Max.X, m.pix[3*m.w*y:3*m.w*(y+1)])
	}
	return m
}

// image returns m as an opaque *image.RGBA (which Preprocess reads back to
// the same RGB bytes).
func (m rgbImage) image() *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, m.w, m.h))
	for i := 0; i < m.w*m.h; i++ {
		copy(out.Pix[4*i:4*i+3], m.pix[3*i:3*i+3])
		out.Pix[4*i+3] = 255
	}
	return out
}

// AugmentImage applies a to img with the random draws of the view whose
// content key is viewKey (see ViewKey) and returns the augmented image
// (img itself when a has no ops). The result depends only on (img, a,
// viewKey).
func AugmentImage(img image.Image, a Augment, viewKey string) (image.Image, error) {
	if a.IsZero() {
		return img, nil
	}
	if img.Bounds().Empty() {
		return nil, fmt.Errorf("augment: empty image: %w", ErrCorrupt)
	}
	r := newViewRNG(viewKey)
	m := toRGB(img)
	for _, o := range a.Ops {
		switch o.Op {
		case "flip":
			if r.float() < o.P {
				m = flipRGB(m)
			}
		case "crop":
			top, left, h, w := cropParams(r, m.w, m.h, o.Scale, o.Ratio)
			m = cropRGB(m, top, left, h, w)
		case "rotate":
			m = rotateRGB(m, r.uniform(-o.Degrees, o.Degrees))
		case "jitter":
			fb := jitterFactor(r, o.Brightness)
			fc := jitterFactor(r, o.Contrast)
			fs := jitterFactor(r, o.Saturation)
			order := [3]int{0, 1, 2}
			for i := 2; i > 0; i-- { // Fisher-Yates
				j := r.intn(i + 1)
				order[i], order[j] = order[j], order[i]
			}
			for _, k := range order {
				switch {
				case k == 0 && o.Brightness > 0:
					adjustBrightness(m, fb)
				case k == 1 && o.Contrast > 0:
					adjustContrast(m, fc)
				case k == 2 && o.Saturation > 0:
					adjustSaturation(m, fs)
				}
			}
		default:
			return nil, fmt.Errorf("augment: unknown op %q: %w", o.Op, ErrAugment)
		}
	}
	return m.image(), nil
}

func jitterFactor(r *viewRNG, x float64) float64 {
	v := r.uniform(max(0, 1-x), 1+x) // always drawn, so the draw order is fixed
	if x == 0 {
		return 1
	}
	return v
}

// cropParams is torchvision RandomResizedCrop.get_params with draws from r:
// the box (top, left, h, w).
func cropParams(r *viewRNG, width, height int, scale, ratio [2]float64) (top, left, h, w int) {
	area := float64(width * height)
	lr0, lr1 := math.Log(ratio[0]), math.Log(ratio[1])
	for try := 0; try < 10; try++ {
		target := area * r.uniform(scale[0], scale[1])
		// Exp and Log have assembly versions on some architectures that may
		// differ by an ulp; a box changes only if a square root lands within
		// an ulp of a rounding boundary (never seen; pixels are otherwise
		// bitwise identical across machines).
		ar := math.Exp(r.uniform(lr0, lr1))
		w = int(math.RoundToEven(math.Sqrt(target * ar)))
		h = int(math.RoundToEven(math.Sqrt(target / ar)))
		if w > 0 && w <= width && h > 0 && h <= height {
			return r.intn(height - h + 1), r.intn(width - w + 1), h, w
		}
	}
	in := float64(width) / float64(height)
	switch {
	case in < ratio[0]:
		w, h = width, int(math.RoundToEven(float64(width)/ratio[0]))
	case in > ratio[1]:
		h, w = height, int(math.RoundToEven(float64(height)*ratio[1]))
	default:
		w, h = width, height
	}
	h, w = max(1, min(h, height)), max(1, min(w, width))
	return (height - h) / 2, (width - w) / 2, h, w
}

func flipRGB(m rgbImage) rgbImage {
	out := rgbImage{w: m.w, h: m.h, pix: make([]uint8, len(m.pix))}
	for y := 0; y < m.h; y++ {
		src := m.pix[3*m.w*y : 3*m.w*(y+1)]
		dst := out.pix[3*m.w*y : 3*m.w*(y+1)]
		for x := 0; x < m.w; x++ {
			copy(dst[3*x:3*x+3], src[3*(m.w-1-x):3*(m.w-x)])
		}
	}
	return out
}

func cropRGB(m rgbImage, top, left, h, w int) rgbImage {
	out := rgbImage{w: w, h: h, pix: make([]uint8, 3*w*h)}
	for y := 0; y < h; y++ {
		copy(out.pix[3*w*y:3*w*(y+1)], m.pix[3*(m.w*(top+y)+left):3*(m.w*(top+y)+left+w)])
	}
	return out
}

// rotateRGB is PIL's Image.rotate(angle, NEAREST, expand=False) with black
// fill: the inverse affine map about (w/2, h/2) sampled at pixel centres,
// coordinates truncated (Geometry.c nearest filter).
func rotateRGB(m rgbImage, angle float64) rgbImage {
	rad := -angle * math.Pi / 180
	r15 := func(v float64) float64 { return math.Round(v*1e15) / 1e15 }
	a, b, d, e := r15(math.Cos(rad)), r15(math.Sin(rad)), r15(-math.Sin(rad)), r15(math.Cos(rad))
	cx, cy := float64(m.w)/2, float64(m.h)/2
	// Every product is converted explicitly so no fused multiply-add
	// changes a coordinate's truncation on another architecture.
	c := float64(a*(-cx)) + float64(b*(-cy)) + cx
	f := float64(d*(-cx)) + float64(e*(-cy)) + cy
	out := rgbImage{w: m.w, h: m.h, pix: make([]uint8, len(m.pix))}
	for y := 0; y < m.h; y++ {
		xo := c + float64(b*(float64(y)+0.5)) + float64(a*0.5)
		yo := f + float64(e*(float64(y)+0.5)) + float64(d*0.5)
		for x := 0; x < m.w; x++ {
			xi, yi := -1, -1
			if xo >= 0 {
				xi = int(xo)
			}
			if yo >= 0 {
				yi = int(yo)
			}
			if xi >= 0 && xi < m.w && yi >= 0 && yi < m.h {
				copy(out.pix[3*(m.w*y+x):3*(m.w*y+x)+3], m.pix[3*(m.w*yi+xi):3*(m.w*yi+xi)+3])
			}
			xo += a
			yo += d
		}
	}
	return out
}

// blendU8 is torchvision's _blend on uint8: r1·v1 + r2·v2 in float32 with
// r1 = float32(r), r2 = float32(1-r) (each product rounded, no fused
// multiply-add), clamped to [0, 255], truncated.
func blendU8(v1, v2, r1, r2 float32) uint8 {
	v := float32(r1*v1) + float32(r2*v2)
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// grayU8 is torchvision's rgb_to_grayscale on uint8 (float32, truncated).
func grayU8(p []uint8) uint8 {
	return uint8(float32(float32(float32(0.2989)*float32(p[0]))+float32(float32(0.587)*float32(p[1]))) + float32(float32(0.114)*float32(p[2])))
}

func adjustBrightness(m rgbImage, f float64) {
	r1, r2 := float32(f), float32(1-f)
	for i, v := range m.pix {
		m.pix[i] = blendU8(float32(v), 0, r1, r2)
	}
}

func adjustContrast(m rgbImage, f float64) {
	var sum float64
	for i := 0; i < len(m.pix); i += 3 {
		sum += float64(grayU8(m.pix[i : i+3]))
	}
	mean := float32(sum / float64(m.w*m.h))
	r1, r2 := float32(f), float32(1-f)
	for i, v := range m.pix {
		m.pix[i] = blendU8(float32(v), mean, r1, r2)
	}
}

func adjustSaturation(m rgbImage, f float64) {
	r1, r2 := float32(f), float32(1-f)
	for i := 0; i < len(m.pix); i += 3 {
		g := float32(grayU8(m.pix[i : i+3]))
		for c := 0; c < 3; c++ {
			m.pix[i+c] = blendU8(float32(m.pix[i+c]), g, r1, r2)
		}
	}
}
