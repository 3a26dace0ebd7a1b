package jpegdec

import (
	"encoding/binary"
	"fmt"
)

// decodeScan decodes the single interleaved scan into d.planes, one MCU row
// at a time: entropy decoding of the row's blocks into d.coef, then the
// IDCT of each block into its plane.
func (d *Decoder) decodeScan() error {
	mcusX, mcusY := d.geometry()
	perMCU := 0
	for i := 0; i < d.ncomp; i++ {
		c := &d.comp[i]
		c.pred = 0
		perMCU += c.h * c.v
	}
	// Every block costs at least two bits (a DC code and an EOB), so a
	// header claiming more blocks than the rest of the file can hold is
	// refused before the planes are allocated.
	if blocks := int64(mcusX) * int64(mcusY) * int64(perMCU); blocks > 4*int64(len(d.data)-d.pos) {
		return fmt.Errorf("%dx%d frame needs %d blocks, %d bytes of data left: %w", d.w, d.h, blocks, len(d.data)-d.pos, ErrCorrupt)
	}
	for i := 0; i < d.ncomp; i++ {
		c := &d.comp[i]
		d.planes[i] = d.plane(i, c.stride*8*c.bh)
	}
	nb := mcusX * perMCU
	if cap(d.coef) < 64*nb {
		d.coef = make([]int16, 64*nb)
	} else {
		d.coef = d.coef[:64*nb]
		clear(d.coef)
	}
	if cap(d.blocks) < nb {
		d.blocks = make([]blockRef, nb)
	}
	d.blocks = d.blocks[:nb]
	// Block layout of one MCU row (the same for every row but the offset).
	i := 0
	for mx := 0; mx < mcusX; mx++ {
		for ci := 0; ci < d.ncomp; ci++ {
			c := &d.comp[ci]
			for by := 0; by < c.v; by++ {
				for bx := 0; bx < c.h; bx++ {
					d.blocks[i] = blockRef{comp: uint8(ci), off: 8*by*c.stride + 8*(mx*c.h+bx)}
					i++
				}
			}
		}
	}

	var bits uint64
	var nbits int
	var err error
	mcu, rst := 0, 0
	for my := 0; my < mcusY; my++ {
		for mx := 0; mx < mcusX; mx++ {
			if d.ri > 0 && mcu > 0 && mcu%d.ri == 0 {
				if err := d.restart(nbits, rst); err != nil {
					return err
				}
				bits, nbits, rst = 0, 0, rst+1
			}
			mcu++
			base := mx * perMCU
			for ci := 0; ci < d.ncomp; ci++ {
				c := &d.comp[ci]
				dc, ac := &d.dc[c.td], &d.ac[c.ta]
				for b := 0; b < c.h*c.v; b++ {
					blk := (*[64]int16)(d.coef[64*base : 64*base+64])
					var dcOnly bool
					bits, nbits, dcOnly, err = d.decodeBlock(bits, nbits, blk, dc, ac, &c.pred)
					if err != nil {
						return fmt.Errorf("MCU %d of %d: %w", mcu-1, mcusX*mcusY, err)
					}
					d.blocks[base].dcOnly = dcOnly
					base++
				}
			}
		}
		// Truncated data shows as zero bytes fed past the end.
		if nbits < 8*d.pad {
			return fmt.Errorf("entropy data ends in MCU row %d of %d: %w", my, mcusY, ErrCorrupt)
		}
		d.idctRow(my)
	}
	return nil
}

// geometry returns the frame's MCU grid and sets each component's block
// grid (whole MCUs) and plane stride.
func (d *Decoder) geometry() (mcusX, mcusY int) {
	mcusX = (d.w + 8*d.hmax - 1) / (8 * d.hmax)
	mcusY = (d.h + 8*d.vmax - 1) / (8 * d.vmax)
	for i := 0; i < d.ncomp; i++ {
		c := &d.comp[i]
		c.bw, c.bh = mcusX*c.h, mcusY*c.v
		c.stride = 8 * c.bw
	}
	return mcusX, mcusY
}

// restart consumes the RSTn marker expected after a restart interval and
// resets the DC predictions.
func (d *Decoder) restart(nbits, n int) error {
	if nbits < 8*d.pad {
		return fmt.Errorf("entropy data ends before restart %d: %w", n, ErrCorrupt)
	}
	b := d.data
	p := d.pos
	for p < len(b) && b[p] == 0xFF {
		p++
	}
	if p == d.pos || p >= len(b) || b[p] != mRST0+byte(n&7) {
		return fmt.Errorf("restart marker %d missing at byte %d: %w", n&7, d.pos, ErrCorrupt)
	}
	d.pos, d.pad = p+1, 0
	for i := range d.comp {
		d.comp[i].pred = 0
	}
	return nil
}

// fill tops the bit buffer up to at least 57 bits. Bits are MSB-first in
// bits; nbits of them are valid. Stuffed zero bytes after 0xFF are
// removed. At a marker or the end of the data it feeds zero bytes and
// counts them in d.pad without moving past the marker.
func (d *Decoder) fill(bits uint64, nbits int) (uint64, int) {
	b := d.data
	if p := d.pos; p+8 <= len(b) {
		x := binary.BigEndian.Uint64(b[p:])
		// Fast path when none of the 8 bytes is 0xFF: take whole bytes.
		// The partial byte shifted in below the valid bits is the true
		// next data, so later fills OR the same bits again.
		if y := ^x; (y-0x0101010101010101)&^y&0x8080808080808080 == 0 {
			n := (63 - nbits) >> 3
			bits |= x >> (uint(nbits) & 63)
			d.pos += n
			return bits, nbits + 8*n
		}
	}
	for nbits <= 56 {
		var c byte
		if d.pos < len(b) && d.pad == 0 {
			c = b[d.pos]
			if c == 0xFF {
				if d.pos+1 < len(b) && b[d.pos+1] == 0 {
					d.pos += 2
				} else { // a marker: stop here, feed zeros
					c = 0
					d.pad++
				}
			} else {
				d.pos++
			}
		} else {
			d.pad++
		}
		bits |= uint64(c) << (uint(56-nbits) & 63)
		nbits += 8
	}
	return bits, nbits
}

// next8 returns the next eight data bytes, big-endian, when they are in
// the buffer and none is 0xFF (see fill).
func (d *Decoder) next8() (uint64, bool) {
	if d.pos+8 > len(d.data) {
		return 0, false
	}
	x := binary.BigEndian.Uint64(d.data[d.pos:])
	y := ^x
	return x, (y-0x0101010101010101)&^y&0x8080808080808080 == 0
}

// decodeBlock decodes one block's coefficients (zig-zag → natural order,
// not dequantized) into blk, which must be zero. dcOnly reports that no AC
// coefficient was coded.
func (d *Decoder) decodeBlock(bits uint64, nbits int, blk *[64]int16, dc, ac *huffTable, pred *int32) (uint64, int, bool, error) {
	if nbits < 32 {
		bits, nbits = d.fill(bits, nbits)
	}
	// DC: size category, then the difference.
	e := dc.look[bits>>(64-lookBits)]
	var s int
	if e != 0 {
		n := int(e >> 8)
		bits <<= uint(n) & 63
		nbits -= n
		s = int(e & 0xff)
	} else {
		var ok bool
		if s, bits, nbits, ok = slowSymbol(dc, bits, nbits); !ok {
			return bits, nbits, false, fmt.Errorf("bad DC Huffman code: %w", ErrCorrupt)
		}
	}
	if s > 0 {
		if s > 16 {
			return bits, nbits, false, fmt.Errorf("DC size %d: %w", s, ErrCorrupt)
		}
		if nbits < 16 {
			bits, nbits = d.fill(bits, nbits)
		}
		v := int32(bits >> ((64 - uint(s)) & 63))
		bits <<= uint(s) & 63
		nbits -= s
		*pred += extend(v, s)
	}
	blk[0] = int16(*pred)
	dcOnly := true
	for k := 1; k < 64; {
		if nbits < 32 {
			if x, ok := d.next8(); ok { // fill's fast path, inlined
				n := (63 - nbits) >> 3
				bits |= x >> (uint(nbits) & 63)
				d.pos += n
				nbits += 8 * n
			} else {
				bits, nbits = d.fill(bits, nbits)
			}
		}
		p := bits >> (64 - lookBits)
		if f := ac.fastAC[p]; f != 0 {
			n := int(f & 0xff)
			bits <<= uint(n) & 63
			nbits -= n
			k += int(f>>8) & 15
			blk[natural[k&127]&63] = int16(f >> 16)
			k++
			dcOnly = false
			continue
		}
		var rs int
		if e := ac.look[p]; e != 0 {
			n := int(e >> 8)
			bits <<= uint(n) & 63
			nbits -= n
			rs = int(e & 0xff)
		} else {
			var ok bool
			if rs, bits, nbits, ok = slowSymbol(ac, bits, nbits); !ok {
				return bits, nbits, false, fmt.Errorf("bad AC Huffman code: %w", ErrCorrupt)
			}
		}
		r, s := rs>>4, rs&15
		if s == 0 {
			if r != 15 {
				break // EOB
			}
			k += 16
			continue
		}
		k += r
		v := int32(bits >> ((64 - uint(s)) & 63))
		bits <<= uint(s) & 63
		nbits -= s
		blk[natural[k&127]&63] = int16(extend(v, s))
		k++
		dcOnly = false
	}
	return bits, nbits, dcOnly, nil
}

// slowSymbol decodes a code longer than lookBits bits (libjpeg's
// jpeg_huff_decode). The buffer holds at least 16 valid bits.
func slowSymbol(t *huffTable, bits uint64, nbits int) (int, uint64, int, bool) {
	for l := lookBits + 1; l <= 16; l++ {
		code := int32(bits >> ((64 - uint(l)) & 63))
		if code <= t.maxcode[l] {
			i := t.valoff[l] + code
			if i < 0 || i > 255 {
				return 0, bits, nbits, false
			}
			return int(t.vals[i]), bits << (uint(l) & 63), nbits - l, true
		}
	}
	return 0, bits, nbits, false
}
