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
