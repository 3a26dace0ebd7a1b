package jpegdec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"slices"
)

// Errors. Every error Decode returns wraps one of them.
var (
	// ErrUnsupported: a valid JPEG variant this decoder does not handle
	// (see the package doc); decode it with image/jpeg instead.
	ErrUnsupported = errors.New("jpegdec: unsupported JPEG variant")
	// ErrCorrupt: malformed markers, tables or entropy-coded data,
	// including truncation.
	ErrCorrupt = errors.New("jpegdec: corrupt JPEG")
	// ErrTooLarge: the frame has more pixels than the caller allows.
	ErrTooLarge = errors.New("jpegdec: image too large")
)

// DefaultMaxPixels is the frame size limit when Decode is given none:
// PIL's MAX_IMAGE_PIXELS (89,478,485), as in package imageset.
const DefaultMaxPixels = 89_478_485

// Markers.
const (
	mSOF0 = 0xC0 // baseline
	mSOF1 = 0xC1 // extended sequential, Huffman
	mSOF2 = 0xC2 // progressive, Huffman
	mDHT  = 0xC4
	mJPG  = 0xC8
	mDAC  = 0xCC
	mRST0 = 0xD0
	mSOI  = 0xD8
	mEOI  = 0xD9
	mSOS  = 0xDA
	mDQT  = 0xDB
	mDNL  = 0xDC
	mDRI  = 0xDD
	mAPP0 = 0xE0
	mAP14 = 0xEE
)

// natural maps zig-zag position k to natural (row-major) order. Entries
// past 63 absorb the runs of corrupt data as libjpeg's jpeg_natural_order
// does (they point at coefficient 63).
var natural = [128]uint8{
	0, 1, 8, 16, 9, 2, 3, 10,
	17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34,
	27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36,
	29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46,
	53, 60, 61, 54, 47, 55, 62, 63,
	63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
	63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
	63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
	63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
}

type component struct {
	id     uint8
	h, v   int // sampling factors
	tq     int // quantization table
	td, ta int // Huffman tables (from SOS)
	bw, bh int // blocks per MCU row / column of this component's plane
	stride int // plane width in pixels (multiple of 8)
	pred   int32
}

// Decoder decodes JPEGs, reusing its buffers; see Decode. Not safe for
// concurrent use.
type Decoder struct {
	// ReusePlanes makes Decode write into the planes of its previous
	// result when they are large enough instead of allocating: an image
	// is then valid only until the next Decode. For loops that consume
	// each image before decoding the next.
	ReusePlanes bool
	keep        [3][]uint8 // planes of the previous result, with ReusePlanes

	data   []byte
	pos    int
	pad    int // zero bytes fed past the end of the entropy data
	w, h   int
	ncomp  int
	comp   [3]component
	hmax   int
	vmax   int
	ri     int // restart interval in MCUs, 0: none
	jfif   bool
	adobe  bool
	xform  int // Adobe transform flag
	seenSF bool

	qt    [4][64]int32 // natural order
	qtSet [4]bool
	dc    [4]huffTable
	ac    [4]huffTable
	dcSet [4]bool
	acSet [4]bool

	// Multi-scan (progressive or non-interleaved) decoding: coefficients
	// of every block, kept until the last scan.
	progressive bool
	buffered    bool
	coefs       [3][]int16
	nz          [3][]uint64  // progressive: per block, the non-zero zig-zag positions
	qlatch      [3][64]int32 // each component's table at its first scan
	latched     [3]bool
	eobrun      int
	scans       int

	planes [3][]uint8
	coef   []int16 // one MCU row of coefficient blocks
	blocks []blockRef
}

// blockRef says where one decoded block of an MCU row goes.
type blockRef struct {
	comp   uint8
	dcOnly bool
	off    int // offset of the block's top-left pixel in its plane
}

// Decode decodes data with a fresh Decoder.
func Decode(data []byte, maxPixels int64) (image.Image, error) {
	return new(Decoder).Decode(data, maxPixels)
}

// Decode decodes a JPEG held in memory into an *image.YCbCr (three
// components; chroma planes subsampled as stored) or an *image.Gray. The
// image's planes are padded to whole MCUs (strides are multiples of 8) and
// are owned by the caller, unless ReusePlanes is set. Frames with
// more than maxPixels pixels (<= 0: DefaultMaxPixels) are refused with
// ErrTooLarge, and frames whose entropy-coded data is too short to hold
// all their blocks (at least two bits each) with ErrCorrupt, before any
// plane is allocated.
func (d *Decoder) Decode(data []byte, maxPixels int64) (image.Image, error) {
	d.reset(data)
	if len(data) < 4 || data[0] != 0xFF || data[1] != mSOI {
		return nil, fmt.Errorf("no SOI marker: %w", ErrCorrupt)
	}
	d.pos = 2
	for {
		m, seg, err := d.segment()
		if err != nil {
			return nil, err
		}
		switch {
		case m == mSOF0 || m == mSOF1 || m == mSOF2:
			if d.seenSF {
				return nil, fmt.Errorf("second frame header: %w", ErrCorrupt)
			}
			d.progressive = m == mSOF2
			if err := d.frame(seg, maxPixels); err != nil {
				return nil, err
			}
		case m >= 0xC3 && m <= 0xCF && m != mDHT && m != mJPG && m != mDAC:
			return nil, fmt.Errorf("SOF%d (lossless or arithmetic): %w", m-0xC0, ErrUnsupported)
		case m == mDAC:
			return nil, fmt.Errorf("arithmetic coding: %w", ErrUnsupported)
		case m == mDHT:
			if err := d.defineHuffman(seg); err != nil {
				return nil, err
			}
		case m == mDQT:
			if err := d.defineQuant(seg); err != nil {
				return nil, err
			}
		case m == mDRI:
			if len(seg) != 2 {
				return nil, fmt.Errorf("DRI length %d: %w", len(seg), ErrCorrupt)
			}
			d.ri = int(binary.BigEndian.Uint16(seg))
		case m == mAPP0:
			if len(seg) >= 5 && string(seg[:5]) == "JFIF\x00" {
				d.jfif = true
			}
		case m == mAP14:
			if len(seg) >= 12 && string(seg[:5]) == "Adobe" {
				d.adobe, d.xform = true, int(seg[11])
			}
		case m == mDNL:
			return nil, fmt.Errorf("DNL marker: %w", ErrUnsupported)
		case m == mSOS:
			if !d.seenSF {
				return nil, fmt.Errorf("scan before frame header: %w", ErrCorrupt)
			}
			sc, err := d.parseScan(seg)
			if err != nil {
				return nil, err
			}
			if !d.progressive && !d.buffered && len(sc.comps) == d.ncomp {
				// The common case: one interleaved sequential scan,
				// decoded straight into the planes.
				if err := d.scanHeader(sc); err != nil {
					return nil, err
				}
				if err := d.decodeScan(); err != nil {
					return nil, err
				}
				return d.image(), nil
			}
			if err := d.bufferedScan(sc); err != nil {
				return nil, err
			}
			if d.pos >= len(d.data) {
				// Scans may be missing: a truncated file, as PIL reports.
				return nil, fmt.Errorf("file ends after scan without EOI: %w", ErrCorrupt)
			}
		case m == mEOI:
			if d.buffered {
				return d.finish(), nil
			}
			return nil, fmt.Errorf("EOI before any scan: %w", ErrCorrupt)
		}
	}
}

func (d *Decoder) reset(data []byte) {
	d.data, d.pos, d.pad = data, 0, 0
	d.w, d.h, d.ncomp, d.hmax, d.vmax, d.ri = 0, 0, 0, 0, 0, 0
	d.jfif, d.adobe, d.xform, d.seenSF = false, false, 0, false
	d.progressive, d.buffered, d.latched, d.eobrun, d.scans = false, false, [3]bool{}, 0, 0
	d.coefs, d.nz = [3][]int16{}, [3][]uint64{}
	d.qtSet, d.dcSet, d.acSet = [4]bool{}, [4]bool{}, [4]bool{}
	d.planes = [3][]uint8{}
}

// segment reads the next marker and, for markers with a length, its
// payload. Fill bytes (0xFF) before a marker are skipped, and so are
// extraneous bytes between segments, as libjpeg does (next_marker, with a
// warning), so that such files still decode as PIL decodes them.
func (d *Decoder) segment() (byte, []byte, error) {
	b := d.data
	for d.pos < len(b) && b[d.pos] != 0xFF {
		d.pos++
	}
	if d.pos >= len(b) {
		return 0, nil, fmt.Errorf("file ends where a marker was expected: %w", ErrCorrupt)
	}
	for d.pos < len(b) && b[d.pos] == 0xFF {
		d.pos++
	}
	if d.pos >= len(b) {
		return 0, nil, fmt.Errorf("file ends inside a marker: %w", ErrCorrupt)
	}
	m := b[d.pos]
	d.pos++
	if m == mSOI || m == mEOI || (m >= mRST0 && m <= mRST0+7) || m == 0x01 || m == 0 {
		return m, nil, nil
	}
	if d.pos+2 > len(b) {
		return 0, nil, fmt.Errorf("marker 0x%02X: file ends in its length: %w", m, ErrCorrupt)
	}
	n := int(binary.BigEndian.Uint16(b[d.pos:]))
	if n < 2 || d.pos+n > len(b) {
		return 0, nil, fmt.Errorf("marker 0x%02X: length %d past the end of the file: %w", m, n, ErrCorrupt)
	}
	seg := b[d.pos+2 : d.pos+n]
	d.pos += n
	return m, seg, nil
}

func (d *Decoder) frame(seg []byte, maxPixels int64) error {
	if len(seg) < 6 {
		return fmt.Errorf("SOF length %d: %w", len(seg), ErrCorrupt)
	}
	if seg[0] != 8 {
		return fmt.Errorf("%d-bit samples: %w", seg[0], ErrUnsupported)
	}
	h, w, nc := int(binary.BigEndian.Uint16(seg[1:])), int(binary.BigEndian.Uint16(seg[3:])), int(seg[5])
	if h == 0 {
		return fmt.Errorf("height defined by DNL: %w", ErrUnsupported)
	}
	if w == 0 {
		return fmt.Errorf("width 0: %w", ErrCorrupt)
	}
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	if int64(w)*int64(h) > maxPixels {
		return fmt.Errorf("%dx%d = %d pixels, limit %d: %w", w, h, int64(w)*int64(h), maxPixels, ErrTooLarge)
	}
	if nc != 1 && nc != 3 {
		return fmt.Errorf("%d components: %w", nc, ErrUnsupported)
	}
	if len(seg) != 6+3*nc {
		return fmt.Errorf("SOF length %d for %d components: %w", len(seg), nc, ErrCorrupt)
	}
	d.w, d.h, d.ncomp, d.seenSF = w, h, nc, true
	d.hmax, d.vmax = 1, 1
	for i := 0; i < nc; i++ {
		c := &d.comp[i]
		p := seg[6+3*i:]
		*c = component{id: p[0], h: int(p[1] >> 4), v: int(p[1] & 15), tq: int(p[2])}
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 || c.tq > 3 {
			return fmt.Errorf("component %d: sampling %dx%d, table %d: %w", i, c.h, c.v, c.tq, ErrCorrupt)
		}
		for j := 0; j < i; j++ {
			if d.comp[j].id == c.id {
				return fmt.Errorf("duplicate component id %d: %w", c.id, ErrCorrupt)
			}
		}
		d.hmax, d.vmax = max(d.hmax, c.h), max(d.vmax, c.v)
	}
	if nc == 1 {
		// A single component is coded non-interleaved: one block per MCU.
		d.comp[0].h, d.comp[0].v, d.hmax, d.vmax = 1, 1, 1, 1
		return nil
	}
	y, cb, cr := d.comp[0], d.comp[1], d.comp[2]
	if y.h > 2 || y.v > 2 || cb.h != 1 || cb.v != 1 || cr.h != 1 || cr.v != 1 {
		return fmt.Errorf("sampling %dx%d,%dx%d,%dx%d: %w", y.h, y.v, cb.h, cb.v, cr.h, cr.v, ErrUnsupported)
	}
	return nil
}

func (d *Decoder) defineQuant(seg []byte) error {
	for len(seg) > 0 {
		pq, tq := seg[0]>>4, int(seg[0]&15)
		if pq > 1 || tq > 3 {
			return fmt.Errorf("DQT precision %d table %d: %w", pq, tq, ErrCorrupt)
		}
		n := 64 * (1 + int(pq))
		if len(seg) < 1+n {
			return fmt.Errorf("DQT table %d truncated: %w", tq, ErrCorrupt)
		}
		for k := 0; k < 64; k++ {
			var v int32
			if pq == 0 {
				v = int32(seg[1+k])
			} else {
				// libjpeg-turbo keeps islow multipliers in 16-bit shorts.
				v = int32(int16(binary.BigEndian.Uint16(seg[1+2*k:])))
			}
			d.qt[tq][natural[k]] = v
		}
		d.qtSet[tq] = true
		seg = seg[1+n:]
	}
	return nil
}

func (d *Decoder) defineHuffman(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return fmt.Errorf("DHT truncated: %w", ErrCorrupt)
		}
		tc, th := seg[0]>>4, int(seg[0]&15)
		if tc > 1 || th > 3 {
			return fmt.Errorf("DHT class %d table %d: %w", tc, th, ErrCorrupt)
		}
		var counts [16]uint8
		copy(counts[:], seg[1:17])
		total := 0
		for _, c := range counts {
			total += int(c)
		}
		if total > 256 || len(seg) < 17+total {
			return fmt.Errorf("DHT table %d/%d: %d symbols: %w", tc, th, total, ErrCorrupt)
		}
		syms := seg[17 : 17+total]
		var err error
		if tc == 0 {
			err, d.dcSet[th] = d.dc[th].build(&counts, syms, false), true
		} else {
			err, d.acSet[th] = d.ac[th].build(&counts, syms, true), true
		}
		if err != nil {
			return fmt.Errorf("DHT table %d/%d: %w", tc, th, err)
		}
		seg = seg[17+total:]
	}
	return nil
}

// scan is one parsed SOS header.
type scan struct {
	comps          []int // frame component indices, in scan order
	ss, se, ah, al int
}

// parseScan reads an SOS header: component selectors (each a frame
// component, at most once) with their Huffman table numbers, spectral
// selection and successive approximation. It also refuses RGB-coded
// files, which decode elsewhere.
func (d *Decoder) parseScan(seg []byte) (scan, error) {
	var sc scan
	if len(seg) < 1 {
		return sc, fmt.Errorf("SOS empty: %w", ErrCorrupt)
	}
	ns := int(seg[0])
	if ns < 1 || ns > d.ncomp || len(seg) != 4+2*ns {
		return sc, fmt.Errorf("SOS length %d for %d components: %w", len(seg), ns, ErrCorrupt)
	}
	for i := 0; i < ns; i++ {
		id, t := seg[1+2*i], seg[2+2*i]
		ci := -1
		for j := 0; j < d.ncomp; j++ {
			if d.comp[j].id == id {
				ci = j
			}
		}
		if ci < 0 || slices.Contains(sc.comps, ci) {
			return sc, fmt.Errorf("scan component id %d unknown or repeated: %w", id, ErrCorrupt)
		}
		c := &d.comp[ci]
		c.td, c.ta = int(t>>4), int(t&15)
		if c.td > 3 || c.ta > 3 {
			return sc, fmt.Errorf("component %d: Huffman tables %d/%d: %w", ci, c.td, c.ta, ErrCorrupt)
		}
		sc.comps = append(sc.comps, ci)
	}
	p := seg[1+2*ns:]
	sc.ss, sc.se, sc.ah, sc.al = int(p[0]), int(p[1]), int(p[2]>>4), int(p[2]&15)
	if d.ncomp == 3 {
		// RGB-coded files (libjpeg's default_decompress_parms) go elsewhere.
		rgbIDs := d.comp[0].id == 'R' && d.comp[1].id == 'G' && d.comp[2].id == 'B'
		if !d.jfif && ((d.adobe && d.xform == 0) || (!d.adobe && rgbIDs)) {
			return sc, fmt.Errorf("RGB color space: %w", ErrUnsupported)
		}
	}
	return sc, nil
}

// scanHeader checks a sequential scan: full spectrum, no successive
// approximation, tables defined. For the single-scan path the scan must
// list the components in frame order.
func (d *Decoder) scanHeader(sc scan) error {
	for i, ci := range sc.comps {
		c := &d.comp[ci]
		if !d.buffered && ci != i {
			return fmt.Errorf("scan component order differs from the frame: %w", ErrUnsupported)
		}
		if !d.dcSet[c.td] || !d.acSet[c.ta] {
			return fmt.Errorf("component %d: Huffman tables %d/%d undefined: %w", ci, c.td, c.ta, ErrCorrupt)
		}
		if !d.qtSet[c.tq] {
			return fmt.Errorf("component %d: quantization table %d undefined: %w", ci, c.tq, ErrCorrupt)
		}
	}
	if sc.ss != 0 || sc.se != 63 || sc.ah != 0 || sc.al != 0 {
		return fmt.Errorf("sequential scan with spectral selection %d..%d, approximation %d/%d: %w", sc.ss, sc.se, sc.ah, sc.al, ErrCorrupt)
	}
	return nil
}

// plane returns component i's plane of n bytes: fresh, or with
// ReusePlanes the previous one when it is large enough. Decoding writes
// every byte of it (every block of every MCU), so it is not cleared.
func (d *Decoder) plane(i, n int) []uint8 {
	if !d.ReusePlanes {
		return make([]uint8, n)
	}
	if cap(d.keep[i]) < n {
		d.keep[i] = make([]uint8, n)
	}
	return d.keep[i][:n]
}

// image wraps the decoded planes.
func (d *Decoder) image() image.Image {
	r := image.Rect(0, 0, d.w, d.h)
	if d.ncomp == 1 {
		return &image.Gray{Pix: d.planes[0], Stride: d.comp[0].stride, Rect: r}
	}
	ratio := image.YCbCrSubsampleRatio444
	switch {
	case d.hmax == 2 && d.vmax == 2:
		ratio = image.YCbCrSubsampleRatio420
	case d.hmax == 2:
		ratio = image.YCbCrSubsampleRatio422
	case d.vmax == 2:
		ratio = image.YCbCrSubsampleRatio440
	}
	return &image.YCbCr{Y: d.planes[0], Cb: d.planes[1], Cr: d.planes[2],
		YStride: d.comp[0].stride, CStride: d.comp[1].stride, SubsampleRatio: ratio, Rect: r}
}
