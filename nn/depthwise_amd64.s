//go:build amd64 && !noasm && !purego

#include "textflag.h"

// func dwRowsAVX512(dst *float32, ldd int, src *float32, rs, oh, ow int, off *int, ntaps int, w *float32, bias, lo, hi float32)
//
// for oy in [0, oh), ox in [0, ow):
//   dst[oy*ldd+ox] = clamp(bias + Σ_t w[t]*src[oy*rs+off[t]+ox], lo, hi)
// 64 outputs (4 vectors, masked at the row end) per step; a row end of
// up to 16 or 32 outputs uses 1 or 2 vectors.
TEXT ·dwRowsAVX512(SB), NOSPLIT, $0-84
	MOVQ dst+0(FP), DI           // DI = &dst[oy*ldd]
	MOVQ ldd+8(FP), R15
	SHLQ $2, R15                 // R15 = ldd in bytes
	MOVQ src+16(FP), SI          // SI = &src[oy*rs]
	MOVQ rs+24(FP), R13
	SHLQ $2, R13                 // R13 = rs in bytes
	MOVQ oh+32(FP), BX           // BX = rows left
	MOVQ ow+40(FP), R14          // R14 = ow
	MOVQ off+48(FP), R8          // R8 = &off[0]
	MOVQ ntaps+56(FP), R9        // R9 = ntaps
	MOVQ w+64(FP), R10           // R10 = &w[0]
	VBROADCASTSS bias+72(FP), Z28
	VBROADCASTSS lo+76(FP), Z29
	VBROADCASTSS hi+80(FP), Z30
	TESTQ BX, BX
	JLE  done

row:
	XORQ DX, DX                  // DX = ox

block:
	MOVQ R14, CX
	SUBQ DX, CX                  // CX = rem = ow - ox
	JLE  rowdone
	MOVQ $-1, AX
	CMPQ CX, $64
	JGE  masks
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX                      // AX = (1<<rem) - 1: lanes < rem of the 64

masks:
	KMOVW AX, K1                 // lanes ox+0..15
	SHRQ  $16, AX
	KMOVW AX, K2                 // lanes ox+16..31
	SHRQ  $16, AX
	KMOVW AX, K3                 // lanes ox+32..47
	SHRQ  $16, AX
	KMOVW AX, K4                 // lanes ox+48..63
	LEAQ  (SI)(DX*4), R11        // R11 = &src[oy*rs+ox]
	XORQ  AX, AX                 // AX = t
	VMOVAPS Z28, Z0              // acc[0:16] = bias
	CMPQ  CX, $16
	JLE   one
	VMOVAPS Z28, Z1              // acc[16:32]
	CMPQ  CX, $32
	JLE   two
	VMOVAPS Z28, Z2              // acc[32:48]
	VMOVAPS Z28, Z3              // acc[48:64]

four:	// up to 64 outputs
	MOVQ (R8)(AX*8), R12          // off[t]
	LEAQ (R11)(R12*4), R12         // &src[oy*rs+off[t]+ox]
	VBROADCASTSS (R10)(AX*4), Z4 // w[t]
	VMOVUPS.Z (R12), K1, Z5
	VMOVUPS.Z 64(R12), K2, Z6
	VMOVUPS.Z 128(R12), K3, Z7
	VMOVUPS.Z 192(R12), K4, Z8
	VFMADD231PS Z5, Z4, Z0
	VFMADD231PS Z6, Z4, Z1
	VFMADD231PS Z7, Z4, Z2
	VFMADD231PS Z8, Z4, Z3
	INCQ AX
	CMPQ AX, R9
	JLT  four
	VMAXPS Z0, Z29, Z0           // max(v, lo), NaN kept
	VMAXPS Z1, Z29, Z1
	VMAXPS Z2, Z29, Z2
	VMAXPS Z3, Z29, Z3
	VMINPS Z0, Z30, Z0           // min(v, hi), NaN kept
	VMINPS Z1, Z30, Z1
	VMINPS Z2, Z30, Z2
	VMINPS Z3, Z30, Z3
	VMOVUPS Z0, K1, (DI)(DX*4)
	VMOVUPS Z1, K2, 64(DI)(DX*4)
	VMOVUPS Z2, K3, 128(DI)(DX*4)
	VMOVUPS Z3, K4, 192(DI)(DX*4)
	ADDQ $64, DX
	JMP  block

two:	// 17..32 outputs
	MOVQ (R8)(AX*8), R12
	LEAQ (R11)(R12*4), R12
	VBROADCASTSS (R10)(AX*4), Z4
	VMOVUPS.Z (R12), K1, Z5
	VMOVUPS.Z 64(R12), K2, Z6
	VFMADD231PS Z5, Z4, Z0
	VFMADD231PS Z6, Z4, Z1
	INCQ AX
	CMPQ AX, R9
	JLT  two
	VMAXPS Z0, Z29, Z0
	VMAXPS Z1, Z29, Z1
	VMINPS Z0, Z30, Z0
	VMINPS Z1, Z30, Z1
	VMOVUPS Z0, K1, (DI)(DX*4)
	VMOVUPS Z1, K2, 64(DI)(DX*4)
	JMP  rowdone

one:	// 1..16 outputs
	MOVQ (R8)(AX*8), R12
	LEAQ (R11)(R12*4), R12
	VMOVUPS.Z (R12), K1, Z5
	VFMADD231PS.BCST (R10)(AX*4), Z5, Z0
	INCQ AX
	CMPQ AX, R9
	JLT  one
	VMAXPS Z0, Z29, Z0
	VMINPS Z0, Z30, Z0
	VMOVUPS Z0, K1, (DI)(DX*4)

rowdone:
	ADDQ R15, DI
	ADDQ R13, SI
	DECQ BX
	JNZ  row

done:
	VZEROUPPER
	RET

// evensIdx selects the even elements of the 32 floats in two vectors.
DATA evensIdx<>+0(SB)/4, $0
DATA evensIdx<>+4(SB)/4, $2
DATA evensIdx<>+8(SB)/4, $4
DATA evensIdx<>+12(SB)/4, $6
DATA evensIdx<>+16(SB)/4, $8
DATA evensIdx<>+20(SB)/4, $10
DATA evensIdx<>+24(SB)/4, $12
DATA evensIdx<>+28(SB)/4, $14
DATA evensIdx<>+32(SB)/4, $16
DATA evensIdx<>+36(SB)/4, $18
DATA evensIdx<>+40(SB)/4, $20
DATA evensIdx<>+44(SB)/4, $22
DATA evensIdx<>+48(SB)/4, $24
DATA evensIdx<>+52(SB)/4, $26
DATA evensIdx<>+56(SB)/4, $28
DATA evensIdx<>+60(SB)/4, $30
GLOBL evensIdx<>(SB), RODATA|NOPTR, $64

// func evensAVX512(dst, src *float32, n int)
//
// for j in [0, n): dst[j] = src[2*j]; reads src[0 : 2n-1] only (masked
// loads at the end).
TEXT ·evensAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VMOVDQU32 evensIdx<>(SB), Z31

loop16:
	CMPQ CX, $16
	JLE  last
	VMOVUPS (SI), Z0             // src[2j : 2j+16]
	VPERMT2PS 64(SI), Z31, Z0    // Z0 = src[2j], src[2j+2], ..., src[2j+30]
	VMOVUPS Z0, (DI)
	ADDQ $128, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  loop16

last:	// 1 <= CX <= 16 outputs left (or none)
	TESTQ CX, CX
	JLE  done2
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K3                 // output lanes < CX
	LEAQ -1(CX)(CX*1), CX        // 2n-1 inputs to read
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX                      // (1<<(2n-1)) - 1
	KMOVW AX, K1
	SHRQ $16, AX
	KMOVW AX, K2
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VPERMT2PS Z1, Z31, Z0
	VMOVUPS Z0, K3, (DI)

done2:
	VZEROUPPER
	RET
