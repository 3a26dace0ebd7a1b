package imageset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"strings"
	"sync"

	"github.com/preconv/preconv/imageset/internal/jpegdec"
	"golang.org/x/image/bmp"
	"golang.org/x/image/webp"
)

// DefaultMaxPixels is the default decompression-bomb limit: PIL's
// Image.MAX_IMAGE_PIXELS (89,478,485 = 1024*1024*1024/4/3 pixels), above which
// PIL warns; preconv refuses instead of warning.
const DefaultMaxPixels = 89_478_485

// MaxFileBytes is the largest image file DecodeFile reads (256 MiB).
const MaxFileBytes = 256 << 20

// Format is a recognized image container.
type Format string

// Recognized formats.
const (
	FormatJPEG Format = "jpeg"
	FormatPNG  Format = "png"
	FormatGIF  Format = "gif"
	FormatBMP  Format = "bmp"
	FormatWebP Format = "webp"
)

// Sniff returns the format from the leading magic bytes, or "" if unknown.
func Sniff(b []byte) Format {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return FormatJPEG
	case len(b) >= 8 && string(b[:8]) == "\x89PNG\r\n\x1a\n":
		return FormatPNG
	case len(b) >= 6 && (string(b[:6]) == "GIF87a" || string(b[:6]) == "GIF89a"):
		return FormatGIF
	case len(b) >= 2 && string(b[:2]) == "BM":
		return FormatBMP
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return FormatWebP
	}
	return ""
}

// DecodeFile reads and decodes one image file. The header is checked first:
// a file announcing more than maxPixels pixels (<= 0: DefaultMaxPixels) is
// refused with ErrTooLarge before any pixel is decoded. GIFs yield their first
// frame. For JPEG the EXIF orientation (tag 0x0112) is applied, which
// torchvision does not do (PIL's Image.open ignores it); the parity photos
// carry no orientation tag.
//
// The returned image keeps the decoder's native type (*image.YCbCr,
// *image.Gray, *image.CMYK, *image.NRGBA, ...) so that Preprocess.Apply can
// read the planes directly; Apply converts to RGB as PIL's convert("RGB")
// does. Errors wrap ErrEmpty, ErrNotFile, ErrFormat, ErrCorrupt or
// ErrTooLarge and name the file.
func DecodeFile(path string, maxPixels int64) (image.Image, error) {
	img, err := decodePath(path, maxPixels)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// Decode decodes an image held in memory; see DecodeFile. Errors do not name
// a file.
func Decode(b []byte, maxPixels int64) (image.Image, error) {
	return decodeWith(b, maxPixels, nil)
}

// decodeWith is Decode with the JPEG decoder dec (nil: one from the pool).
func decodeWith(b []byte, maxPixels int64, dec *jpegdec.Decoder) (image.Image, error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	if len(b) == 0 {
		return nil, ErrEmpty
	}
	f := Sniff(b)
	var img image.Image
	if f == FormatJPEG {
		// jpegdec decodes baseline and progressive YCbCr/gray JPEGs
		// exactly as libjpeg-turbo (so as PIL), checking the pixel limit
		// in the header itself; CMYK, RGB-coded and other rare variants,
		// and any file it rejects, go to image/jpeg below, whose verdict
		// stands.
		var err error
		if img, err = fastJPEG(b, maxPixels, dec); err != nil {
			return nil, err
		}
	}
	if img == nil {
		var err error
		if img, err = decodeStd(f, b, maxPixels); err != nil {
			return nil, err
		}
	}
	r := img.Bounds()
	if int64(r.Dx())*int64(r.Dy()) > maxPixels || r.Empty() {
		return nil, fmt.Errorf("%s decoded to %v: %w", f, r, ErrCorrupt)
	}
	if f == FormatJPEG {
		if o := jpegOrientation(b); o > 1 {
			img = orient(img, o)
		}
	}
	return img, nil
}

// decodeStd decodes b of format f with the standard library's (or
// x/image's) decoder, after checking the header against maxPixels.
func decodeStd(f Format, b []byte, maxPixels int64) (image.Image, error) {
	var cfgFn func(io.Reader) (image.Config, error)
	var decFn func(io.Reader) (image.Image, error)
	switch f {
	case FormatJPEG:
		cfgFn, decFn = jpeg.DecodeConfig, jpeg.Decode
	case FormatPNG:
		cfgFn, decFn = png.DecodeConfig, png.Decode
	case FormatGIF:
		cfgFn, decFn = gif.DecodeConfig, gif.Decode
	case FormatBMP:
		cfgFn, decFn = bmp.DecodeConfig, bmp.Decode
	case FormatWebP:
		cfgFn, decFn = webp.DecodeConfig, webp.Decode
	default:
		n := min(len(b), 8)
		return nil, fmt.Errorf("leading bytes %q: %w", b[:n], ErrFormat)
	}
	cfg, err := cfgFn(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s header: %v: %w", f, err, ErrFormat)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%s header: size %dx%d: %w", f, cfg.Width, cfg.Height, ErrFormat)
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return nil, fmt.Errorf("%s header claims %dx%d = %d pixels, limit %d: %w",
			f, cfg.Width, cfg.Height, int64(cfg.Width)*int64(cfg.Height), maxPixels, ErrTooLarge)
	}
	img, err := safeDecode(decFn, b)
	if err != nil {
		return nil, fmt.Errorf("%s %dx%d: %v: %w", f, cfg.Width, cfg.Height, err, ErrCorrupt)
	}
	return img, nil
}

// jpegDecoders recycles jpegdec's decoders (their Huffman tables and
// coefficient buffers, ~70 KB) between images; the planes they return are
// never reused.
var jpegDecoders = sync.Pool{New: func() any { return new(jpegdec.Decoder) }}

// fastJPEG decodes b with dec (nil: a pooled decoder); nil without error
// when jpegdec declines (unsupported variant or data it rejects), an error
// wrapping ErrTooLarge when the frame exceeds maxPixels.
func fastJPEG(b []byte, maxPixels int64, dec *jpegdec.Decoder) (img image.Image, err error) {
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, nil
		}
	}()
	if dec == nil {
		dec = jpegDecoders.Get().(*jpegdec.Decoder)
		defer jpegDecoders.Put(dec)
	}
	img, err = dec.Decode(b, maxPixels)
	switch {
	case errors.Is(err, jpegdec.ErrTooLarge):
		// The header is valid and too large: refuse, as for any format.
		msg := strings.TrimSuffix(err.Error(), ": "+jpegdec.ErrTooLarge.Error())
		return nil, fmt.Errorf("jpeg header claims %s: %w", msg, ErrTooLarge)
	case err != nil:
		return nil, nil
	}
	return img, nil
}

// safeDecode turns a decoder panic (there should be none, but third-party
// decoders see hostile input here) into an error.
func safeDecode(dec func(io.Reader) (image.Image, error), b []byte) (img image.Image, err error) {
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("decoder panic: %v", p)
		}
	}()
	return dec(bytes.NewReader(b))
}

// jpegOrientation returns the EXIF orientation (1..8) of a JPEG, or 0 when
// there is none or the EXIF block is malformed. It walks the marker segments
// up to the first SOS and parses IFD0 of the first APP1 "Exif" segment.
func jpegOrientation(b []byte) int {
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return 0
		}
		m := b[i+1]
		if m == 0xFF { // fill byte
			i++
			continue
		}
		if m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01 {
			i += 2
			continue
		}
		if m == 0xDA || m == 0xD9 {
			return 0
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return 0
		}
		seg := b[i+4 : i+2+n]
		if m == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return exifOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 0
}

// exifOrientation parses a TIFF header and IFD0 for tag 0x0112.
func exifOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	if bo.Uint16(t[2:]) != 42 {
		return 0
	}
	off := int64(bo.Uint32(t[4:]))
	if off < 8 || off+2 > int64(len(t)) {
		return 0
	}
	cnt := int64(bo.Uint16(t[off:]))
	for k := int64(0); k < cnt; k++ {
		e := off + 2 + 12*k
		if e+12 > int64(len(t)) {
			return 0
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		typ, n := bo.Uint16(t[e+2:]), bo.Uint32(t[e+4:])
		if typ != 3 || n != 1 {
			return 0
		}
		v := int(bo.Uint16(t[e+8:]))
		if v < 1 || v > 8 {
			return 0
		}
		return v
	}
	return 0
}

// orient applies EXIF orientation o (2..8) and returns an *image.NRGBA whose
// RGB are PIL's convert("RGB") of img.
func orient(img image.Image, o int) image.Image {
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	src := newRowReader(img)
	rgb := make([]uint8, 3*w)
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	out := image.NewNRGBA(image.Rect(0, 0, ow, oh))
	for y := 0; y < h; y++ {
		src.row(y, 0, w, rgb)
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5: // transpose
				dx, dy = y, x
			case 6: // rotate 90 CW
				dx, dy = h-1-y, x
			case 7: // transverse
				dx, dy = h-1-y, w-1-x
			case 8: // rotate 90 CCW
				dx, dy = y, w-1-x
			default:
				dx, dy = x, y
			}
			p := out.PixOffset(dx, dy)
			out.Pix[p], out.Pix[p+1], out.Pix[p+2], out.Pix[p+3] = rgb[3*x], rgb[3*x+1], rgb[3*x+2], 255
		}
	}
	return out
}
