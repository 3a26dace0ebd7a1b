package imageset

import (
	"image"
	"image/color"
)

// rowReader converts rows of a decoded image to interleaved 8-bit RGB with
// PIL's convert("RGB") semantics. row(y, x0, x1, dst) writes pixels
// [x0, x1) of row y (coordinates relative to Bounds().Min) into
// dst[0:3*(x1-x0)].
type rowReader interface {
	row(y, x0, x1 int, dst []uint8)
}

// libjpeg's fixed-point YCbCr→RGB tables (jdcolor.c, SCALEBITS 16), so JPEG
// colors match PIL's (libjpeg-turbo's) conversion exactly.
var crR, cbB, crG, cbG [256]int32

func init() {
	const scaleBits = 16
	const half = 1 << (scaleBits - 1)
	fix := func(x float64) int32 { return int32(x*(1<<scaleBits) + 0.5) }
	for i := 0; i < 256; i++ {
		x := int32(i - 128)
		crR[i] = (fix(1.40200)*x + half) >> scaleBits
		cbB[i] = (fix(1.77200)*x + half) >> scaleBits
		crG[i] = -fix(0.71414) * x
		cbG[i] = -fix(0.34414)*x + half
	}
}

// rangeLimit[v+rlOff] is v clamped to 0..255 for v in [-rlOff, 767-rlOff]
// (libjpeg's range_limit); Y + chroma terms stay in [-227, 482].
var rangeLimit [1024]uint8

const rlOff = 384

func init() {
	for i := range rangeLimit {
		rangeLimit[i] = clampU8(int32(i - rlOff))
	}
}

// yccRL converts one pixel with libjpeg's tables; cb, cr are 0..255.
func yccRL(y uint8, cb, cr int32, d *[3]uint8) {
	Y := int32(y) + rlOff
	cb8, cr8 := uint8(cb), uint8(cr)
	d[0] = rangeLimit[uint32(Y+crR[cr8])&1023]
	d[1] = rangeLimit[uint32(Y+((cbG[cb8]+crG[cr8])>>16))&1023]
	d[2] = rangeLimit[uint32(Y+cbB[cb8])&1023]
}

func clampU8(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

func yccToRGB(y, cb, cr uint8, d []uint8) {
	Y := int32(y)
	d[0] = clampU8(Y + crR[cr])
	d[1] = clampU8(Y + ((cbG[cb] + crG[cr]) >> 16))
	d[2] = clampU8(Y + cbB[cb])
}

func newRowReader(img image.Image) rowReader {
	switch m := img.(type) {
	case *image.YCbCr:
		return newYCbCrReader(m)
	case *image.Gray:
		return grayReader{m}
	case *image.CMYK:
		return cmykReader{m}
	case *image.NRGBA:
		return nrgbaReader{m}
	case *image.RGBA:
		return rgbaReader{m}
	case *image.Paletted:
		r := paletteReader{m: m}
		for i, c := range m.Palette {
			if i >= 256 {
				break
			}
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			r.lut[i] = [3]uint8{n.R, n.G, n.B}
		}
		return r
	case *image.Gray16:
		return gray16Reader{m}
	case *image.RGBA64:
		return rgba64Reader{m}
	case *image.NRGBA64:
		return nrgba64Reader{m}
	}
	return genericReader{img}
}

type grayReader struct{ m *image.Gray }

func (r grayReader) rowPlanar(y, x0, x1 int, dr, dg, db []uint8) {
	p := r.m.Pix[y*r.m.Stride+x0 : y*r.m.Stride+x1]
	copy(dr, p)
	copy(dg, p)
	copy(db, p)
}

func (r grayReader) row(y, x0, x1 int, d []uint8) {
	p := r.m.Pix[y*r.m.Stride+x0 : y*r.m.Stride+x1]
	for i, v := range p {
		d[3*i], d[3*i+1], d[3*i+2] = v, v, v
	}
}

// cmykReader follows PIL's cmyk2rgb (Convert.c): r = (255-k) -
// MULDIV255(c, 255-k). Go's jpeg decoder already undoes Adobe's inversion.
type cmykReader struct{ m *image.CMYK }

func (r cmykReader) row(y, x0, x1 int, d []uint8) {
	p := r.m.Pix[y*r.m.Stride+4*x0 : y*r.m.Stride+4*x1]
	for i := 0; i+3 < len(p); i += 4 {
		nk := 255 - int32(p[i+3])
		for c := 0; c < 3; c++ {
			t := int32(p[i+c])*nk + 128
			d[3*(i/4)+c] = clampU8(nk - ((t>>8)+t)>>8)
		}
	}
}

type nrgbaReader struct{ m *image.NRGBA }

func (r nrgbaReader) row(y, x0, x1 int, d []uint8) {
	p := r.m.Pix[y*r.m.Stride+4*x0 : y*r.m.Stride+4*x1]
	for i := 0; i+3 < len(p); i += 4 {
		j := 3 * (i / 4)
		d[j], d[j+1], d[j+2] = p[i], p[i+1], p[i+2]
	}
}

type rgbaReader struct{ m *image.RGBA }

func (r rgbaReader) row(y, x0, x1 int, d []uint8) {
	p := r.m.Pix[y*r.m.Stride+4*x0 : y*r.m.Stride+4*x1]
	for i := 0; i+3 < len(p); i += 4 {
		j := 3 * (i / 4)
		a := p[i+3]
		if a == 255 {
			d[j], d[j+1], d[j+2] = p[i], p[i+1], p[i+2]
			continue
		}
		n := color.NRGBAModel.Convert(color.RGBA{p[i], p[i+1], p[i+2], a}).(color.NRGBA)
		d[j], d[j+1], d[j+2] = n.R, n.G, n.B
	}
}

type paletteReader struct {
	m   *image.Paletted
	lut [256][3]uint8
}

func (r paletteReader) row(y, x0, x1 int, d []uint8) {
	p := r.m.Pix[y*r.m.Stride+x0 : y*r.m.Stride+x1]
	for i, v := range p {
		c := r.lut[v]
		d[3*i], d[3*i+1], d[3*i+2] = c[0], c[1], c[2]
	}
}

// 16-bit images keep the high byte, as PIL does for 16-bit RGB(A) PNGs
// ("RGB;16B"). For 16-bit grayscale PIL opens mode "I" and convert("RGB")
// clips values to 255 (nearly all white); preconv keeps the high byte
// instead, a deliberate deviation.
type gray16Reader struct{ m *image.Gray16 }

func (r gray16Reader) row(y, x0, x1 int, d []uint8) {
	p := r.m.Pix[y*r.m.Stride+2*x0 : y*r.m.Stride+2*x1]
	for i := 0; i+1 < len(p); i += 2 {
		j := 3 * (i / 2)
		d[j], d[j+1], d[j+2] = p[i], p[i], p[i]
	}
}

type rgba64Reader struct{ m *image.RGBA64 }

func (r rgba64Reader) row(y, x0, x1 int, d []uint8) {
	p := r.m.Pix[y*r.m.Stride+8*x0 : y*r.m.Stride+8*x1]
	for i := 0; i+7 < len(p); i += 8 {
		j := 3 * (i / 8)
		if p[i+6] == 0xff && p[i+7] == 0xff {
			d[j], d[j+1], d[j+2] = p[i], p[i+2], p[i+4]
			continue
		}
		c := color.RGBA64{uint16(p[i])<<8 | uint16(p[i+1]), uint16(p[i+2])<<8 | uint16(p[i+3]),
			uint16(p[i+4])<<8 | uint16(p[i+5]), uint16(p[i+6])<<8 | uint16(p[i+7])}
		n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
		d[j], d[j+1], d[j+2] = uint8(n.R>>8), uint8(n.G>>8), uint8(n.B>>8)
	}
}

type nrgba64Reader struct{ m *image.NRGBA64 }

func (r nrgba64Reader) row(y, x0, x1 int, d []uint8) {
	p := r.m.Pix[y*r.m.Stride+8*x0 : y*r.m.Stride+8*x1]
	for i := 0; i+7 < len(p); i += 8 {
		j := 3 * (i / 8)
		d[j], d[j+1], d[j+2] = p[i], p[i+2], p[i+4]
	}
}

type genericReader struct{ m image.Image }

func (r genericReader) row(y, x0, x1 int, d []uint8) {
	b := r.m.Bounds()
	for x := x0; x < x1; x++ {
		n := color.NRGBAModel.Convert(r.m.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
		j := 3 * (x - x0)
		d[j], d[j+1], d[j+2] = n.R, n.G, n.B
	}
}

// ycbcrReader upsamples chroma with libjpeg's "fancy" triangle filters
// (jdsample.c h2v1/h2v2/h1v2_fancy_upsample, edges replicated) and converts
// with libjpeg's tables. Ratios other than 4:4:4, 4:2:2, 4:2:0 and 4:4:0 use
// plain replication, as libjpeg does for them.
type ycbcrReader struct {
	m      *image.YCbCr
	w, h   int // image size
	cw, ch int // real chroma plane size (ceil of the subsampled size)
	hs, vs int // 1 or 2: horizontal and vertical chroma factors for fancy paths
	fancy  bool
	cb, cr []uint8 // upsampled chroma for one row, scratch
	sums   []int32 // column sums for rowH2V2, scratch
	rgb    []uint8 // interleaved row for rowPlanar, scratch
}

func newYCbCrReader(m *image.YCbCr) *ycbcrReader {
	b := m.Bounds()
	r := &ycbcrReader{m: m, w: b.Dx(), h: b.Dy(), hs: 1, vs: 1, fancy: true}
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
	case image.YCbCrSubsampleRatio422:
		r.hs = 2
	case image.YCbCrSubsampleRatio420:
		r.hs, r.vs = 2, 2
	case image.YCbCrSubsampleRatio440:
		r.vs = 2
	default:
		r.fancy = false
	}
	r.cw, r.ch = (r.w+r.hs-1)/r.hs, (r.h+r.vs-1)/r.vs
	// Fancy paths index planes from (0,0); sub-images fall back.
	if b.Min != (image.Point{}) {
		r.fancy = false
	}
	return r
}

func (r *ycbcrReader) row(y, x0, x1 int, d []uint8) {
	m := r.m
	if !r.fancy {
		b := m.Bounds()
		for x := x0; x < x1; x++ {
			yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
			ci := m.COffset(b.Min.X+x, b.Min.Y+y)
			yccToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci], d[3*(x-x0):])
		}
		return
	}
	n := x1 - x0
	if r.hs == 2 && r.vs == 2 {
		r.rowH2V2(y, x0, x1, d)
		return
	}
	if cap(r.cb) < n {
		r.cb, r.cr = make([]uint8, n), make([]uint8, n)
	}
	cb, cr := r.cb[:n], r.cr[:n]
	r.upsample(m.Cb, y, x0, x1, cb)
	r.upsample(m.Cr, y, x0, x1, cr)
	yrow := m.Y[y*m.YStride+x0 : y*m.YStride+x1]
	cb, cr = cb[:len(yrow)], cr[:len(yrow)]
	d = d[:3*len(yrow)]
	for i, yv := range yrow {
		yccRL(yv, int32(cb[i]), int32(cr[i]), (*[3]uint8)(d[3*i:3*i+3]))
	}
}

// upsample writes the full-resolution chroma of image row y, columns
// [x0, x1), into dst.
func (r *ycbcrReader) upsample(plane []uint8, y, x0, x1 int, dst []uint8) {
	cs := r.m.CStride
	clampC := func(i int) int { return min(max(i, 0), r.cw-1) }
	switch {
	case r.hs == 1 && r.vs == 1:
		copy(dst, plane[y*cs+x0:y*cs+x1])
	case r.hs == 2 && r.vs == 1: // h2v1
		row := plane[y*cs : y*cs+r.cw]
		for x := x0; x < x1; x++ {
			i := x >> 1
			c := 3 * int32(row[i])
			if x&1 == 0 {
				dst[x-x0] = uint8((c + int32(row[clampC(i-1)]) + 1) >> 2)
			} else {
				dst[x-x0] = uint8((c + int32(row[clampC(i+1)]) + 2) >> 2)
			}
		}
	case r.hs == 1 && r.vs == 2: // h1v2
		cy := y >> 1
		ny := cy - 1
		bias := int32(1)
		if y&1 == 1 {
			ny, bias = cy+1, 2
		}
		ny = min(max(ny, 0), r.ch-1)
		r0, r1 := plane[cy*cs:cy*cs+r.cw], plane[ny*cs:ny*cs+r.cw]
		for x := x0; x < x1; x++ {
			dst[x-x0] = uint8((3*int32(r0[x]) + int32(r1[x]) + bias) >> 2)
		}
	default: // h2v2
		cy := y >> 1
		ny := cy - 1
		if y&1 == 1 {
			ny = cy + 1
		}
		ny = min(max(ny, 0), r.ch-1)
		r0, r1 := plane[cy*cs:cy*cs+r.cw], plane[ny*cs:ny*cs+r.cw]
		colsum := func(i int) int32 { i = clampC(i); return 3*int32(r0[i]) + int32(r1[i]) }
		for x := x0; x < x1; x++ {
			i := x >> 1
			if x&1 == 0 {
				dst[x-x0] = uint8((3*colsum(i) + colsum(i-1) + 8) >> 4)
			} else {
				dst[x-x0] = uint8((3*colsum(i) + colsum(i+1) + 7) >> 4)
			}
		}
	}
}

// rowH2V2 is the 4:2:0 path of row, fused: column sums of the two chroma
// rows (jdsample.c h2v2_fancy_upsample) for the needed chroma columns, then
// the horizontal triangle and the color conversion in one loop.
func (r *ycbcrReader) rowH2V2(y, x0, x1 int, d []uint8) {
	m := r.m
	cs := m.CStride
	cy := y >> 1
	ny := cy - 1
	if y&1 == 1 {
		ny = cy + 1
	}
	ny = min(max(ny, 0), r.ch-1)
	c0, c1 := x0>>1-1, (x1-1)>>1+2 // chroma columns, with one of context each side
	nc := c1 - c0
	if cap(r.sums) < 2*nc {
		r.sums = make([]int32, 2*nc)
	}
	sb, sr := r.sums[:nc], r.sums[nc:2*nc]
	b0, b1 := m.Cb[cy*cs:cy*cs+r.cw], m.Cb[ny*cs:ny*cs+r.cw]
	r0, r1 := m.Cr[cy*cs:cy*cs+r.cw], m.Cr[ny*cs:ny*cs+r.cw]
	for i := range sb {
		ii := min(max(c0+i, 0), r.cw-1)
		sb[i] = 3*int32(b0[ii]) + int32(b1[ii])
		sr[i] = 3*int32(r0[ii]) + int32(r1[ii])
	}
	yrow := m.Y[y*m.YStride+x0 : y*m.YStride+x1]
	d = d[:3*len(yrow)]
	k := 0
	if x0&1 == 1 { // odd first column: the right half of a pair
		j := x0>>1 - c0
		cb, cr := (3*sb[j]+sb[j+1]+7)>>4, (3*sr[j]+sr[j+1]+7)>>4
		yccRL(yrow[0], cb, cr, (*[3]uint8)(d[0:3]))
		k = 1
	}
	for ; k+1 < len(yrow); k += 2 {
		j := (x0+k)>>1 - c0
		b3, r3 := 3*sb[j], 3*sr[j]
		yccRL(yrow[k], (b3+sb[j-1]+8)>>4, (r3+sr[j-1]+8)>>4, (*[3]uint8)(d[3*k:3*k+3]))
		yccRL(yrow[k+1], (b3+sb[j+1]+7)>>4, (r3+sr[j+1]+7)>>4, (*[3]uint8)(d[3*k+3:3*k+6]))
	}
	if k < len(yrow) { // even last column
		j := (x0+k)>>1 - c0
		cb, cr := (3*sb[j]+sb[j-1]+8)>>4, (3*sr[j]+sr[j-1]+8)>>4
		yccRL(yrow[k], cb, cr, (*[3]uint8)(d[3*k:3*k+3]))
	}
}

// rowPlanar is row with the three channels written to separate slices
// (the planar resampling path, which runs where the AVX-512 kernels do).
// For every fancy layout the chroma of each pixel is
// (3*sums[main] + sums[neighbour] + bias) >> 4 over per-row column sums:
//
//	4:2:0  sums = 3*near + far of chroma columns, main/neighbour as
//	       jdsample.c h2v2 (biases 8 even, 7 odd columns)
//	4:2:2  sums = 4*c, h2v1 (biases 4 and 8: (3c+c'+1)>>2, (3c+c'+2)>>2)
//	4:4:0  sums = 3*near + far per column, no horizontal step
//	       (bias 4 or 8: h1v2's 1 or 2 by row parity)
//	4:4:4  sums = 4*c (bias 0)
//
// which yccRow's kernels compute 16 (AVX-512) or 8 (AVX2) pixels at a time
// with the color conversion; the tail of the row runs the same formula in
// Go. Other
// layouts convert through row.
func (r *ycbcrReader) rowPlanar(y, x0, x1 int, dr, dg, db []uint8) {
	n := x1 - x0
	if !r.fancy || n <= 0 {
		r.rgb = rowSplit(r, y, x0, x1, dr, dg, db, r.rgb)
		return
	}
	m := r.m
	cs := m.CStride
	// Chroma rows: near and far (the same row when there is no vertical
	// subsampling).
	cy, ny := y, y
	if r.vs == 2 {
		cy = y >> 1
		ny = cy - 1
		if y&1 == 1 {
			ny = cy + 1
		}
		ny = min(max(ny, 0), r.ch-1)
	}
	var tab *[52]int32
	var c0, nc, adv int
	if r.hs == 2 {
		c0 = x0>>1 - 1
		nc = (x1-1)>>1 + 2 - c0
		adv = 32
		if r.vs == 2 {
			tab = &yccTab420[x0&1]
		} else {
			tab = &yccTab422[x0&1]
		}
	} else {
		c0, nc, adv = x0, n, 64
		switch {
		case r.vs == 1:
			tab = &yccTab444
		case y&1 == 0:
			tab = &yccTab440[0]
		default:
			tab = &yccTab440[1]
		}
	}
	const pad = 16
	if cap(r.sums) < 2*(nc+pad) {
		r.sums = make([]int32, 2*(nc+pad))
	}
	sb, sr := r.sums[:nc+pad], r.sums[nc+pad:2*(nc+pad)]
	b0, b1 := m.Cb[cy*cs:cy*cs+r.cw], m.Cb[ny*cs:ny*cs+r.cw]
	r0, r1 := m.Cr[cy*cs:cy*cs+r.cw], m.Cr[ny*cs:ny*cs+r.cw]
	lo, hi := max(-c0, 0), min(r.cw-c0, nc) // entries needing no clamp
	for i := 0; i < nc; i++ {
		if i == lo && hi > lo {
			bb0, bb1 := b0[c0+lo:c0+hi], b1[c0+lo:c0+hi]
			rr0, rr1 := r0[c0+lo:c0+hi], r1[c0+lo:c0+hi]
			db, dr := sb[lo:hi], sr[lo:hi]
			for k := range db {
				db[k] = 3*int32(bb0[k]) + int32(bb1[k])
				dr[k] = 3*int32(rr0[k]) + int32(rr1[k])
			}
			i = hi - 1
			continue
		}
		ii := min(max(c0+i, 0), r.cw-1)
		sb[i] = 3*int32(b0[ii]) + int32(b1[ii])
		sr[i] = 3*int32(r0[ii]) + int32(r1[ii])
	}
	yrow := m.Y[y*m.YStride+x0 : y*m.YStride+x1]
	dr, dg, db = dr[:n], dg[:n], db[:n]
	k := yccRow(&dr[0], &dg[0], &db[0], &yrow[0], &sb[0], &sr[0], n, tab, adv)
	step := adv / 4
	for ; k < n; k++ {
		g, p := k/16, k%16
		mi, ni := step*g+int(tab[p]), step*g+int(tab[16+p])
		bias := tab[32+p]
		cb, cr := (3*sb[mi]+sb[ni]+bias)>>4, (3*sr[mi]+sr[ni]+bias)>>4
		Y := int32(yrow[k]) + rlOff
		cb8, cr8 := uint8(cb), uint8(cr)
		dr[k] = rangeLimit[uint32(Y+crR[cr8])&1023]
		dg[k] = rangeLimit[uint32(Y+((cbG[cb8]+crG[cr8])>>16))&1023]
		db[k] = rangeLimit[uint32(Y+cbB[cb8])&1023]
	}
}

// yccRowAVX512's tables (see rowPlanar): for 2:1 horizontal subsampling
// the group's window of sums starts one chroma column before the group's
// first chroma column, so pixel m of a group starting at an even column
// uses column 1 + m/2 (odd start: 1 + (m+1)/2) and its left neighbour for
// even image columns, its right one for odd columns. Without horizontal
// subsampling main = neighbour = m. Biases as listed at rowPlanar; the
// last four entries are libjpeg's color multipliers (jdcolor.c,
// SCALEBITS 16).
var (
	yccTab420 = [2][52]int32{yccTab(true, 0, 8, 7), yccTab(true, 1, 8, 7)}
	yccTab422 = [2][52]int32{yccTab(true, 0, 4, 8), yccTab(true, 1, 4, 8)}
	yccTab440 = [2][52]int32{yccTab(false, 0, 4, 4), yccTab(false, 0, 8, 8)}
	yccTab444 = yccTab(false, 0, 0, 0)
)

func yccTab(h2 bool, parity int, evenBias, oddBias int32) (t [52]int32) {
	const scaleBits = 16
	fix := func(x float64) int32 { return int32(x*(1<<scaleBits) + 0.5) }
	for m := 0; m < 16; m++ {
		if !h2 {
			t[m], t[16+m], t[32+m] = int32(m), int32(m), evenBias
			continue
		}
		main := 1 + int32((parity+m)>>1)
		if (parity+m)&1 == 0 { // even image column: left neighbour
			t[m], t[16+m], t[32+m] = main, main-1, evenBias
		} else {
			t[m], t[16+m], t[32+m] = main, main+1, oddBias
		}
	}
	t[48], t[49], t[50], t[51] = fix(1.40200), -fix(0.34414), -fix(0.71414), fix(1.77200)
	return
}
