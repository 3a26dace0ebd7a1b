//go:build amd64 && !noasm && !purego

#include "textflag.h"

// MAXNAN sets zd = max(za, zb), NaN when either is NaN (VMAXPS alone
// returns its first Go operand, zb, when either is NaN: lanes where za is
// NaN are then copied from za). K1 clobbered.
#define MAXNAN(za, zb, zd) \
	VMAXPS zb, za, zd \
	VCMPPS $3, za, za, K1 \
	VMOVAPS za, K1, zd

// func max2x2AVX512(dst, r0, r1 *float32, n int)
//
// for j in [0, n): dst[j] = max(r0[2j], r0[2j+1], r1[2j], r1[2j+1]), NaN
// propagated; reads r0[:2n] and r1[:2n] only. 16 outputs per step: the
// vertical max of 32 inputs of each row, then the max of its even and odd
// lanes.
TEXT ·max2x2AVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ r0+8(FP), SI
	MOVQ r1+16(FP), DX
	MOVQ n+24(FP), CX            // CX = outputs left
	VMOVDQU32 mpEven<>(SB), Z30
	VMOVDQU32 mpOdd<>(SB), Z31

loop16:
	CMPQ CX, $16
	JLT  tail
	VMOVUPS (SI), Z0             // r0[2j : 2j+16]
	VMOVUPS 64(SI), Z1           // r0[2j+16 : 2j+32]
	VMOVUPS (DX), Z2             // r1[2j : 2j+16]
	VMOVUPS 64(DX), Z3
	MAXNAN(Z0, Z2, Z4)           // Z4:Z5 = vertical maxima of the 32 columns
	MAXNAN(Z1, Z3, Z5)
	VMOVAPS Z4, Z6
	VPERMT2PS Z5, Z30, Z4        // Z4 = even columns
	VPERMT2PS Z5, Z31, Z6        // Z6 = odd columns
	MAXNAN(Z4, Z6, Z7)
	VMOVUPS Z7, (DI)
	ADDQ $128, SI
	ADDQ $128, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  loop16

tail:	// 0 <= CX < 16 outputs left
	TESTQ CX, CX
	JLE  done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K4                 // output lanes < CX
	ADDQ CX, CX                  // CX = 2n inputs per row
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX                      // (1<<2n) - 1
	KMOVW AX, K2                 // input lanes 0..15
	SHRQ $16, AX
	KMOVW AX, K3                 // input lanes 16..31
	VMOVUPS.Z (SI), K2, Z0
	VMOVUPS.Z 64(SI), K3, Z1
	VMOVUPS.Z (DX), K2, Z2
	VMOVUPS.Z 64(DX), K3, Z3
	MAXNAN(Z0, Z2, Z4)
	MAXNAN(Z1, Z3, Z5)
	VMOVAPS Z4, Z6
	VPERMT2PS Z5, Z30, Z4
	VPERMT2PS Z5, Z31, Z6
	MAXNAN(Z4, Z6, Z7)
	VMOVUPS Z7, K4, (DI)

done:
	VZEROUPPER
	RET

// mpEven and mpOdd select the even and odd elements of the 32 floats in
// two vectors (VPERMT2PS indices).
DATA mpEven<>+0(SB)/4, $0
DATA mpEven<>+4(SB)/4, $2
DATA mpEven<>+8(SB)/4, $4
DATA mpEven<>+12(SB)/4, $6
DATA mpEven<>+16(SB)/4, $8
DATA mpEven<>+20(SB)/4, $10
DATA mpEven<>+24(SB)/4, $12
DATA mpEven<>+28(SB)/4, $14
DATA mpEven<>+32(SB)/4, $16
DATA mpEven<>+36(SB)/4, $18
DATA mpEven<>+40(SB)/4, $20
DATA mpEven<>+44(SB)/4, $22
DATA mpEven<>+48(SB)/4, $24
DATA mpEven<>+52(SB)/4, $26
DATA mpEven<>+56(SB)/4, $28
DATA mpEven<>+60(SB)/4, $30
GLOBL mpEven<>(SB), RODATA|NOPTR, $64
DATA mpOdd<>+0(SB)/4, $1
DATA mpOdd<>+4(SB)/4, $3
DATA mpOdd<>+8(SB)/4, $5
DATA mpOdd<>+12(SB)/4, $7
DATA mpOdd<>+16(SB)/4, $9
DATA mpOdd<>+20(SB)/4, $11
DATA mpOdd<>+24(SB)/4, $13
DATA mpOdd<>+28(SB)/4, $15
DATA mpOdd<>+32(SB)/4, $17
DATA mpOdd<>+36(SB)/4, $19
DATA mpOdd<>+40(SB)/4, $21
DATA mpOdd<>+44(SB)/4, $23
DATA mpOdd<>+48(SB)/4, $25
DATA mpOdd<>+52(SB)/4, $27
DATA mpOdd<>+56(SB)/4, $29
DATA mpOdd<>+60(SB)/4, $31
GLOBL mpOdd<>(SB), RODATA|NOPTR, $64
