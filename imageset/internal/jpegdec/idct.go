package jpegdec

// libjpeg's islow constants (jidctint.c, CONST_BITS = 13): FIX(x) =
// round(x * 2^13).
const (
	constBits = 13
	pass1Bits = 2

	fix0_298631336 = 2446
	fix0_390180644 = 3196
	fix0_541196100 = 4433
	fix0_765366865 = 6270
	fix0_899976223 = 7373
	fix1_175875602 = 9633
	fix1_501321110 = 12299
	fix1_847759065 = 15137
	fix1_961570560 = 16069
	fix2_053119869 = 16819
	fix2_562915447 = 20995
	fix3_072711026 = 25172
)

// idctRow inverse-transforms the blocks of MCU row my into the planes and
// zeroes the coefficients again for the next row.
func (d *Decoder) idctRow(my int) {
	var rowOff [3]int
	for ci := 0; ci < d.ncomp; ci++ {
		c := &d.comp[ci]
		rowOff[ci] = 8 * c.v * my * c.stride
	}
	for i := range d.blocks {
		b := &d.blocks[i]
		c := &d.comp[b.comp]
		blk := (*[64]int16)(d.coef[64*i : 64*i+64])
		q := &d.qt[c.tq]
		dst := d.planes[b.comp][rowOff[b.comp]+b.off:]
		if b.dcOnly {
			// Only DC: both passes reduce to one rounding of DC·q·4.
			v := clampSample((int32(blk[0])*q[0]<<pass1Bits + 1<<(pass1Bits+2)) >> (pass1Bits + 3))
			for y := 0; y < 8; y++ {
				r := dst[y*c.stride : y*c.stride+8]
				for x := range r {
					r[x] = v
				}
			}
			blk[0] = 0
			continue
		}
		idctBlock(blk, q, dst, c.stride)
	}
}

func clampSample(v int32) uint8 {
	v += 128
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// idctGo is libjpeg's jpeg_idct_islow: dequantize blk with q (both natural
// order), inverse-transform columns then rows, and store 8×8 samples at
// dst with the given stride, clamped to 0..255 (libjpeg's range limit;
// it differs only for outputs beyond ±512, which no encoder produces).
// blk is zeroed on return.
func idctGo(blk *[64]int16, q *[64]int32, dst []uint8, stride int) {
	var ws [64]int32
	for c := 0; c < 8; c++ {
		in := func(r int) int32 { return int32(blk[8*r+c]) * q[8*r+c] }
		// Even part.
		z2, z3 := in(2), in(6)
		z1 := (z2 + z3) * fix0_541196100
		tmp2 := z1 + z3*-fix1_847759065
		tmp3 := z1 + z2*fix0_765366865
		z2, z3 = in(0), in(4)
		tmp0 := (z2 + z3) << constBits
		tmp1 := (z2 - z3) << constBits
		tmp10, tmp13 := tmp0+tmp3, tmp0-tmp3
		tmp11, tmp12 := tmp1+tmp2, tmp1-tmp2
		// Odd part.
		t0, t1, t2, t3 := oddPart(in(7), in(5), in(3), in(1))
		const sh = constBits - pass1Bits
		const rnd = 1 << (sh - 1)
		ws[0*8+c] = (tmp10 + t3 + rnd) >> sh
		ws[7*8+c] = (tmp10 - t3 + rnd) >> sh
		ws[1*8+c] = (tmp11 + t2 + rnd) >> sh
		ws[6*8+c] = (tmp11 - t2 + rnd) >> sh
		ws[2*8+c] = (tmp12 + t1 + rnd) >> sh
		ws[5*8+c] = (tmp12 - t1 + rnd) >> sh
		ws[3*8+c] = (tmp13 + t0 + rnd) >> sh
		ws[4*8+c] = (tmp13 - t0 + rnd) >> sh
	}
	for r := 0; r < 8; r++ {
		w := ws[8*r : 8*r+8]
		z2, z3 := w[2], w[6]
		z1 := (z2 + z3) * fix0_541196100
		tmp2 := z1 + z3*-fix1_847759065
		tmp3 := z1 + z2*fix0_765366865
		tmp0 := (w[0] + w[4]) << constBits
		tmp1 := (w[0] - w[4]) << constBits
		tmp10, tmp13 := tmp0+tmp3, tmp0-tmp3
		tmp11, tmp12 := tmp1+tmp2, tmp1-tmp2
		t0, t1, t2, t3 := oddPart(w[7], w[5], w[3], w[1])
		const sh = constBits + pass1Bits + 3
		const rnd = 1 << (sh - 1)
		o := dst[r*stride : r*stride+8]
		o[0] = clampSample((tmp10 + t3 + rnd) >> sh)
		o[7] = clampSample((tmp10 - t3 + rnd) >> sh)
		o[1] = clampSample((tmp11 + t2 + rnd) >> sh)
		o[6] = clampSample((tmp11 - t2 + rnd) >> sh)
		o[2] = clampSample((tmp12 + t1 + rnd) >> sh)
		o[5] = clampSample((tmp12 - t1 + rnd) >> sh)
		o[3] = clampSample((tmp13 + t0 + rnd) >> sh)
		o[4] = clampSample((tmp13 - t0 + rnd) >> sh)
	}
	*blk = [64]int16{}
}

// oddPart is the odd half of the 1-D islow IDCT on inputs 7, 5, 3, 1.
func oddPart(tmp0, tmp1, tmp2, tmp3 int32) (int32, int32, int32, int32) {
	z1 := tmp0 + tmp3
	z2 := tmp1 + tmp2
	z3 := tmp0 + tmp2
	z4 := tmp1 + tmp3
	z5 := (z3 + z4) * fix1_175875602
	tmp0 *= fix0_298631336
	tmp1 *= fix2_053119869
	tmp2 *= fix3_072711026
	tmp3 *= fix1_501321110
	z1 *= -fix0_899976223
	z2 *= -fix2_562915447
	z3 *= -fix1_961570560
	z4 *= -fix0_390180644
	z3 += z5
	z4 += z5
	return tmp0 + z1 + z3, tmp1 + z2 + z4, tmp2 + z2 + z3, tmp3 + z1 + z4
}
