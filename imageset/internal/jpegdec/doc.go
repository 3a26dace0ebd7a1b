// Package jpegdec is a fast decoder for the JPEG files datasets are made of:
// Huffman-coded JPEGs with 8-bit samples — baseline, extended sequential
// and progressive, one interleaved scan or several — with one (grayscale)
// or three (YCbCr) components, luma sampling factors 1 or 2 and
// unsubsampled chroma (4:4:4, 4:2:2, 4:2:0, 4:4:0), restart intervals
// allowed.
//
// Everything else — lossless JPEGs, arithmetic coding, 12-bit samples,
// CMYK/YCCK, RGB-coded (Adobe transform 0) files, other sampling layouts —
// is refused with ErrUnsupported so that the caller can fall back to
// image/jpeg. Corrupt or truncated data (a multi-scan file must end with
// EOI: missing scans are truncation, as PIL reports) is an error
// (ErrCorrupt), never a panic; the caller can let image/jpeg have the
// final word on such files.
//
// Single-scan files are decoded one MCU row at a time straight into the
// planes; multi-scan files keep every block's coefficients until the last
// scan (libjpeg's full-image coefficient buffer; jdphuff.c's DC/AC first
// and refinement scans with end-of-band runs) and transform them at EOI.
//
// # Exactness
//
// The output planes equal libjpeg-turbo's (and therefore PIL's) bit for bit:
// coefficients are dequantized and inverse-transformed with libjpeg's
// "islow" integer IDCT (jidctint.c: Loeffler–Ligtenberg–Moschytz with 13-bit
// constants, two passes, PASS1_BITS = 2), which is also libjpeg-turbo's
// default and what its SIMD versions compute. The tests compare decoded
// pixels with PIL's on committed fixtures and real photos. Chroma upsampling
// and color conversion are not done here: Decode returns the planes as an
// *image.YCbCr (or *image.Gray) and the caller upsamples with libjpeg's
// "fancy" filters.
//
// # Speed
//
// The entropy decoder keeps a 64-bit bit buffer refilled eight bytes at a
// time when no 0xFF byte is near, decodes most AC coefficients (run, size
// and value together) with one 10-bit table lookup, and skips the IDCT for
// blocks that carry only a DC coefficient. The IDCT runs in AVX2 assembly
// (eight columns, then eight rows, per vector; exact 32-bit arithmetic)
// where available, in Go elsewhere.
//
// A Decoder keeps its buffers between images; one Decoder serves one
// goroutine.
package jpegdec
