package nn

import "math"

// Depthwise (one input channel per group) convolution.
//
// Each input plane is first copied into a zero-padded, column-phase-split
// buffer (see dwPlane), after which every kernel tap (ky, kx) of every
// output row reads a contiguous run of that buffer. The whole conv then
// reduces to the tap kernel dwRows:
//
//	dst[oy·ldd + ox] = clamp(bias + Σ_t w[t]·src[oy·rs + off[t] + ox], lo, hi)
//
// which is vectorized over ox (AVX-512 in depthwise_amd64.s, a
// bounds-check-free Go loop in dwRowsGo). Padding, any stride, dilation and
// kernel size are all absorbed by the buffer layout and the tap offsets,
// so the kernel has no border cases.

// dwGeom is the buffer layout of one padded plane for a depthwise conv.
type dwGeom struct {
	rows   int   // padded rows actually read: (oh−1)·sh + (kh−1)·dh + 1
	rowLen int   // floats per buffer row (= padded width)
	phase  []int // phase[q]: start of column phase q (columns c ≡ q mod sw) in a row
	off    []int // tap offsets, kh·kw, row-major over (ky, kx)
	rs     int   // buffer floats per output row: sh·rowLen
}

// newDwGeom lays out the padded plane for g: buffer column index of padded
// column c is phase[c mod sw] + c/sw, so for output column ox the tap kx
// reads phase[(kx·dw) mod sw] + (kx·dw)/sw + ox: contiguous in ox.
func newDwGeom(g *convGeom, padR int) dwGeom {
	pw := g.w + g.pl + padR
	d := dwGeom{rowLen: pw, rows: (g.oh-1)*g.sh + (g.kh-1)*g.dh + 1}
	d.phase = make([]int, g.sw)
	for q, start := 0, 0; q < g.sw; q++ {
		d.phase[q] = start
		if pw > q {
			start += (pw - q + g.sw - 1) / g.sw
		}
	}
	d.off = make([]int, 0, g.kh*g.kw)
	for ky := 0; ky < g.kh; ky++ {
		for kx := 0; kx < g.kw; kx++ {
			c := kx * g.dw
			d.off = append(d.off, ky*g.dh*pw+d.phase[c%g.sw]+c/g.sw)
		}
	}
	d.rs = g.sh * pw
	return d
}

// fill writes input plane x (h × w, rows ld floats apart) into buf
// (d.rows × d.rowLen), zero padded by pt rows on top and pl columns on the
// left, columns split into stride phases.
func (d *dwGeom) fill(g *convGeom, buf, x []float32, ld int) {
	pw, sw := d.rowLen, g.sw
	for r := 0; r < d.rows; r++ {
		row := buf[r*pw : (r+1)*pw]
		iy := r - g.pt
		if iy < 0 || iy >= g.h {
			clear(row)
			continue
		}
		in := x[iy*ld : iy*ld+g.w]
		if sw == 1 {
			clear(row[:g.pl])
			copy(row[g.pl:], in)
			clear(row[g.pl+g.w:])
			continue
		}
		for q := 0; q < sw; q++ {
			end := pw
			if q+1 < sw {
				end = d.phase[q+1]
			}
			ph := row[d.phase[q]:end]
			// ph[j] is padded column q + j·sw, input column q + j·sw − pl:
			// inside the image for j in [lo, hi).
			lo := 0
			if g.pl > q {
				lo = (g.pl - q + sw - 1) / sw
			}
			hi := 0
			if g.w+g.pl > q {
				hi = (g.w + g.pl - q + sw - 1) / sw
			}
			lo, hi = min(lo, len(ph)), min(hi, len(ph))
			if hi < lo {
				hi = lo
			}
			clear(ph[:lo])
			clear(ph[hi:])
			if hi > lo {
				src := in[q+lo*sw-g.pl:]
				dst := ph[lo:hi]
				if sw == 2 {
					evens(dst, src)
				} else {
					for j := range dst {
						dst[j] = src[j*sw]
					}
				}
			}
		}
	}
}

// depthwise computes a conv with one input channel per group (depthwise
// and its channel-multiplier variants), bias and activation included, using
// up to threads goroutines over channels.
func (c *Conv2d) depthwise(g *convGeom, dst, x []float32, threads int) {
	d := newDwGeom(g, c.Pad[3])
	lo, hi, ok := c.Act.bounds()
	if !ok {
		lo, hi = float32(math.Inf(-1)), float32(math.Inf(1))
	}
	mult := g.og // output channels per input channel
	taps := g.kh * g.kw
	plane := g.h * g.w
	work := func(ci int) {
		buf := getScratch(d.rows*d.rowLen + 1)
		b := (*buf)[:d.rows*d.rowLen]
		d.fill(g, b, x[ci*plane:(ci+1)*plane], g.w)
		for o := ci * mult; o < (ci+1)*mult; o++ {
			var bias float32
			if c.Bias != nil {
				bias = c.Bias.Data[o]
			}
			dwRows(dst[o*g.npix:(o+1)*g.npix], g.ow, b, d.rs, g.oh, g.ow, d.off,
				c.Weight.Data[o*taps:(o+1)*taps], bias, lo, hi)
		}
		putScratch(buf)
	}
	if threads <= 1 || g.cin < 2 {
		for ci := 0; ci < g.cin; ci++ {
			work(ci)
		}
		return
	}
	parallelFor(g.cin, threads, work)
}

// dwRowsGo is the reference for dwRows: for oy in [0, oh), ox in [0, ow)
//
//	dst[oy·ldd + ox] = clamp(bias + Σ_t w[t]·src[oy·rs + off[t] + ox], lo, hi)
//
// where clamp keeps NaN. Every src index must be in range.
func dwRowsGo(dst []float32, ldd int, src []float32, rs, oh, ow int, off []int, w []float32, bias, lo, hi float32) {
	w = w[:len(off)]
	for oy := 0; oy < oh; oy++ {
		out := dst[oy*ldd : oy*ldd+ow]
		base := oy * rs
		if len(off) == 9 {
			dwRow9(out, src, base, off, w, bias)
		} else {
			for i := range out {
				out[i] = bias
			}
			for t, o := range off {
				in := src[base+o : base+o+len(out)]
				wt := w[t]
				for i, v := range in {
					out[i] += wt * v
				}
			}
		}
		for i, v := range out {
			if v < lo {
				out[i] = lo
			} else if v > hi {
				out[i] = hi
			}
		}
	}
}

// dwRow9 is one output row of a 3×3 (9-tap) kernel, without clamping.
func dwRow9(out, src []float32, base int, off []int, w []float32, bias float32) {
	n := len(out)
	off = off[:9]
	w = w[:9]
	r0, r1, r2 := src[base+off[0]:][:n], src[base+off[1]:][:n], src[base+off[2]:][:n]
	r3, r4, r5 := src[base+off[3]:][:n], src[base+off[4]:][:n], src[base+off[5]:][:n]
	r6, r7, r8 := src[base+off[6]:][:n], src[base+off[7]:][:n], src[base+off[8]:][:n]
	w0, w1, w2, w3, w4, w5, w6, w7, w8 := w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8]
	for i := range out {
		s := bias + w0*r0[i] + w1*r1[i] + w2*r2[i]
		s += w3*r3[i] + w4*r4[i] + w5*r5[i]
		s += w6*r6[i] + w7*r7[i] + w8*r8[i]
		out[i] = s
	}
}

// biasClampGo is the reference for biasClamp: v[i] = min(max(v[i]+bias,
// lo), hi), NaN kept.
func biasClampGo(v []float32, bias, lo, hi float32) {
	for i, x := range v {
		v[i] = min(max(x+bias, lo), hi)
	}
}

// clampTo sets dst[i] = min(max(src[i], lo), hi), NaN kept, in one pass.
func clampTo(dst, src []float32, lo, hi float32) {
	if len(src) == 0 {
		return
	}
	dwRows(dst, len(src), src, 0, 1, len(src), []int{0}, []float32{1}, 0, lo, hi)
}

// evensGo is the reference for evens: dst[j] = src[2j].
func evensGo(dst, src []float32) {
	if len(dst) == 0 {
		return
	}
	src = src[:2*len(dst)-1]
	for j := range dst {
		dst[j] = src[2*j]
	}
}
