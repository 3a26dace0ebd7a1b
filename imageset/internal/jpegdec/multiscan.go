package jpegdec

import (
	"fmt"
	"image"
	"math/bits"
)

// Multi-scan frames — progressive JPEGs, and sequential ones coded one
// component per scan — keep every block's coefficients until the last
// scan (libjpeg's jdcoefct.c "full image buffer") and inverse-transform
// them at the end. The progressive scans follow libjpeg's jdphuff.c: DC
// first and refinement scans (which may be interleaved), AC first and
// refinement scans (one component each) with end-of-band runs.

// allocCoefs sizes the component block grids and allocates the coefficient
// buffers, refusing frames whose data is too short for their blocks (every
// block costs at least one bit in the first scan that covers it).
func (d *Decoder) allocCoefs() error {
	d.geometry()
	var blocks int64
	for i := 0; i < d.ncomp; i++ {
		blocks += int64(d.comp[i].bw) * int64(d.comp[i].bh)
	}
	if blocks > 8*int64(len(d.data)-d.pos) {
		return fmt.Errorf("%dx%d frame needs %d blocks, %d bytes of data left: %w", d.w, d.h, blocks, len(d.data)-d.pos, ErrCorrupt)
	}
	for i := 0; i < d.ncomp; i++ {
		c := &d.comp[i]
		d.coefs[i] = make([]int16, 64*c.bw*c.bh)
		if d.progressive {
			d.nz[i] = make([]uint64, c.bw*c.bh)
		}
	}
	d.buffered = true
	return nil
}

// maxScans bounds the scans of one frame. Real files have a handful (11 for
// libjpeg's default progression); each scan costs a pass over the frame's
// blocks, so a file of thousands of tiny scans would cost CPU without
// bound.
const maxScans = 256

// bufferedScan decodes one scan into the coefficient buffers.
func (d *Decoder) bufferedScan(sc scan) error {
	if d.scans++; d.scans > maxScans {
		return fmt.Errorf("more than %d scans: %w", maxScans, ErrCorrupt)
	}
	if !d.buffered {
		if err := d.allocCoefs(); err != nil {
			return err
		}
	}
	if d.progressive {
		switch {
		case sc.ss == 0 && sc.se != 0, sc.ss > 0 && (sc.se < sc.ss || sc.se > 63 || len(sc.comps) != 1), sc.ah > 13, sc.al > 13:
			return fmt.Errorf("progressive scan %d..%d, approximation %d/%d, %d components: %w", sc.ss, sc.se, sc.ah, sc.al, len(sc.comps), ErrCorrupt)
		}
		for _, ci := range sc.comps {
			c := &d.comp[ci]
			if (sc.ss == 0 && sc.ah == 0 && !d.dcSet[c.td]) || (sc.ss > 0 && !d.acSet[c.ta]) {
				return fmt.Errorf("component %d: Huffman table undefined: %w", ci, ErrCorrupt)
			}
		}
	} else if err := d.scanHeader(sc); err != nil {
		return err
	}
	for _, ci := range sc.comps {
		if !d.latched[ci] {
			if !d.qtSet[d.comp[ci].tq] {
				return fmt.Errorf("component %d: quantization table %d undefined: %w", ci, d.comp[ci].tq, ErrCorrupt)
			}
			d.qlatch[ci], d.latched[ci] = d.qt[d.comp[ci].tq], true
		}
		d.comp[ci].pred = 0
	}
	d.eobrun, d.pad = 0, 0
	var bits uint64
	var nbits int
	block := func(ci, bx, by int) error {
		c := &d.comp[ci]
		o := 64 * (by*c.bw + bx)
		blk := (*[64]int16)(d.coefs[ci][o : o+64])
		var err error
		if !d.progressive {
			bits, nbits, _, err = d.decodeBlock(bits, nbits, blk, &d.dc[c.td], &d.ac[c.ta], &c.pred)
			return err
		}
		bits, nbits, err = d.progressiveBlock(bits, nbits, sc, blk, &d.nz[ci][by*c.bw+bx], c)
		return err
	}
	mcu, rst := 0, 0
	restart := func() error {
		if d.ri > 0 && mcu > 0 && mcu%d.ri == 0 {
			if err := d.restart(nbits, rst); err != nil {
				return err
			}
			bits, nbits, rst, d.eobrun = 0, 0, rst+1, 0
		}
		mcu++
		return nil
	}
	if len(sc.comps) == 1 {
		// Non-interleaved: the component's own blocks, one per MCU.
		ci := sc.comps[0]
		c := &d.comp[ci]
		cw := (d.w*c.h + d.hmax - 1) / d.hmax
		ch := (d.h*c.v + d.vmax - 1) / d.vmax
		bw, bh := (cw+7)/8, (ch+7)/8
		for by := 0; by < bh; by++ {
			for bx := 0; bx < bw; bx++ {
				if err := restart(); err != nil {
					return err
				}
				if err := block(ci, bx, by); err != nil {
					return fmt.Errorf("block %d,%d of component %d: %w", bx, by, ci, err)
				}
			}
			if nbits < 8*d.pad {
				return fmt.Errorf("entropy data ends in block row %d: %w", by, ErrCorrupt)
			}
		}
		return nil
	}
	mcusX, mcusY := d.geometry()
	for my := 0; my < mcusY; my++ {
		for mx := 0; mx < mcusX; mx++ {
			if err := restart(); err != nil {
				return err
			}
			for _, ci := range sc.comps {
				c := &d.comp[ci]
				for by := 0; by < c.v; by++ {
					for bx := 0; bx < c.h; bx++ {
						if err := block(ci, mx*c.h+bx, my*c.v+by); err != nil {
							return fmt.Errorf("MCU %d,%d: %w", mx, my, err)
						}
					}
				}
			}
		}
		if nbits < 8*d.pad {
			return fmt.Errorf("entropy data ends in MCU row %d: %w", my, ErrCorrupt)
		}
	}
	return nil
}

// finish inverse-transforms every block into fresh planes.
func (d *Decoder) finish() image.Image {
	for ci := 0; ci < d.ncomp; ci++ {
		c := &d.comp[ci]
		d.planes[ci] = d.plane(ci, c.stride*8*c.bh)
		q := &d.qlatch[ci]
		for by := 0; by < c.bh; by++ {
			for bx := 0; bx < c.bw; bx++ {
				o := 64 * (by*c.bw + bx)
				idctBlock((*[64]int16)(d.coefs[ci][o:o+64]), q, d.planes[ci][8*by*c.stride+8*bx:], c.stride)
			}
		}
	}
	return d.image()
}

// progressiveBlock decodes one block's part of a progressive scan
// (jdphuff.c decode_mcu_DC_first, _DC_refine, _AC_first, _AC_refine). nz
// has bit k set when the coefficient at zig-zag position k (1..63) is
// non-zero; the AC scans keep it so that refinement finds the non-zero
// coefficients of a band without walking all of them.
func (d *Decoder) progressiveBlock(bits uint64, nbits int, sc scan, blk *[64]int16, nz *uint64, c *component) (uint64, int, error) {
	br := bitReader{d: d, bits: bits, nbits: nbits}
	var err error
	switch {
	case sc.ss == 0 && sc.ah == 0: // DC first
		var s int
		if s, err = br.symbol(&d.dc[c.td]); err != nil {
			return br.bits, br.nbits, err
		}
		if s > 0 {
			c.pred += extend(br.get(s), s)
		}
		blk[0] = int16(c.pred << uint(sc.al))
	case sc.ss == 0: // DC refinement
		if br.bit() {
			blk[0] |= 1 << uint(sc.al)
		}
	case sc.ah == 0: // AC first
		if d.eobrun > 0 {
			d.eobrun--
			break
		}
		ac := &d.ac[c.ta]
		for k := sc.ss; k <= sc.se; k++ {
			var rs int
			if rs, err = br.symbol(ac); err != nil {
				return br.bits, br.nbits, err
			}
			r, s := rs>>4, rs&15
			if s != 0 {
				k += r
				v := int16(extend(br.get(s), s) << uint(sc.al))
				blk[natural[k&127]&63] = v
				// k past 63 (corrupt data) lands on coefficient 63.
				if bit := uint64(1) << uint(min(k, 63)); v != 0 {
					*nz |= bit
				} else {
					*nz &^= bit
				}
				continue
			}
			if r != 15 {
				d.eobrun = 1 << uint(r)
				if r > 0 {
					d.eobrun += int(br.get(r))
				}
				d.eobrun--
				break
			}
			k += 15
		}
	default: // AC refinement
		err = d.acRefine(&br, sc, blk, nz, &d.ac[c.ta])
	}
	return br.bits, br.nbits, err
}

// acRefine is jdphuff.c decode_mcu_AC_refine for one block, with the walk
// over the band done on nz: the coefficients that are already non-zero get
// a correction bit each, in zig-zag order, and the r zero coefficients a
// symbol skips are found by clearing r bits of the band's zero mask. It
// reads the same bits and writes the same coefficients as the sequential
// walk (acRefineSeq in the tests, which checks that on random input).
func (d *Decoder) acRefine(br *bitReader, sc scan, blk *[64]int16, nz *uint64, ac *huffTable) error {
	p1 := int16(1) << uint(sc.al)
	m1 := int16(-1) << uint(sc.al)
	// correct reads one correction bit per non-zero coefficient in mask,
	// in zig-zag order, up to 16 bits at a time.
	correct := func(mask uint64) {
		for mask != 0 {
			n := min(bits.OnesCount64(mask), 16)
			v := br.get(n)
			for i := n - 1; i >= 0; i-- {
				p := bits.TrailingZeros64(mask)
				mask &= mask - 1
				if coef := &blk[natural[p]]; v>>uint(i)&1 != 0 && *coef&p1 == 0 {
					if *coef >= 0 {
						*coef += p1
					} else {
						*coef += m1
					}
				}
			}
		}
	}
	band := from(sc.ss) & below(sc.se+1)
	k := sc.ss
	if d.eobrun == 0 {
		for ; k <= sc.se; k++ {
			rs, err := br.symbol(ac)
			if err != nil {
				return err
			}
			r, s := rs>>4, rs&15
			var val int16
			if s != 0 {
				// s must be 1; libjpeg warns and goes on otherwise.
				if br.bit() {
					val = p1
				} else {
					val = m1
				}
			} else if r != 15 {
				d.eobrun = 1 << uint(r)
				if r > 0 {
					d.eobrun += int(br.get(r))
				}
				break
			}
			// The target: the (r+1)-th zero coefficient from k on, or
			// past the band's end when there are not that many.
			rest := band & from(k)
			z := rest &^ *nz
			for ; r > 0 && z != 0; r-- {
				z &= z - 1
			}
			t := sc.se + 1
			if z != 0 {
				t = bits.TrailingZeros64(z)
			}
			correct(rest & *nz & below(t))
			k = t
			if s != 0 {
				pos := min(k, 63)
				blk[natural[pos]] = val
				*nz |= 1 << uint(pos)
			}
		}
	}
	if d.eobrun > 0 {
		if k <= sc.se {
			correct(band & from(k) & *nz)
		}
		d.eobrun--
	}
	return nil
}

// from is the mask of bits k..63 (none for k >= 64).
func from(k int) uint64 {
	if k >= 64 {
		return 0
	}
	return ^uint64(0) << uint(k)
}

// below is the mask of bits 0..k-1 (all for k >= 64).
func below(k int) uint64 {
	if k >= 64 {
		return ^uint64(0)
	}
	return uint64(1)<<uint(k) - 1
}

// bitReader is the bit buffer of the multi-scan path.
type bitReader struct {
	d     *Decoder
	bits  uint64
	nbits int
}

// get returns the next n (0..16) bits.
func (b *bitReader) get(n int) int32 {
	if n == 0 {
		return 0
	}
	if b.nbits < n {
		b.bits, b.nbits = b.d.fill(b.bits, b.nbits)
	}
	v := int32(b.bits >> ((64 - uint(n)) & 63))
	b.bits <<= uint(n) & 63 & 63
	b.nbits -= n
	return v
}

// bit returns the next bit.
func (b *bitReader) bit() bool {
	if b.nbits == 0 {
		b.bits, b.nbits = b.d.fill(b.bits, b.nbits)
	}
	v := b.bits>>63 != 0
	b.bits <<= 1
	b.nbits--
	return v
}

// symbol decodes one Huffman symbol.
func (b *bitReader) symbol(t *huffTable) (int, error) {
	if b.nbits < 16 {
		b.bits, b.nbits = b.d.fill(b.bits, b.nbits)
	}
	if e := t.look[b.bits>>(64-lookBits)]; e != 0 {
		n := int(e >> 8)
		b.bits <<= uint(n) & 63 & 63
		b.nbits -= n
		return int(e & 0xff), nil
	}
	s, bits, nbits, ok := slowSymbol(t, b.bits, b.nbits)
	if !ok {
		return 0, fmt.Errorf("bad Huffman code: %w", ErrCorrupt)
	}
	b.bits, b.nbits = bits, nbits
	return s, nil
}
