//go:build amd64 && !noasm && !purego

#include "textflag.h"

// PIL's 8-bit resampling passes (see horizontal and vertical in
// resample.go) in AVX-512: 16 outputs per vector, the same int32
// arithmetic, so the bytes written equal the Go passes'.

// func hrowAVX512(dst *uint8, src *uint8, plan *byte, groups int, ks int)
//
// For each group of 16 outputs the plan holds a 64-byte header (int32
// offset of the group's 64-byte input window in src) and ks taps of
// {64-byte VPERMB index (byte 4j: lane j's input byte in the window),
// 16 int32 weights}. dst receives 16 bytes per group.
TEXT ·hrowAVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ plan+16(FP), BX
	MOVQ groups+24(FP), CX
	MOVQ ks+32(FP), DX
	MOVQ $0x1111111111111111, AX
	KMOVQ AX, K1
	MOVL $0x200000, AX
	VPBROADCASTD AX, Z30
	VPXORD Z31, Z31, Z31

hgroup:
	TESTQ CX, CX
	JZ    hdone
	MOVLQSX (BX), AX
	VMOVDQU8 (SI)(AX*1), Z0
	VMOVDQA64 Z30, Z1
	LEAQ 64(BX), R8
	MOVQ DX, R9

htap:
	VMOVDQU64 (R8), Z3
	VPERMB.Z Z0, Z3, K1, Z2
	VPMULLD 64(R8), Z2, Z2
	VPADDD Z2, Z1, Z1
	ADDQ $128, R8
	DECQ R9
	JNZ  htap
	VPSRAD $22, Z1, Z1
	VPMAXSD Z31, Z1, Z1
	VPMOVUSDB Z1, (DI)
	ADDQ $16, DI
	MOVQ R8, BX
	DECQ CX
	JMP  hgroup

hdone:
	VZEROUPPER
	RET

// func hrowAVX512BW(dst *uint8, src *uint8, plan *byte, groups int, ks int)
//
// hrowAVX512 for CPUs without VBMI: the 64-byte window is widened to 64
// words in two registers and VPERMI2W picks each lane's word (the plan's
// byte index at byte 4j reads as word index at word 2j; the odd words are
// zeroed by the mask), giving the same int32 lanes.
TEXT ·hrowAVX512BW(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ plan+16(FP), BX
	MOVQ groups+24(FP), CX
	MOVQ ks+32(FP), DX
	MOVL $0x55555555, AX
	KMOVD AX, K2
	MOVL $0x200000, AX
	VPBROADCASTD AX, Z30
	VPXORD Z31, Z31, Z31

wgroup:
	TESTQ CX, CX
	JZ    wdone
	MOVLQSX (BX), AX
	VPMOVZXBW (SI)(AX*1), Z4
	VPMOVZXBW 32(SI)(AX*1), Z5
	VMOVDQA64 Z30, Z1
	LEAQ 64(BX), R8
	MOVQ DX, R9

wtap:
	VMOVDQU64 (R8), Z3
	VPERMI2W.Z Z5, Z4, K2, Z3
	VPMULLD 64(R8), Z3, Z3
	VPADDD Z3, Z1, Z1
	ADDQ $128, R8
	DECQ R9
	JNZ  wtap
	VPSRAD $22, Z1, Z1
	VPMAXSD Z31, Z1, Z1
	VPMOVUSDB Z1, (DI)
	ADDQ $16, DI
	MOVQ R8, BX
	DECQ CX
	JMP  wgroup

wdone:
	VZEROUPPER
	RET

// func yccRowAVX512(dr, dg, db *uint8, y *uint8, sb, sr *int32, n16 int, tab *[52]int32, adv int)
//
// 16*n16 pixels of one row: libjpeg's fancy chroma upsampling,
// (3*sums[main] + sums[neighbour] + bias) >> 4 per pixel from the chroma
// column sums sb, sr (see ycbcrReader.rowPlanar), then its YCbCr→RGB
// conversion, the same int32 arithmetic as the Go code. The 16-entry sums
// window of group g starts adv*g bytes in. tab: main and neighbour VPERMD
// indices and biases (16 each), then the four color multipliers.
TEXT ·yccRowAVX512(SB), NOSPLIT, $0-72
	MOVQ dr+0(FP), DI
	MOVQ dg+8(FP), R8
	MOVQ db+16(FP), R9
	MOVQ y+24(FP), SI
	MOVQ sb+32(FP), R10
	MOVQ sr+40(FP), R11
	MOVQ n16+48(FP), CX
	MOVQ tab+56(FP), BX
	MOVQ adv+64(FP), DX
	VMOVDQU32 0(BX), Z20
	VMOVDQU32 64(BX), Z21
	VMOVDQU32 128(BX), Z22
	VPBROADCASTD 192(BX), Z23
	VPBROADCASTD 196(BX), Z24
	VPBROADCASTD 200(BX), Z25
	VPBROADCASTD 204(BX), Z26
	MOVL $32768, AX
	VPBROADCASTD AX, Z27
	MOVL $128, AX
	VPBROADCASTD AX, Z28
	VPXORD Z31, Z31, Z31

yloop:
	TESTQ CX, CX
	JZ    ydone
	VMOVDQU32 (R10), Z0
	VMOVDQU32 (R11), Z1
	// cb = (3*main + neighbour + bias) >> 4, likewise cr.
	VPERMD Z0, Z20, Z2
	VPERMD Z0, Z21, Z3
	VPSLLD $1, Z2, Z4
	VPADDD Z4, Z2, Z2
	VPADDD Z3, Z2, Z2
	VPADDD Z22, Z2, Z2
	VPSRAD $4, Z2, Z2
	VPERMD Z1, Z20, Z5
	VPERMD Z1, Z21, Z3
	VPSLLD $1, Z5, Z4
	VPADDD Z4, Z5, Z5
	VPADDD Z3, Z5, Z5
	VPADDD Z22, Z5, Z5
	VPSRAD $4, Z5, Z5
	VPSUBD Z28, Z2, Z2
	VPSUBD Z28, Z5, Z5
	VPMOVZXBD (SI), Z6
	// R = Y + ((fixR*cr' + half) >> 16)
	VPMULLD Z23, Z5, Z7
	VPADDD Z27, Z7, Z7
	VPSRAD $16, Z7, Z7
	VPADDD Z6, Z7, Z7
	VPMAXSD Z31, Z7, Z7
	VPMOVUSDB Z7, (DI)
	// G = Y + ((-fixGb*cb' + half - fixGr*cr') >> 16)
	VPMULLD Z24, Z2, Z8
	VPMULLD Z25, Z5, Z9
	VPADDD Z9, Z8, Z8
	VPADDD Z27, Z8, Z8
	VPSRAD $16, Z8, Z8
	VPADDD Z6, Z8, Z8
	VPMAXSD Z31, Z8, Z8
	VPMOVUSDB Z8, (R8)
	// B = Y + ((fixB*cb' + half) >> 16)
	VPMULLD Z26, Z2, Z10
	VPADDD Z27, Z10, Z10
	VPSRAD $16, Z10, Z10
	VPADDD Z6, Z10, Z10
	VPMAXSD Z31, Z10, Z10
	VPMOVUSDB Z10, (R9)
	ADDQ $16, DI
	ADDQ $16, R8
	ADDQ $16, R9
	ADDQ $16, SI
	ADDQ DX, R10
	ADDQ DX, R11
	DECQ CX
	JMP  yloop

ydone:
	VZEROUPPER
	RET

// func vrowLUTAVX512(dst *float32, src *uint8, stride int, n int, w *int32, ks int, lut *[256]float32)
//
// The vertical pass for n outputs followed by the lookup table: dst[i] =
// lut[clip8(half + sum_t src[t*stride+i] * w[t])], 16 per vector (a
// gather), the last group stored under a mask. src is read in whole groups
// of 16 bytes.
TEXT ·vrowLUTAVX512(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ stride+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ w+32(FP), BX
	MOVQ ks+40(FP), R10
	MOVQ lut+48(FP), R12
	MOVL $0x200000, AX
	VPBROADCASTD AX, Z30
	VPXORD Z31, Z31, Z31
	MOVL $255, AX
	VPBROADCASTD AX, Z29

lgroup:
	TESTQ CX, CX
	JLE   ldone
	VMOVDQA64 Z30, Z1
	MOVQ SI, R8
	MOVQ BX, R11
	MOVQ R10, R9

ltap:
	VPMOVZXBD (R8), Z2
	VPMULLD.BCST (R11), Z2, Z2
	VPADDD Z2, Z1, Z1
	ADDQ DX, R8
	ADDQ $4, R11
	DECQ R9
	JNZ  ltap
	VPSRAD $22, Z1, Z1
	VPMAXSD Z31, Z1, Z1
	VPMINSD Z29, Z1, Z1
	KXNORW K0, K0, K3
	VGATHERDPS (R12)(Z1*4), K3, Z2
	CMPQ CX, $16
	JL   ltail
	VMOVUPS Z2, (DI)
	ADDQ $64, DI
	ADDQ $16, SI
	SUBQ $16, CX
	JMP  lgroup

ltail:
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K4
	VMOVUPS Z2, K4, (DI)

ldone:
	VZEROUPPER
	RET

// AVX2 versions of the kernels above, for CPUs without AVX-512: 8 lanes
// per vector, gathers for the horizontal taps and the lookup table, the
// same int32 arithmetic.

DATA lanes<>+0(SB)/4, $0
DATA lanes<>+4(SB)/4, $1
DATA lanes<>+8(SB)/4, $2
DATA lanes<>+12(SB)/4, $3
DATA lanes<>+16(SB)/4, $4
DATA lanes<>+20(SB)/4, $5
DATA lanes<>+24(SB)/4, $6
DATA lanes<>+28(SB)/4, $7
GLOBL lanes<>(SB), RODATA|NOPTR, $32

// func hrowAVX2(dst *uint8, src *uint8, plan *byte, groups int, ks int)
//
// hrowAVX512 with two gathers of 8 lanes per tap (the plan's 64-byte index
// record read as 16 int32 byte offsets; 4 bytes are loaded at each and
// masked to the first, so src needs 3 bytes of padding).
TEXT ·hrowAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ plan+16(FP), BX
	MOVQ groups+24(FP), CX
	MOVQ ks+32(FP), DX
	MOVL $0x200000, AX
	MOVQ AX, X15
	VPBROADCASTD X15, Y15
	MOVL $0xff, AX
	MOVQ AX, X14
	VPBROADCASTD X14, Y14

agroup:
	TESTQ CX, CX
	JZ    adone
	MOVLQSX (BX), AX
	LEAQ (SI)(AX*1), R13
	VMOVDQA Y15, Y1
	VMOVDQA Y15, Y2
	LEAQ 64(BX), R8
	MOVQ DX, R9

atap:
	VMOVDQU (R8), Y3
	VPCMPEQD Y6, Y6, Y6
	VPGATHERDD Y6, (R13)(Y3*1), Y4
	VPAND Y14, Y4, Y4
	VPMULLD 64(R8), Y4, Y4
	VPADDD Y4, Y1, Y1
	VMOVDQU 32(R8), Y3
	VPCMPEQD Y6, Y6, Y6
	VPGATHERDD Y6, (R13)(Y3*1), Y5
	VPAND Y14, Y5, Y5
	VPMULLD 96(R8), Y5, Y5
	VPADDD Y5, Y2, Y2
	ADDQ $128, R8
	DECQ R9
	JNZ  atap
	VPSRAD $22, Y1, Y1
	VPSRAD $22, Y2, Y2
	// 16 int32 → 16 bytes, saturating to 0..255.
	VPACKUSDW Y2, Y1, Y1
	VPERMQ $0xD8, Y1, Y1
	VPACKUSWB Y1, Y1, Y1
	VPERMQ $0x08, Y1, Y1
	VMOVDQU X1, (DI)
	ADDQ $16, DI
	MOVQ R8, BX
	DECQ CX
	JMP  agroup

adone:
	VZEROUPPER
	RET

// func yccRowAVX2(dr, dg, db *uint8, y *uint8, sb, sr *int32, n8 int, tab *[52]int32, adv int)
//
// yccRowAVX512 8 pixels at a time: the index and bias patterns repeat
// every 8 pixels (shifted by half a group's window), so each half group
// uses tab's first 8 entries with its window adv/2 bytes further on.
TEXT ·yccRowAVX2(SB), NOSPLIT, $0-72
	MOVQ dr+0(FP), DI
	MOVQ dg+8(FP), R8
	MOVQ db+16(FP), R9
	MOVQ y+24(FP), SI
	MOVQ sb+32(FP), R10
	MOVQ sr+40(FP), R11
	MOVQ n8+48(FP), CX
	MOVQ tab+56(FP), BX
	MOVQ adv+64(FP), DX
	SHRQ $1, DX
	VMOVDQU 0(BX), Y8
	VMOVDQU 64(BX), Y9
	VMOVDQU 128(BX), Y10
	MOVL $32768, AX
	MOVQ AX, X12
	VPBROADCASTD X12, Y12
	MOVL $128, AX
	MOVQ AX, X11
	VPBROADCASTD X11, Y11

cloop:
	TESTQ CX, CX
	JZ    cdone
	VMOVDQU (R10), Y0
	VMOVDQU (R11), Y1
	VPERMD Y0, Y8, Y2
	VPERMD Y0, Y9, Y3
	VPSLLD $1, Y2, Y4
	VPADDD Y4, Y2, Y2
	VPADDD Y3, Y2, Y2
	VPADDD Y10, Y2, Y2
	VPSRAD $4, Y2, Y2
	VPERMD Y1, Y8, Y4
	VPERMD Y1, Y9, Y3
	VPSLLD $1, Y4, Y5
	VPADDD Y5, Y4, Y4
	VPADDD Y3, Y4, Y4
	VPADDD Y10, Y4, Y4
	VPSRAD $4, Y4, Y4
	VPSUBD Y11, Y2, Y2
	VPSUBD Y11, Y4, Y4
	VPMOVZXBD (SI), Y6
	// R
	VPBROADCASTD 192(BX), Y7
	VPMULLD Y7, Y4, Y7
	VPADDD Y12, Y7, Y7
	VPSRAD $16, Y7, Y7
	VPADDD Y6, Y7, Y7
	VPACKUSDW Y7, Y7, Y7
	VPERMQ $0x08, Y7, Y7
	VPACKUSWB X7, X7, X7
	VMOVQ X7, (DI)
	// G
	VPBROADCASTD 196(BX), Y5
	VPMULLD Y5, Y2, Y5
	VPBROADCASTD 200(BX), Y3
	VPMULLD Y3, Y4, Y3
	VPADDD Y3, Y5, Y5
	VPADDD Y12, Y5, Y5
	VPSRAD $16, Y5, Y5
	VPADDD Y6, Y5, Y5
	VPACKUSDW Y5, Y5, Y5
	VPERMQ $0x08, Y5, Y5
	VPACKUSWB X5, X5, X5
	VMOVQ X5, (R8)
	// B
	VPBROADCASTD 204(BX), Y3
	VPMULLD Y3, Y2, Y3
	VPADDD Y12, Y3, Y3
	VPSRAD $16, Y3, Y3
	VPADDD Y6, Y3, Y3
	VPACKUSDW Y3, Y3, Y3
	VPERMQ $0x08, Y3, Y3
	VPACKUSWB X3, X3, X3
	VMOVQ X3, (R9)
	ADDQ $8, DI
	ADDQ $8, R8
	ADDQ $8, R9
	ADDQ $8, SI
	ADDQ DX, R10
	ADDQ DX, R11
	DECQ CX
	JMP  cloop

cdone:
	VZEROUPPER
	RET

// func vrowLUTAVX2(dst *float32, src *uint8, stride int, n int, w *int32, ks int, lut *[256]float32)
//
// vrowLUTAVX512 8 outputs at a time; the last group is stored under a
// VMASKMOVPS mask. src is read in whole groups of 8 bytes.
TEXT ·vrowLUTAVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ stride+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ w+32(FP), BX
	MOVQ ks+40(FP), R10
	MOVQ lut+48(FP), R12
	MOVL $0x200000, AX
	MOVQ AX, X15
	VPBROADCASTD X15, Y15
	MOVL $255, AX
	MOVQ AX, X14
	VPBROADCASTD X14, Y14
	VPXOR Y13, Y13, Y13

vgroup2:
	TESTQ CX, CX
	JLE   vdone2
	VMOVDQA Y15, Y1
	MOVQ SI, R8
	MOVQ BX, R11
	MOVQ R10, R9

vtap2:
	VPMOVZXBD (R8), Y2
	VPBROADCASTD (R11), Y3
	VPMULLD Y3, Y2, Y2
	VPADDD Y2, Y1, Y1
	ADDQ DX, R8
	ADDQ $4, R11
	DECQ R9
	JNZ  vtap2
	VPSRAD $22, Y1, Y1
	VPMAXSD Y13, Y1, Y1
	VPMINSD Y14, Y1, Y1
	VPCMPEQD Y6, Y6, Y6
	VGATHERDPS Y6, (R12)(Y1*4), Y2
	CMPQ CX, $8
	JL   vtail2
	VMOVUPS Y2, (DI)
	ADDQ $32, DI
	ADDQ $8, SI
	SUBQ $8, CX
	JMP  vgroup2

vtail2:
	MOVQ CX, X7
	VPBROADCASTD X7, Y7
	VMOVDQU lanes<>(SB), Y8
	VPCMPGTD Y8, Y7, Y7
	VMASKMOVPS Y2, Y7, (DI)

vdone2:
	VZEROUPPER
	RET
