//go:build amd64 && !noasm && !purego

package jpegdec

// idctBlock is the islow IDCT (see idctGo), for now in Go on amd64 too.
func idctBlock(blk *[64]int16, q *[64]int32, dst []uint8, stride int) {
	idctGo(blk, q, dst, stride)
}
