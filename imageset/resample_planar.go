package imageset

import "encoding/binary"

// The planar path of Apply: the same PIL fixed-point resampling as the
// interleaved Go passes (horizontal, vertical), run by the AVX-512 or AVX2
// kernels on one channel at a time. Rows are converted to RGB into three planar row
// buffers, the horizontal pass writes three planes of 8-bit intermediates,
// and the vertical pass maps its 8-bit outputs through the lookup tables
// into the float output. Every byte equals the Go path's (TestPlanarMatchesGo).

// hplan is a horizontal pass laid out for the hrow kernels: per group of 16
// outputs a 64-byte header (int32 offset of the group's input window) and
// ks taps of {64-byte index, 16 int32 weights}. Lane j's input byte offset
// in the window is at byte 4j of the index (the other bytes are zero), so
// the same record serves as a VPERMB index (AVX-512 VBMI), a VPERMI2W word
// index (AVX-512 BW) and 16 int32 gather offsets (AVX2).
type hplan struct {
	rec    []byte
	groups int
	ks     int
}

// hWindow is how many input bytes one group of 16 outputs may span.
const hWindow = 64

// buildHPlan prepares hc, whose input positions are relative to column
// ix0, for the hrow kernels. ok is false when some group of 16 outputs spans
// more than hWindow input pixels (downscales beyond about 3.5×); the Go
// passes handle those.
func buildHPlan(hc coeffs, ix0 int, rec []byte) (hplan, bool) {
	ks := hc.ksize
	groups := (hc.n + 15) / 16
	size := 64 + 128*ks
	rec = grow(rec, groups*size)
	clear(rec)
	p := hplan{rec: rec, groups: groups, ks: ks}
	for g := 0; g < groups; g++ {
		r := rec[g*size : (g+1)*size]
		base := hc.xmin[16*g] - ix0
		binary.LittleEndian.PutUint32(r, uint32(int32(base)))
		for j := 0; j < 16 && 16*g+j < hc.n; j++ {
			i := 16*g + j
			off := hc.xmin[i] - ix0 - base
			for t := 0; t < ks; t++ {
				w := hc.k[i*ks+t]
				if w == 0 {
					continue // index irrelevant: the product is 0
				}
				if off+t < 0 || off+t >= hWindow {
					return hplan{}, false
				}
				e := r[64+128*t : 64+128*(t+1)]
				e[4*j] = byte(off + t)
				binary.LittleEndian.PutUint32(e[64+4*j:], uint32(w))
			}
		}
	}
	return p, true
}

// planarScratch holds the planar path's buffers, reused across images.
type planarScratch struct {
	in   [3][]uint8 // one converted input row per channel (+ window padding)
	mid  [3][]uint8 // horizontal pass output planes (+ zero rows for the vertical taps)
	plan []byte
	rgb  []uint8 // interleaved row for readers without a planar form
}

// planarRowReader is implemented by readers that can write planar rows.
type planarRowReader interface {
	rowPlanar(y, x0, x1 int, r, g, b []uint8)
}

// readPlanar writes pixels [x0, x1) of row y as three planes.
func readPlanar(rr rowReader, y, x0, x1 int, r, g, b []uint8, s *planarScratch) {
	if pr, ok := rr.(planarRowReader); ok {
		pr.rowPlanar(y, x0, x1, r, g, b)
		return
	}
	s.rgb = rowSplit(rr, y, x0, x1, r, g, b, s.rgb)
}

// rowSplit reads pixels [x0, x1) of row y through rr.row into buf (grown
// as needed) and splits them into the three planes; it returns buf.
func rowSplit(rr rowReader, y, x0, x1 int, r, g, b, buf []uint8) []uint8 {
	n := x1 - x0
	buf = grow(buf, 3*n)
	rr.row(y, x0, x1, buf)
	r, g, b = r[:n], g[:n], b[:n]
	for i := range r {
		r[i], g[i], b[i] = buf[3*i], buf[3*i+1], buf[3*i+2]
	}
	return buf
}

// resamplePlanar is the kernel-driven middle of apply: input rows
// [iy0, iy1), columns [ix0, ix1) of rr, resampled by hc, vc, written to dst
// (CHW, plane = oh*ow) at output row offset oy0 and column offset ox0
// through the lookup tables. It returns false, having written nothing,
// when the horizontal plan does not fit the kernel.
func resamplePlanar(rr rowReader, hc, vc coeffs, ix0, ix1, iy0, iy1 int, dst []float32, plane, ow, oy0, ox0 int, lut *[3][256]float32, src [3]int, s *planarScratch) bool {
	hp, ok := buildHPlan(hc, ix0, s.plan)
	if !ok {
		return false
	}
	s.plan = hp.rec
	nx := hc.n
	stride := 16 * hp.groups
	rows := iy1 - iy0
	vks := vc.ksize
	win := ix1 - ix0 + hWindow + 4 // the AVX2 gathers load 4 bytes at each offset
	for c := 0; c < 3; c++ {
		s.in[c] = grow(s.in[c], win)
		clear(s.in[c][ix1-ix0:])
		s.mid[c] = grow(s.mid[c], (rows+vks)*stride)
		clear(s.mid[c][rows*stride:])
	}
	for y := iy0; y < iy1; y++ {
		readPlanar(rr, y, ix0, ix1, s.in[0], s.in[1], s.in[2], s)
		for c := 0; c < 3; c++ {
			hrow(&s.mid[c][(y-iy0)*stride], &s.in[c][0], &hp.rec[0], hp.groups, hp.ks)
		}
	}
	for oc := 0; oc < 3; oc++ {
		m := s.mid[src[oc]]
		for j := 0; j < vc.n; j++ {
			r0 := vc.xmin[j] - iy0
			base := oc*plane + (oy0+j)*ow + ox0
			d := dst[base : base+nx]
			vrowLUT(&d[0], &m[r0*stride], stride, nx, &vc.k[j*vks], vks, &lut[oc])
		}
	}
	return true
}
