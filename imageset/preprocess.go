package imageset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// PixelVersion identifies the decode+resample algorithm (libjpeg-style
// chroma upsampling and color tables, PIL-exact fixed-point resampling, EXIF
// orientation). It is stored in Preprocess.Version so that a change of
// algorithm changes cache keys.
//
// Version 2: JPEGs are decoded by jpegdec with libjpeg's islow IDCT, so
// decoded pixels equal PIL's exactly; version 1 used image/jpeg's IDCT
// (within a few levels). Stores extracted under version 1 no longer match
// the spec of a new extraction and are recomputed; see UpgradeVersion for
// trained heads.
const PixelVersion = 2

// UpgradeVersion returns p moved to this build's PixelVersion and whether
// it was older: for applying a head trained on features of an earlier
// pixel version (whose pixels differ by a few levels at most) rather than
// refusing it. Extraction never upgrades: a cache records the version its
// features were computed with.
func (p Preprocess) UpgradeVersion() (Preprocess, bool) {
	if p.Version >= 1 && p.Version < PixelVersion {
		p.Version = PixelVersion
		return p, true
	}
	return p, false
}

// Preprocess describes how a decoded image becomes a float32 tensor:
//
//	resize (shorter side to ResizeShort, or exactly ResizeH×ResizeW)
//	→ center crop CropH×CropW (zero padding if the image is smaller,
//	  as torchvision's CenterCrop)
//	→ v' = (v*Scale - Mean[c]) / Std[c] for each 8-bit value v
//	→ channels in ChannelOrder, Layout "CHW".
//
// Mean and Std are indexed by output channel (after ChannelOrder). The zero
// value is not valid; start from Named or ParsePreprocess. json.Marshal of a
// Preprocess is its canonical form: every field that changes the output is in
// it, in a fixed order.
type Preprocess struct {
	Name          string     `json:"name"`
	Version       int        `json:"version"`
	ResizeShort   int        `json:"resize_short"`  // >0: shorter side to this, longer side int(ResizeShort*long/short) as torchvision
	ResizeH       int        `json:"resize_h"`      // with ResizeW: exact size (ResizeShort must be 0)
	ResizeW       int        `json:"resize_w"`      //
	CropH         int        `json:"crop_h"`        // 0: no crop
	CropW         int        `json:"crop_w"`        //
	Interpolation string     `json:"interpolation"` // "bilinear", "bicubic" or "nearest" (PIL filters)
	Antialias     bool       `json:"antialias"`     // scale the filter support by the downscale factor (PIL, torchvision); false: fixed support (TF-style)
	Scale         float64    `json:"scale"`
	Mean          [3]float64 `json:"mean"`
	Std           [3]float64 `json:"std"`
	ChannelOrder  string     `json:"channel_order"` // "RGB" or "BGR"
	Layout        string     `json:"layout"`        // "CHW" (the engine is NCHW)
}

// Preset names accepted by Named.
var presetNames = []string{"torchvision", "keras-tf", "keras-caffe", "unit"}

// Presets returns the names accepted by Named.
func Presets() []string { return append([]string(nil), presetNames...) }

// Named returns a preset:
//
//   - "torchvision": Resize(256) shorter side, antialiased bilinear →
//     CenterCrop(224) → /255 → Normalize(mean [0.485 0.456 0.406],
//     std [0.229 0.224 0.225]).
//   - "keras-tf": resize to exactly 224×224 (bilinear, antialiased) → v/127.5 - 1,
//     i.e. [-1, 1] (Keras MobileNet/Inception preprocess_input "tf" mode).
//   - "keras-caffe": resize to 224×224 → BGR → subtract [103.939 116.779
//     123.68] (BGR means, Keras "caffe" mode), no scaling.
//   - "unit": resize to 224×224 → v/255, [0, 1] (the nsfwjs convention).
//
// Use WithSize and WithCrop to change the sizes.
func Named(name string) (Preprocess, error) {
	p := Preprocess{Name: name, Version: PixelVersion, Interpolation: "bilinear", Antialias: true,
		ChannelOrder: "RGB", Layout: "CHW", Std: [3]float64{1, 1, 1}}
	switch name {
	case "torchvision":
		p.ResizeShort, p.CropH, p.CropW = 256, 224, 224
		p.Scale = 1.0 / 255
		p.Mean = [3]float64{0.485, 0.456, 0.406}
		p.Std = [3]float64{0.229, 0.224, 0.225}
	case "keras-tf":
		p.ResizeH, p.ResizeW = 224, 224
		p.Scale = 1.0 / 127.5
		p.Mean = [3]float64{1, 1, 1}
	case "keras-caffe":
		p.ResizeH, p.ResizeW = 224, 224
		p.Scale = 1
		p.ChannelOrder = "BGR"
		p.Mean = [3]float64{103.939, 116.779, 123.68}
	case "unit":
		p.ResizeH, p.ResizeW = 224, 224
		p.Scale = 1.0 / 255
	default:
		return Preprocess{}, fmt.Errorf("preset %q (known: %s): %w", name, strings.Join(presetNames, ", "), ErrPreprocess)
	}
	return p, nil
}

// ParsePreprocess accepts a preset name (see Named) or a JSON object in the
// canonical form (unknown fields are an error), and validates it. An empty
// string means "torchvision".
func ParsePreprocess(nameOrJSON string) (Preprocess, error) {
	s := strings.TrimSpace(nameOrJSON)
	if s == "" {
		s = "torchvision"
	}
	if !strings.HasPrefix(s, "{") {
		return Named(s)
	}
	var p Preprocess
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Preprocess{}, fmt.Errorf("preprocess JSON: %v: %w", err, ErrPreprocess)
	}
	if err := p.Validate(); err != nil {
		return Preprocess{}, err
	}
	return p, nil
}

// WithSize returns p with its resize changed: for a shorter-side preset the
// shorter side becomes size and the crop is scaled by the same factor
// (torchvision's 256→224 ratio is kept: size 342 gives crop 299... rounded);
// for exact-size presets the image is resized to size×size. Use WithCrop
// afterwards to set the crop exactly.
func (p Preprocess) WithSize(size int) Preprocess {
	if p.ResizeShort > 0 {
		if p.CropH > 0 {
			p.CropH = int(math.Round(float64(p.CropH) * float64(size) / float64(p.ResizeShort)))
			p.CropW = int(math.Round(float64(p.CropW) * float64(size) / float64(p.ResizeShort)))
		}
		p.ResizeShort = size
		return p
	}
	p.ResizeH, p.ResizeW = size, size
	return p
}

// WithCrop returns p with a crop×crop center crop (0: no crop).
func (p Preprocess) WithCrop(crop int) Preprocess {
	p.CropH, p.CropW = crop, crop
	return p
}

// Validate checks that p is usable; errors wrap ErrPreprocess.
func (p Preprocess) Validate() error {
	bad := func(f string, a ...any) error {
		return fmt.Errorf("preprocess %q: %s: %w", p.Name, fmt.Sprintf(f, a...), ErrPreprocess)
	}
	const maxSide = 1 << 14
	switch {
	case p.Version != PixelVersion:
		return bad("version %d, this build implements %d", p.Version, PixelVersion)
	case p.ResizeShort < 0 || p.ResizeH < 0 || p.ResizeW < 0 || p.CropH < 0 || p.CropW < 0:
		return bad("negative size")
	case p.ResizeShort > maxSide || p.ResizeH > maxSide || p.ResizeW > maxSide || p.CropH > maxSide || p.CropW > maxSide:
		return bad("size above %d", maxSide)
	case p.ResizeShort > 0 && (p.ResizeH > 0 || p.ResizeW > 0):
		return bad("resize_short and resize_h/w are exclusive")
	case (p.ResizeH > 0) != (p.ResizeW > 0):
		return bad("resize_h and resize_w go together")
	case (p.CropH > 0) != (p.CropW > 0):
		return bad("crop_h and crop_w go together")
	case p.ResizeShort == 0 && p.ResizeH == 0 && p.CropH == 0:
		return bad("no output size (set a resize or a crop)")
	case p.Interpolation != "bilinear" && p.Interpolation != "bicubic" && p.Interpolation != "nearest":
		return bad("interpolation %q (bilinear, bicubic, nearest)", p.Interpolation)
	case p.ChannelOrder != "RGB" && p.ChannelOrder != "BGR":
		return bad("channel_order %q (RGB, BGR)", p.ChannelOrder)
	case p.Layout != "CHW":
		return bad("layout %q (only CHW)", p.Layout)
	case p.Scale == 0 || math.IsNaN(p.Scale) || math.IsInf(p.Scale, 0):
		return bad("scale %v", p.Scale)
	}
	for c := 0; c < 3; c++ {
		if p.Std[c] == 0 || math.IsNaN(p.Std[c]) || math.IsInf(p.Std[c], 0) || math.IsNaN(p.Mean[c]) || math.IsInf(p.Mean[c], 0) {
			return bad("mean/std channel %d: %v/%v", c, p.Mean[c], p.Std[c])
		}
	}
	return nil
}

// OutShape returns the per-image output shape [C, H, W]. When there is no
// crop and ResizeShort is used, the output size depends on the image and
// OutShape returns H = W = 0; loaders need a crop or an exact resize.
func (p Preprocess) OutShape() [3]int {
	switch {
	case p.CropH > 0:
		return [3]int{3, p.CropH, p.CropW}
	case p.ResizeH > 0:
		return [3]int{3, p.ResizeH, p.ResizeW}
	}
	return [3]int{3, 0, 0}
}

// Key returns the canonical JSON form of p (json.Marshal), for cache keys.
func (p Preprocess) Key() string {
	b, _ := json.Marshal(p)
	return string(b)
}
