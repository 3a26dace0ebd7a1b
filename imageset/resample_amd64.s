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

// func vrowAVX512(dst *uint8, src *uint8, stride int, n16 int, w *int32, ks int)
//
// dst[i] = clip8(half + sum_t src[t*stride+i] * w[t]) for i < 16*n16.
TEXT ·vrowAVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ stride+16(FP), DX
	MOVQ n16+24(FP), CX
	MOVQ w+32(FP), BX
	MOVQ ks+40(FP), R10
	MOVL $0x200000, AX
	VPBROADCASTD AX, Z30
	VPXORD Z31, Z31, Z31

vgroup:
	TESTQ CX, CX
	JZ    vdone
	VMOVDQA64 Z30, Z1
	MOVQ SI, R8
	MOVQ BX, R11
	MOVQ R10, R9

vtap:
	VPMOVZXBD (R8), Z2
	VPMULLD.BCST (R11), Z2, Z2
	VPADDD Z2, Z1, Z1
	ADDQ DX, R8
	ADDQ $4, R11
	DECQ R9
	JNZ  vtap
	VPSRAD $22, Z1, Z1
	VPMAXSD Z31, Z1, Z1
	VPMOVUSDB Z1, (DI)
	ADDQ $16, DI
	ADDQ $16, SI
	DECQ CX
	JMP  vgroup

vdone:
	VZEROUPPER
	RET
