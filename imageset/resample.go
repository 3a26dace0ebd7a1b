package imageset

import (
	"fmt"
	"image"
	"math"

	"github.com/preconv/preconv/imageset/internal/jpegdec"
)

// precisionBits is PIL's fixed-point precision for 8-bit resampling
// (Resample.c: PRECISION_BITS = 32 - 8 - 2).
const precisionBits = 22

type filterFn struct {
	support float64
	f       func(float64) float64
}

// PIL's filters (Resample.c).
var (
	bilinearFilter = filterFn{1, func(x float64) float64 {
		if x < 0 {
			x = -x
		}
		if x < 1 {
			return 1 - x
		}
		return 0
	}}
	bicubicFilter = filterFn{2, func(x float64) float64 {
		const a = -0.5
		if x < 0 {
			x = -x
		}
		if x < 1 {
			return ((a+2)*x-(a+3))*x*x + 1
		}
		if x < 2 {
			return (((x-5)*x+8)*x - 4) * a
		}
		return 0
	}}
)

// coeffs holds, for output positions [lo, lo+n) of one axis, the first input
// index, the tap count and ksize fixed-point weights each.
type coeffs struct {
	lo, n, ksize int
	xmin, cnt    []int
	k            []int32
}

// pilCoeffs reproduces PIL's precompute_coeffs + normalize_coeffs_8bpc for
// resizing inSize to outSize, restricted to outputs [lo, hi).
func pilCoeffs(inSize, outSize, lo, hi int, interp string, antialias bool) coeffs {
	c := coeffs{lo: lo, n: hi - lo}
	c.xmin, c.cnt = make([]int, c.n), make([]int, c.n)
	scale := float64(inSize) / float64(outSize)
	if interp == "nearest" {
		// PIL resizes with NEAREST through ImagingScaleAffine: xin =
		// floor(a0*0.5 + x*a0) accumulated in double.
		c.ksize = 1
		c.k = make([]int32, c.n)
		xo := scale * 0.5
		for x := 0; x < lo; x++ {
			xo += scale
		}
		for i := 0; i < c.n; i++ {
			xin := int(xo)
			xin = min(max(xin, 0), inSize-1)
			c.xmin[i], c.cnt[i], c.k[i] = xin, 1, 1<<precisionBits
			xo += scale
		}
		return c
	}
	f := bilinearFilter
	if interp == "bicubic" {
		f = bicubicFilter
	}
	filterscale := scale
	if filterscale < 1 || !antialias {
		filterscale = 1
	}
	support := f.support * filterscale
	c.ksize = int(math.Ceil(support))*2 + 1
	c.k = make([]int32, c.n*c.ksize)
	w := make([]float64, c.ksize)
	for i := 0; i < c.n; i++ {
		xx := lo + i
		center := (float64(xx) + 0.5) * scale
		ss := 1.0 / filterscale
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		if xmax > c.ksize {
			xmax = c.ksize
		}
		ww := 0.0
		for x := 0; x < xmax; x++ {
			w[x] = f.f((float64(x+xmin) - center + 0.5) * ss)
			ww += w[x]
		}
		k := c.k[i*c.ksize : (i+1)*c.ksize]
		for x := 0; x < xmax; x++ {
			v := w[x]
			if ww != 0 {
				v /= ww
			}
			if v < 0 {
				k[x] = int32(-0.5 + v*(1<<precisionBits))
			} else {
				k[x] = int32(0.5 + v*(1<<precisionBits))
			}
		}
		c.xmin[i], c.cnt[i] = xmin, xmax
	}
	return c
}

func clip8(ss int32) uint8 {
	v := ss >> precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// resizedSize returns the size of the image after the resize step.
func (p Preprocess) resizedSize(w, h int) (int, int) {
	switch {
	case p.ResizeShort > 0:
		s := p.ResizeShort
		if w <= h {
			return s, int(float64(s) * float64(h) / float64(w))
		}
		return int(float64(s) * float64(w) / float64(h)), s
	case p.ResizeH > 0:
		return p.ResizeW, p.ResizeH
	}
	return w, h
}

// cropOffset is torchvision's CenterCrop offset along one axis (Python's
// round-half-even; negative when the crop pads).
func cropOffset(size, crop int) int {
	if crop <= size {
		return int(math.RoundToEven(float64(size-crop) / 2))
	}
	return -((crop - size) / 2)
}

// scratch holds buffers reused across images by one worker.
type scratch struct {
	rgb, tmp, row []uint8
	planar        *planarScratch
	jpeg          *jpegdec.Decoder // reuses its planes: see scratch.decodePath
	file          []byte           // the last file read
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// Apply preprocesses img into dst, which must have length C*H*W of
// p.OutShape() (so p needs a crop or an exact resize). dst is written in CHW
// order; dst must not alias anything img reads.
func (p Preprocess) Apply(img image.Image, dst []float32) error {
	return p.apply(img, dst, &scratch{})
}

func (p Preprocess) apply(img image.Image, dst []float32, s *scratch) error {
	if err := p.Validate(); err != nil {
		return err
	}
	os := p.OutShape()
	if os[1] == 0 {
		return fmt.Errorf("preprocess %q: output size depends on the image (no crop): %w", p.Name, ErrPreprocess)
	}
	oh, ow := os[1], os[2]
	if len(dst) != 3*oh*ow {
		panic(fmt.Sprintf("imageset: Apply: len(dst) = %d, want %d", len(dst), 3*oh*ow))
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return fmt.Errorf("empty image %v: %w", b, ErrCorrupt)
	}
	rw, rh := p.resizedSize(w, h)
	if rw <= 0 || rh <= 0 {
		return fmt.Errorf("image %dx%d resizes to %dx%d: %w", w, h, rw, rh, ErrCorrupt)
	}
	top, left := cropOffset(rh, oh), cropOffset(rw, ow)
	// Resized rows/cols that land in the output.
	ry0, ry1 := max(top, 0), min(top+oh, rh)
	rx0, rx1 := max(left, 0), min(left+ow, rw)

	// Per-channel lookup tables from 8-bit value to output value, computed in
	// float64 and rounded once.
	var lut [3][256]float32
	for oc := 0; oc < 3; oc++ {
		for v := 0; v < 256; v++ {
			lut[oc][v] = float32((float64(v)*p.Scale - p.Mean[oc]) / p.Std[oc])
		}
	}
	src := [3]int{0, 1, 2}
	if p.ChannelOrder == "BGR" {
		src = [3]int{2, 1, 0}
	}
	plane := oh * ow
	// Padding (crop larger than the image) is value 0.
	if ry0 > top || rx0 > left || ry1 < top+oh || rx1 < left+ow {
		for oc := 0; oc < 3; oc++ {
			z := lut[oc][0]
			for i := oc * plane; i < (oc+1)*plane; i++ {
				dst[i] = z
			}
		}
	}
	if ry1 <= ry0 || rx1 <= rx0 {
		return nil
	}
	hc := pilCoeffs(w, rw, rx0, rx1, p.Interpolation, p.Antialias)
	vc := pilCoeffs(h, rh, ry0, ry1, p.Interpolation, p.Antialias)
	// Input window needed.
	ix0, ix1 := w, 0
	for i := 0; i < hc.n; i++ {
		ix0 = min(ix0, hc.xmin[i])
		ix1 = max(ix1, hc.xmin[i]+hc.cnt[i])
	}
	iy0, iy1 := h, 0
	for i := 0; i < vc.n; i++ {
		iy0 = min(iy0, vc.xmin[i])
		iy1 = max(iy1, vc.xmin[i]+vc.cnt[i])
	}
	if ix1 <= ix0 || iy1 <= iy0 {
		return fmt.Errorf("image %dx%d: empty resample window: %w", w, h, ErrCorrupt)
	}
	nx := rx1 - rx0
	rows := iy1 - iy0
	rr := newRowReader(img)
	if haveResampleKernels() {
		if s.planar == nil {
			s.planar = &planarScratch{}
		}
		if resamplePlanar(rr, hc, vc, ix0, ix1, iy0, iy1, dst, plane, ow, ry0-top, rx0-left, &lut, src, s.planar) {
			return nil
		}
	}
	// Horizontal pass: input rows [iy0, iy1) → tmp (rows × nx × 3, uint8).
	ks := hc.ksize
	// The row buffer is padded by ks pixels of zeros so every output can
	// read ks taps (the weights past cnt are zero, as in PIL's tables).
	s.rgb = grow(s.rgb, 3*(ix1-ix0+ks))
	clear(s.rgb[3*(ix1-ix0):])
	s.tmp = grow(s.tmp, rows*nx*3)
	offs := make([]int, nx)
	for i := range offs {
		offs[i] = 3 * (hc.xmin[i] - ix0)
	}
	for y := iy0; y < iy1; y++ {
		rr.row(y, ix0, ix1, s.rgb)
		out := s.tmp[(y-iy0)*nx*3 : (y-iy0+1)*nx*3]
		horizontal(out, s.rgb, offs, hc.k, ks)
	}
	// Vertical pass straight into float32 CHW through the tables. tmp has
	// vks zero rows of padding so every output reads vks rows (the weights
	// past cnt are zero).
	vks := vc.ksize
	stride := nx * 3
	s.tmp = s.tmp[:cap(s.tmp)]
	if len(s.tmp) < (rows+vks)*stride {
		t := make([]uint8, (rows+vks)*stride)
		copy(t, s.tmp[:rows*stride])
		s.tmp = t
	}
	clear(s.tmp[rows*stride : (rows+vks)*stride])
	s.row = grow(s.row, stride)
	for j := 0; j < vc.n; j++ {
		r0 := vc.xmin[j] - iy0
		vertical(s.row, s.tmp[r0*stride:(r0+vks)*stride], stride, vc.k[j*vks:(j+1)*vks])
		oy := ry0 + j - top
		base := oy*ow + (rx0 - left)
		d0 := dst[base : base+nx]
		d1 := dst[plane+base : plane+base+nx]
		d2 := dst[2*plane+base : 2*plane+base+nx]
		l0, l1, l2 := &lut[0], &lut[1], &lut[2]
		row := s.row[:3*len(d0)]
		for i := range d0 {
			q := (*[3]uint8)(row[3*i : 3*i+3])
			d0[i], d1[i], d2[i] = l0[q[src[0]]], l1[q[src[1]]], l2[q[src[2]]]
		}
	}
	return nil
}

// horizontal is one row of PIL's ImagingResampleHorizontal_8bpc for RGB:
// out[3i+c] = clip8(half + sum_t in[offs[i]+3t+c] * k[i*ks+t]). in must
// hold ks padding pixels past the last offset.
func horizontal(out, in []uint8, offs []int, k []int32, ks int) {
	const half = int32(1) << (precisionBits - 1)
	switch ks {
	case 3: // bilinear upscale or no scale
		for i, o := range offs {
			w := (*[3]int32)(k[3*i : 3*i+3])
			q := (*[9]uint8)(in[o : o+9])
			s0 := half + int32(q[0])*w[0] + int32(q[3])*w[1] + int32(q[6])*w[2]
			s1 := half + int32(q[1])*w[0] + int32(q[4])*w[1] + int32(q[7])*w[2]
			s2 := half + int32(q[2])*w[0] + int32(q[5])*w[1] + int32(q[8])*w[2]
			d := (*[3]uint8)(out[3*i : 3*i+3])
			d[0], d[1], d[2] = clip8(s0), clip8(s1), clip8(s2)
		}
	case 5: // bilinear, downscale factor in (1, 2]: 500x375 → 256
		for i, o := range offs {
			w := (*[5]int32)(k[5*i : 5*i+5])
			q := (*[15]uint8)(in[o : o+15])
			s0 := half + int32(q[0])*w[0] + int32(q[3])*w[1] + int32(q[6])*w[2] + int32(q[9])*w[3] + int32(q[12])*w[4]
			s1 := half + int32(q[1])*w[0] + int32(q[4])*w[1] + int32(q[7])*w[2] + int32(q[10])*w[3] + int32(q[13])*w[4]
			s2 := half + int32(q[2])*w[0] + int32(q[5])*w[1] + int32(q[8])*w[2] + int32(q[11])*w[3] + int32(q[14])*w[4]
			d := (*[3]uint8)(out[3*i : 3*i+3])
			d[0], d[1], d[2] = clip8(s0), clip8(s1), clip8(s2)
		}
	case 7: // bilinear, factor in (2, 3]
		for i, o := range offs {
			w := (*[7]int32)(k[7*i : 7*i+7])
			q := (*[21]uint8)(in[o : o+21])
			s0 := half + int32(q[0])*w[0] + int32(q[3])*w[1] + int32(q[6])*w[2] + int32(q[9])*w[3] + int32(q[12])*w[4] + int32(q[15])*w[5] + int32(q[18])*w[6]
			s1 := half + int32(q[1])*w[0] + int32(q[4])*w[1] + int32(q[7])*w[2] + int32(q[10])*w[3] + int32(q[13])*w[4] + int32(q[16])*w[5] + int32(q[19])*w[6]
			s2 := half + int32(q[2])*w[0] + int32(q[5])*w[1] + int32(q[8])*w[2] + int32(q[11])*w[3] + int32(q[14])*w[4] + int32(q[17])*w[5] + int32(q[20])*w[6]
			d := (*[3]uint8)(out[3*i : 3*i+3])
			d[0], d[1], d[2] = clip8(s0), clip8(s1), clip8(s2)
		}
	case 9: // bilinear, factor in (3, 4]; bicubic (1, 2]
		for i, o := range offs {
			w := (*[9]int32)(k[9*i : 9*i+9])
			q := (*[27]uint8)(in[o : o+27])
			s0 := half + int32(q[0])*w[0] + int32(q[3])*w[1] + int32(q[6])*w[2] + int32(q[9])*w[3] + int32(q[12])*w[4] + int32(q[15])*w[5] + int32(q[18])*w[6] + int32(q[21])*w[7] + int32(q[24])*w[8]
			s1 := half + int32(q[1])*w[0] + int32(q[4])*w[1] + int32(q[7])*w[2] + int32(q[10])*w[3] + int32(q[13])*w[4] + int32(q[16])*w[5] + int32(q[19])*w[6] + int32(q[22])*w[7] + int32(q[25])*w[8]
			s2 := half + int32(q[2])*w[0] + int32(q[5])*w[1] + int32(q[8])*w[2] + int32(q[11])*w[3] + int32(q[14])*w[4] + int32(q[17])*w[5] + int32(q[20])*w[6] + int32(q[23])*w[7] + int32(q[26])*w[8]
			d := (*[3]uint8)(out[3*i : 3*i+3])
			d[0], d[1], d[2] = clip8(s0), clip8(s1), clip8(s2)
		}
	default:
		for i, o := range offs {
			w := k[ks*i : ks*i+ks]
			q := in[o : o+3*ks]
			s0, s1, s2 := half, half, half
			for t, kv := range w {
				p := q[3*t : 3*t+3 : 3*t+3]
				s0 += int32(p[0]) * kv
				s1 += int32(p[1]) * kv
				s2 += int32(p[2]) * kv
			}
			out[3*i], out[3*i+1], out[3*i+2] = clip8(s0), clip8(s1), clip8(s2)
		}
	}
}

// vertical is one output row of PIL's ImagingResampleVertical_8bpc:
// out[i] = clip8(half + sum_t rows[t*stride+i] * k[t]).
func vertical(out, rows []uint8, stride int, k []int32) {
	const half = int32(1) << (precisionBits - 1)
	out = out[:stride]
	switch len(k) {
	case 3:
		w := (*[3]int32)(k)
		r0, r1, r2 := rows[0*stride : 1*stride][:len(out)], rows[1*stride : 2*stride][:len(out)], rows[2*stride : 3*stride][:len(out)]
		for i := range out {
			out[i] = clip8(half + int32(r0[i])*w[0] + int32(r1[i])*w[1] + int32(r2[i])*w[2])
		}
	case 5:
		w := (*[5]int32)(k)
		r0, r1, r2, r3, r4 := rows[0*stride : 1*stride][:len(out)], rows[1*stride : 2*stride][:len(out)], rows[2*stride : 3*stride][:len(out)], rows[3*stride : 4*stride][:len(out)], rows[4*stride : 5*stride][:len(out)]
		for i := range out {
			out[i] = clip8(half + int32(r0[i])*w[0] + int32(r1[i])*w[1] + int32(r2[i])*w[2] + int32(r3[i])*w[3] + int32(r4[i])*w[4])
		}
	case 7:
		w := (*[7]int32)(k)
		r0, r1, r2, r3, r4, r5, r6 := rows[0*stride : 1*stride][:len(out)], rows[1*stride : 2*stride][:len(out)], rows[2*stride : 3*stride][:len(out)], rows[3*stride : 4*stride][:len(out)], rows[4*stride : 5*stride][:len(out)], rows[5*stride : 6*stride][:len(out)], rows[6*stride : 7*stride][:len(out)]
		for i := range out {
			out[i] = clip8(half + int32(r0[i])*w[0] + int32(r1[i])*w[1] + int32(r2[i])*w[2] + int32(r3[i])*w[3] + int32(r4[i])*w[4] + int32(r5[i])*w[5] + int32(r6[i])*w[6])
		}
	case 9:
		w := (*[9]int32)(k)
		r0, r1, r2, r3, r4, r5, r6, r7, r8 := rows[0*stride : 1*stride][:len(out)], rows[1*stride : 2*stride][:len(out)], rows[2*stride : 3*stride][:len(out)], rows[3*stride : 4*stride][:len(out)], rows[4*stride : 5*stride][:len(out)], rows[5*stride : 6*stride][:len(out)], rows[6*stride : 7*stride][:len(out)], rows[7*stride : 8*stride][:len(out)], rows[8*stride : 9*stride][:len(out)]
		for i := range out {
			out[i] = clip8(half + int32(r0[i])*w[0] + int32(r1[i])*w[1] + int32(r2[i])*w[2] + int32(r3[i])*w[3] + int32(r4[i])*w[4] + int32(r5[i])*w[5] + int32(r6[i])*w[6] + int32(r7[i])*w[7] + int32(r8[i])*w[8])
		}
	default:
		for i := range out {
			s := half
			for t, kv := range k {
				s += int32(rows[t*stride+i]) * kv
			}
			out[i] = clip8(s)
		}
	}
}
