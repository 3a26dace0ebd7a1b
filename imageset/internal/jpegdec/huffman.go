package jpegdec

import "fmt"

// lookBits is the width of the Huffman lookahead tables. Codes up to this
// length (nearly all of them in real files) decode with one lookup; AC
// coefficients whose code and value bits together fit decode fully with
// one lookup of fastAC.
const lookBits = 10

// huffTable is one DHT table ready for decoding.
type huffTable struct {
	// look[p] for the next lookBits bits p: symbol | length<<8, or 0 when
	// the code is longer than lookBits bits.
	look [1 << lookBits]uint16
	// fastAC[p] (AC tables only): value<<16 | run<<8 | consumed bits for
	// codes of non-zero-size symbols whose code and value bits fit in
	// lookBits; 0 otherwise.
	fastAC [1 << lookBits]int32
	// Canonical decoding of longer codes: maxcode[l] is the largest code
	// of length l (-1 if none), valoff[l] maps a code of length l to its
	// index in vals.
	maxcode [18]int32
	valoff  [17]int32
	vals    [256]uint8
}

// build fills t from a DHT segment's 16 counts and symbols (libjpeg's
// jpeg_make_d_derived_tbl). It rejects over-subscribed tables.
func (t *huffTable) build(counts *[16]uint8, syms []uint8, isAC bool) error {
	*t = huffTable{}
	var codes [256]uint16
	var lens [256]uint8
	code, k := 0, 0
	for l := 1; l <= 16; l++ {
		t.valoff[l] = int32(k - code)
		for i := 0; i < int(counts[l-1]); i++ {
			codes[k], lens[k] = uint16(code), uint8(l)
			code++
			k++
		}
		if code > 1<<l {
			return fmt.Errorf("Huffman table over-subscribed at length %d: %w", l, ErrCorrupt)
		}
		if counts[l-1] > 0 {
			t.maxcode[l] = int32(code - 1)
		} else {
			t.maxcode[l] = -1
		}
		code <<= 1
	}
	t.maxcode[17] = 0x7fffffff // sentinel: any 16-bit prefix ends the search
	if !isAC {
		for _, s := range syms {
			if s > 15 {
				return fmt.Errorf("DC symbol %d: %w", s, ErrCorrupt)
			}
		}
	}
	copy(t.vals[:], syms)
	for i := 0; i < k; i++ {
		l := int(lens[i])
		if l > lookBits {
			continue
		}
		sym := syms[i]
		shift := lookBits - l
		base := int(codes[i]) << shift
		for p := base; p < base+1<<shift; p++ {
			t.look[p] = uint16(sym) | uint16(l)<<8
			if !isAC {
				continue
			}
			run, size := int(sym>>4), int(sym&15)
			if size == 0 || l+size > lookBits {
				continue
			}
			raw := int32(p>>(lookBits-l-size)) & (1<<size - 1)
			t.fastAC[p] = extend(raw, size)<<16 | int32(run)<<8 | int32(l+size)
		}
	}
	return nil
}

// extend turns the s raw bits v into a signed coefficient (the JPEG
// EXTEND procedure, libjpeg's HUFF_EXTEND).
func extend(v int32, s int) int32 {
	if s == 0 {
		return 0
	}
	if v < 1<<(s-1) {
		v += -1<<s + 1
	}
	return v
}
