package jpegdec

import (
	"math/rand/v2"
	"testing"
)

// acRefineSeq is jdphuff.c decode_mcu_AC_refine for one block, walking
// the band coefficient by coefficient: the reference acRefine is checked
// against (it was the implementation before the mask-based walk).
func (d *Decoder) acRefineSeq(br *bitReader, sc scan, blk *[64]int16, ac *huffTable) error {
	p1 := int16(1) << uint(sc.al)
	m1 := int16(-1) << uint(sc.al)
	correct := func(coef *int16) {
		if br.bit() && *coef&p1 == 0 {
			if *coef >= 0 {
				*coef += p1
			} else {
				*coef += m1
			}
		}
	}
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
			for k <= sc.se {
				coef := &blk[natural[k&127]&63]
				if *coef != 0 {
					correct(coef)
				} else {
					r--
					if r < 0 {
						break
					}
				}
				k++
			}
			if s != 0 {
				blk[natural[k&127]&63] = val
			}
		}
	}
	if d.eobrun > 0 {
		for ; k <= sc.se; k++ {
			if coef := &blk[natural[k&127]&63]; *coef != 0 {
				correct(coef)
			}
		}
		d.eobrun--
	}
	return nil
}

// TestACRefineMatchesSequential: the mask-based refinement reads the same
// bits, leaves the same end-of-band run and writes the same coefficients
// as the sequential walk, on random blocks, bands, approximation bits and
// bit streams (including runs past the band's end).
func TestACRefineMatchesSequential(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	// An AC table with every refinement symbol: runs 0..15 with size 0
	// (EOB runs, ZRL) or 1, codes of 5 and 6 bits.
	var counts [16]uint8
	counts[4], counts[5] = 16, 16
	var syms []uint8
	for r := 0; r < 16; r++ {
		syms = append(syms, uint8(r<<4|1))
	}
	for r := 0; r < 16; r++ {
		syms = append(syms, uint8(r<<4))
	}
	var base Decoder
	if err := base.ac[0].build(&counts, syms, true); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < 20000; n++ {
		data := make([]byte, 64)
		for i := range data {
			data[i] = byte(rng.UintN(255)) // no 0xFF: no markers
		}
		ss := 1 + rng.IntN(63)
		se := ss + rng.IntN(64-ss)
		sc := scan{ss: ss, se: se, ah: 1, al: rng.IntN(6)}
		var blk [64]int16
		var nz uint64
		for k := 1; k < 64; k++ {
			if rng.IntN(3) == 0 {
				v := int16(rng.IntN(9)-4) << uint(sc.al+1)
				blk[natural[k]] = v
				if v != 0 {
					nz |= 1 << uint(k)
				}
			}
		}
		eob := 0
		if rng.IntN(4) == 0 {
			eob = 1 + rng.IntN(3)
		}
		run := func(seq bool) ([64]int16, uint64, int, int, int, error) {
			d := &Decoder{}
			d.ac[0] = base.ac[0]
			d.data, d.eobrun = data, eob
			br := bitReader{d: d}
			b, m := blk, nz
			var err error
			if seq {
				err = d.acRefineSeq(&br, sc, &b, &d.ac[0])
			} else {
				err = d.acRefine(&br, sc, &b, &m, &d.ac[0])
			}
			return b, m, d.eobrun, d.pos*8 - br.nbits, d.pad, err
		}
		wb, _, we, wbits, _, werr := run(true)
		gb, gm, ge, gbits, _, gerr := run(false)
		if gb != wb || ge != we || gbits != wbits || (gerr == nil) != (werr == nil) {
			t.Fatalf("case %d (band %d..%d, al %d, eobrun %d): coefficients equal %v, eobrun %d vs %d, bits read %d vs %d, errors %v / %v",
				n, ss, se, sc.al, eob, gb == wb, ge, we, gbits, wbits, gerr, werr)
		}
		// The mask still describes the block.
		for k := 1; k < 64; k++ {
			if (gb[natural[k]] != 0) != (gm>>uint(k)&1 == 1) {
				t.Fatalf("case %d: mask bit %d = %v, coefficient %d", n, k, gm>>uint(k)&1, gb[natural[k]])
			}
		}
	}
}
