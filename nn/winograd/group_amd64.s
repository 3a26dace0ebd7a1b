//go:build amd64 && !noasm && !purego

#include "textflag.h"

// Hand-written AVX-512 kernels for the F(4×4,3×3) transforms; the reference
// semantics are inputF4x16Go and outputF4x16Go in group.go. One zmm register
// holds one element of 16 tiles (lane k = tile k of the group). Constants:
// Z28 = 4, Z29 = 5 (input) or 8 (output), Z30 = 2; Z31 = idx[0:16].

// BT6 applies the 1-D input transform Bᵀ to d0..d5 in Z0..Z5, leaving
// r0..r5 in Z6..Z11 (Z12..Z15 clobbered):
//   r0 = d4 + 4d0 - 5d2          r3 = (d4-d2) + 2(d3-d1)
//   r1 = (d3+d4) - 4(d1+d2)      r4 = (d4-d2) - 2(d3-d1)
//   r2 = (d4-d3) + 4(d1-d2)      r5 = d5 + 4d1 - 5d3
#define BT6 \
	VMOVAPS      Z4, Z6       \
	VFMADD231PS  Z28, Z0, Z6  \
	VFNMADD231PS Z29, Z2, Z6  \
	VMOVAPS      Z5, Z11      \
	VFMADD231PS  Z28, Z1, Z11 \
	VFNMADD231PS Z29, Z3, Z11 \
	VADDPS       Z1, Z2, Z12  \
	VADDPS       Z3, Z4, Z7   \
	VFNMADD231PS Z28, Z12, Z7 \
	VSUBPS       Z2, Z1, Z13  \
	VSUBPS       Z3, Z4, Z8   \
	VFMADD231PS  Z28, Z13, Z8 \
	VSUBPS       Z2, Z4, Z14  \
	VSUBPS       Z1, Z3, Z15  \
	VMOVAPS      Z14, Z9      \
	VFMADD231PS  Z30, Z15, Z9 \
	VMOVAPS      Z14, Z10     \
	VFNMADD231PS Z30, Z15, Z10

// AT6 applies the 1-D output transform Aᵀ to m0..m5 in Z0..Z5, leaving
// y0..y3 in Z6..Z9 (Z12..Z15 clobbered; Z28 = 4, Z29 = 8, Z30 = 2):
//   y0 = m0 + (m1+m2) + (m3+m4)      y2 = (m1+m2) + 4(m3+m4)
//   y1 = (m1-m2) + 2(m3-m4)          y3 = m5 + (m1-m2) + 8(m3-m4)
#define AT6 \
	VADDPS      Z2, Z1, Z12  \
	VSUBPS      Z2, Z1, Z13  \
	VADDPS      Z4, Z3, Z14  \
	VSUBPS      Z4, Z3, Z15  \
	VADDPS      Z12, Z0, Z6  \
	VADDPS      Z14, Z6, Z6  \
	VMOVAPS     Z13, Z7      \
	VFMADD231PS Z30, Z15, Z7 \
	VMOVAPS     Z12, Z8      \
	VFMADD231PS Z28, Z14, Z8 \
	VADDPS      Z13, Z5, Z9  \
	VFMADD231PS Z29, Z15, Z9

// GATHER loads lane k of zr from (CX)(idx[k]*4) where mask word moff(BX)
// has bit k, zero elsewhere, then advances CX by one input row (R9 bytes).
#define GATHER(moff, zr) \
	KMOVW      moff(BX), K1        \
	VPXORD     zr, zr, zr          \
	VGATHERDPS (CX)(Z31*4), K1, zr \
	ADDQ       R9, CX

// func inputF4x16AVX512(v *float32, vs int, src *float32, w int, idx *[16]int32, mask *[36]uint16)
// Frame: 36 zmm of Bᵀd (t[i][j] at (i*6+j)*64(SP)).
TEXT ·inputF4x16AVX512(SB), 0, $2304-48
	MOVQ v+0(FP), DI
	MOVQ vs+8(FP), R8
	SHLQ $2, R8              // R8 = vs in bytes
	MOVQ src+16(FP), DX      // DX = src + j (column pointer)
	MOVQ w+24(FP), R9
	SHLQ $2, R9              // R9 = w in bytes
	MOVQ idx+32(FP), AX
	VMOVDQU32 (AX), Z31      // Z31 = idx[0:16]
	MOVQ mask+40(FP), BX     // BX = &mask[j]
	MOVL $0x40800000, AX     // 4.0
	VPBROADCASTD AX, Z28
	MOVL $0x40a00000, AX     // 5.0
	VPBROADCASTD AX, Z29
	MOVL $0x40000000, AX     // 2.0
	VPBROADCASTD AX, Z30

	// Pass 1: for each column j, t[·][j] = Bᵀ d[·][j].
	LEAQ 0(SP), R10          // R10 = &t[0][j]
	MOVQ $6, R11             // R11 = columns left
incol:
	MOVQ DX, CX
	GATHER(0, Z0)            // d[0][j], mask[0*6+j]
	GATHER(12, Z1)           // d[1][j], mask[1*6+j]
	GATHER(24, Z2)
	GATHER(36, Z3)
	GATHER(48, Z4)
	GATHER(60, Z5)
	BT6
	VMOVUPS Z6, 0(R10)       // t[0][j]
	VMOVUPS Z7, 384(R10)     // t[1][j]
	VMOVUPS Z8, 768(R10)
	VMOVUPS Z9, 1152(R10)
	VMOVUPS Z10, 1536(R10)
	VMOVUPS Z11, 1920(R10)
	ADDQ $4, DX
	ADDQ $2, BX
	ADDQ $64, R10
	DECQ R11
	JNZ  incol

	// Pass 2: for each row i, V[i][·] = t[i][·] B, stored at v[(i*6+j)*vs].
	LEAQ 0(SP), R10          // R10 = &t[i][0]
	MOVQ $6, R11             // R11 = rows left
inrow:
	VMOVUPS 0(R10), Z0
	VMOVUPS 64(R10), Z1
	VMOVUPS 128(R10), Z2
	VMOVUPS 192(R10), Z3
	VMOVUPS 256(R10), Z4
	VMOVUPS 320(R10), Z5
	BT6
	VMOVUPS Z6, (DI)         // v[(i*6+0)*vs]
	ADDQ    R8, DI
	VMOVUPS Z7, (DI)
	ADDQ    R8, DI
	VMOVUPS Z8, (DI)
	ADDQ    R8, DI
	VMOVUPS Z9, (DI)
	ADDQ    R8, DI
	VMOVUPS Z10, (DI)
	ADDQ    R8, DI
	VMOVUPS Z11, (DI)
	ADDQ    R8, DI
	ADDQ $384, R10
	DECQ R11
	JNZ  inrow
	VZEROUPPER
	RET

// SCATTER stores lane k of zr, plus bias (Z26) and clamped below at lo
// (Z27), to (CX)(idx[k]*4)+off where mask word moff(BX) has bit k.
#define SCATTER(moff, off, zr) \
	VADDPS      Z26, zr, zr            \
	VMAXPS      zr, Z27, zr            \
	KMOVW       moff(BX), K1           \
	VSCATTERDPS zr, K1, off(CX)(Z31*4)

// func outputF4x16AVX512(dst *float32, ow int, m *float32, ms int, idx *[16]int32, mask *[16]uint16, bias, lo float32)
// Frame: 24 zmm of Aᵀ M (t[i][j] at (i*6+j)*64(SP)).
TEXT ·outputF4x16AVX512(SB), 0, $1536-56
	MOVQ dst+0(FP), CX       // CX = dst + i*ow (row pointer)
	MOVQ ow+8(FP), R9
	SHLQ $2, R9              // R9 = ow in bytes
	MOVQ m+16(FP), DX        // DX = m + j*ms (column pointer)
	MOVQ ms+24(FP), R8
	SHLQ $2, R8              // R8 = ms in bytes
	LEAQ (R8)(R8*2), R12
	SHLQ $1, R12             // R12 = 6*ms in bytes (one row of M)
	MOVQ idx+32(FP), AX
	VMOVDQU32 (AX), Z31      // Z31 = idx[0:16]
	MOVQ mask+40(FP), BX
	VBROADCASTSS bias+48(FP), Z26
	VBROADCASTSS lo+52(FP), Z27
	MOVL $0x40800000, AX     // 4.0
	VPBROADCASTD AX, Z28
	MOVL $0x41000000, AX     // 8.0
	VPBROADCASTD AX, Z29
	MOVL $0x40000000, AX     // 2.0
	VPBROADCASTD AX, Z30

	// Pass 1: for each column j, t[·][j] = Aᵀ M[·][j].
	LEAQ 0(SP), R10          // R10 = &t[0][j]
	MOVQ $6, R11
outcol:
	MOVQ    DX, SI
	VMOVUPS (SI), Z0         // M[0][j]
	ADDQ    R12, SI
	VMOVUPS (SI), Z1         // M[1][j]
	ADDQ    R12, SI
	VMOVUPS (SI), Z2
	ADDQ    R12, SI
	VMOVUPS (SI), Z3
	ADDQ    R12, SI
	VMOVUPS (SI), Z4
	ADDQ    R12, SI
	VMOVUPS (SI), Z5
	AT6
	VMOVUPS Z6, 0(R10)       // t[0][j]
	VMOVUPS Z7, 384(R10)
	VMOVUPS Z8, 768(R10)
	VMOVUPS Z9, 1152(R10)
	ADDQ $64, R10
	ADDQ R8, DX
	DECQ R11
	JNZ  outcol

	// Pass 2: for each row i, Y[i][·] = t[i][·] A, scattered to dst.
	LEAQ 0(SP), R10          // R10 = &t[i][0]
	MOVQ $4, R11
outrow:
	VMOVUPS 0(R10), Z0
	VMOVUPS 64(R10), Z1
	VMOVUPS 128(R10), Z2
	VMOVUPS 192(R10), Z3
	VMOVUPS 256(R10), Z4
	VMOVUPS 320(R10), Z5
	AT6
	SCATTER(0, 0, Z6)        // Y[i][0], mask[i*4+0]
	SCATTER(2, 4, Z7)        // Y[i][1]
	SCATTER(4, 8, Z8)
	SCATTER(6, 12, Z9)
	ADDQ $8, BX
	ADDQ R9, CX
	ADDQ $384, R10
	DECQ R11
	JNZ  outrow
	VZEROUPPER
	RET

// Permutation tables for the contiguous-row kernels (VPERMT2PS indices into
// the 32-lane concatenation first:second).
// deint01/deint23: lanes 0-7 = element j of tiles 0-7, lanes 8-15 = element
// j+1 (j = 0 or 2) of a 32-float row segment laid out tile-major (4 per tile).
DATA deint01<>+0(SB)/4, $0
DATA deint01<>+4(SB)/4, $4
DATA deint01<>+8(SB)/4, $8
DATA deint01<>+12(SB)/4, $12
DATA deint01<>+16(SB)/4, $16
DATA deint01<>+20(SB)/4, $20
DATA deint01<>+24(SB)/4, $24
DATA deint01<>+28(SB)/4, $28
DATA deint01<>+32(SB)/4, $1
DATA deint01<>+36(SB)/4, $5
DATA deint01<>+40(SB)/4, $9
DATA deint01<>+44(SB)/4, $13
DATA deint01<>+48(SB)/4, $17
DATA deint01<>+52(SB)/4, $21
DATA deint01<>+56(SB)/4, $25
DATA deint01<>+60(SB)/4, $29
GLOBL deint01<>(SB), RODATA|NOPTR, $64

DATA deint23<>+0(SB)/4, $2
DATA deint23<>+4(SB)/4, $6
DATA deint23<>+8(SB)/4, $10
DATA deint23<>+12(SB)/4, $14
DATA deint23<>+16(SB)/4, $18
DATA deint23<>+20(SB)/4, $22
DATA deint23<>+24(SB)/4, $26
DATA deint23<>+28(SB)/4, $30
DATA deint23<>+32(SB)/4, $3
DATA deint23<>+36(SB)/4, $7
DATA deint23<>+40(SB)/4, $11
DATA deint23<>+44(SB)/4, $15
DATA deint23<>+48(SB)/4, $19
DATA deint23<>+52(SB)/4, $23
DATA deint23<>+56(SB)/4, $27
DATA deint23<>+60(SB)/4, $31
GLOBL deint23<>(SB), RODATA|NOPTR, $64

// lo8: lanes 0-7 of first, lanes 0-7 of second. hi8: lanes 8-15 of each.
DATA lo8<>+0(SB)/4, $0
DATA lo8<>+4(SB)/4, $1
DATA lo8<>+8(SB)/4, $2
DATA lo8<>+12(SB)/4, $3
DATA lo8<>+16(SB)/4, $4
DATA lo8<>+20(SB)/4, $5
DATA lo8<>+24(SB)/4, $6
DATA lo8<>+28(SB)/4, $7
DATA lo8<>+32(SB)/4, $16
DATA lo8<>+36(SB)/4, $17
DATA lo8<>+40(SB)/4, $18
DATA lo8<>+44(SB)/4, $19
DATA lo8<>+48(SB)/4, $20
DATA lo8<>+52(SB)/4, $21
DATA lo8<>+56(SB)/4, $22
DATA lo8<>+60(SB)/4, $23
GLOBL lo8<>(SB), RODATA|NOPTR, $64

DATA hi8<>+0(SB)/4, $8
DATA hi8<>+4(SB)/4, $9
DATA hi8<>+8(SB)/4, $10
DATA hi8<>+12(SB)/4, $11
DATA hi8<>+16(SB)/4, $12
DATA hi8<>+20(SB)/4, $13
DATA hi8<>+24(SB)/4, $14
DATA hi8<>+28(SB)/4, $15
DATA hi8<>+32(SB)/4, $24
DATA hi8<>+36(SB)/4, $25
DATA hi8<>+40(SB)/4, $26
DATA hi8<>+44(SB)/4, $27
DATA hi8<>+48(SB)/4, $28
DATA hi8<>+52(SB)/4, $29
DATA hi8<>+56(SB)/4, $30
DATA hi8<>+60(SB)/4, $31
GLOBL hi8<>(SB), RODATA|NOPTR, $64

// ilo/ihi: interleave lanes 0-7 (ilo) or 8-15 (ihi) of first and second:
// first[i], second[i], first[i+1], second[i+1], ...
DATA ilo<>+0(SB)/4, $0
DATA ilo<>+4(SB)/4, $16
DATA ilo<>+8(SB)/4, $1
DATA ilo<>+12(SB)/4, $17
DATA ilo<>+16(SB)/4, $2
DATA ilo<>+20(SB)/4, $18
DATA ilo<>+24(SB)/4, $3
DATA ilo<>+28(SB)/4, $19
DATA ilo<>+32(SB)/4, $4
DATA ilo<>+36(SB)/4, $20
DATA ilo<>+40(SB)/4, $5
DATA ilo<>+44(SB)/4, $21
DATA ilo<>+48(SB)/4, $6
DATA ilo<>+52(SB)/4, $22
DATA ilo<>+56(SB)/4, $7
DATA ilo<>+60(SB)/4, $23
GLOBL ilo<>(SB), RODATA|NOPTR, $64

DATA ihi<>+0(SB)/4, $8
DATA ihi<>+4(SB)/4, $24
DATA ihi<>+8(SB)/4, $9
DATA ihi<>+12(SB)/4, $25
DATA ihi<>+16(SB)/4, $10
DATA ihi<>+20(SB)/4, $26
DATA ihi<>+24(SB)/4, $11
DATA ihi<>+28(SB)/4, $27
DATA ihi<>+32(SB)/4, $12
DATA ihi<>+36(SB)/4, $28
DATA ihi<>+40(SB)/4, $13
DATA ihi<>+44(SB)/4, $29
DATA ihi<>+48(SB)/4, $14
DATA ihi<>+52(SB)/4, $30
DATA ihi<>+56(SB)/4, $15
DATA ihi<>+60(SB)/4, $31
GLOBL ihi<>(SB), RODATA|NOPTR, $64

// pairlo/pairhi: from pairs-interleaved a (y0,y1) and b (y2,y3), the
// tile-major row a0 a1 b0 b1 a2 a3 b2 b3 ... for lanes 0-7 (pairlo) or
// 8-15 (pairhi) of each.
DATA pairlo<>+0(SB)/4, $0
DATA pairlo<>+4(SB)/4, $1
DATA pairlo<>+8(SB)/4, $16
DATA pairlo<>+12(SB)/4, $17
DATA pairlo<>+16(SB)/4, $2
DATA pairlo<>+20(SB)/4, $3
DATA pairlo<>+24(SB)/4, $18
DATA pairlo<>+28(SB)/4, $19
DATA pairlo<>+32(SB)/4, $4
DATA pairlo<>+36(SB)/4, $5
DATA pairlo<>+40(SB)/4, $20
DATA pairlo<>+44(SB)/4, $21
DATA pairlo<>+48(SB)/4, $6
DATA pairlo<>+52(SB)/4, $7
DATA pairlo<>+56(SB)/4, $22
DATA pairlo<>+60(SB)/4, $23
GLOBL pairlo<>(SB), RODATA|NOPTR, $64

DATA pairhi<>+0(SB)/4, $8
DATA pairhi<>+4(SB)/4, $9
DATA pairhi<>+8(SB)/4, $24
DATA pairhi<>+12(SB)/4, $25
DATA pairhi<>+16(SB)/4, $10
DATA pairhi<>+20(SB)/4, $11
DATA pairhi<>+24(SB)/4, $26
DATA pairhi<>+28(SB)/4, $27
DATA pairhi<>+32(SB)/4, $12
DATA pairhi<>+36(SB)/4, $13
DATA pairhi<>+40(SB)/4, $28
DATA pairhi<>+44(SB)/4, $29
DATA pairhi<>+48(SB)/4, $14
DATA pairhi<>+52(SB)/4, $15
DATA pairhi<>+56(SB)/4, $30
DATA pairhi<>+60(SB)/4, $31
GLOBL pairhi<>(SB), RODATA|NOPTR, $64

// func inputF4x16RowAVX512(v *float32, vs int, src *float32, w int)
// 16 consecutive interior tiles of one tile row: tile k's 6×6 patch starts
// at src[4k]. Row pass first (s = d B), then column pass (V = Bᵀ s).
// Frame: s[r][j] at (r*6+j)*64(SP).
TEXT ·inputF4x16RowAVX512(SB), 0, $2304-32
	MOVQ v+0(FP), DI
	MOVQ vs+8(FP), R8
	SHLQ $2, R8              // R8 = vs in bytes
	MOVQ src+16(FP), SI      // SI = row r of the patches
	MOVQ w+24(FP), R9
	SHLQ $2, R9              // R9 = w in bytes
	VMOVDQU32 deint01<>(SB), Z24
	VMOVDQU32 deint23<>(SB), Z25
	VMOVDQU32 lo8<>(SB), Z26
	VMOVDQU32 hi8<>(SB), Z27
	MOVL $0x40800000, AX     // 4.0
	VPBROADCASTD AX, Z28
	MOVL $0x40a00000, AX     // 5.0
	VPBROADCASTD AX, Z29
	MOVL $0x40000000, AX     // 2.0
	VPBROADCASTD AX, Z30

	LEAQ 0(SP), R10          // R10 = &s[r][0]
	MOVQ $6, R11             // rows left
rrow:
	VMOVUPS 0(SI), Z16       // row[0:16]  (tiles 0-3)
	VMOVUPS 64(SI), Z17      // row[16:32] (tiles 4-7)
	VMOVUPS 128(SI), Z18     // row[32:48] (tiles 8-11)
	VMOVUPS 192(SI), Z19     // row[48:64] (tiles 12-15)
	VBROADCASTSS 256(SI), Z20 // row[64]
	VBROADCASTSS 260(SI), Z21 // row[65]
	VMOVAPS   Z16, Z22
	VPERMT2PS Z17, Z24, Z22  // j=0 | j=1 of tiles 0-7
	VMOVAPS   Z16, Z23
	VPERMT2PS Z17, Z25, Z23  // j=2 | j=3 of tiles 0-7
	VMOVAPS   Z18, Z16
	VPERMT2PS Z19, Z24, Z16  // j=0 | j=1 of tiles 8-15
	VMOVAPS   Z18, Z17
	VPERMT2PS Z19, Z25, Z17  // j=2 | j=3 of tiles 8-15
	VMOVAPS   Z22, Z0
	VPERMT2PS Z16, Z26, Z0   // d[r][0], tiles 0-15
	VMOVAPS   Z22, Z1
	VPERMT2PS Z16, Z27, Z1   // d[r][1]
	VMOVAPS   Z23, Z2
	VPERMT2PS Z17, Z26, Z2   // d[r][2]
	VMOVAPS   Z23, Z3
	VPERMT2PS Z17, Z27, Z3   // d[r][3]
	VALIGND   $1, Z0, Z20, Z4 // d[r][4][k] = d[r][0][k+1], row[64] for k=15
	VALIGND   $1, Z1, Z21, Z5 // d[r][5]
	BT6
	VMOVUPS Z6, 0(R10)       // s[r][0]
	VMOVUPS Z7, 64(R10)
	VMOVUPS Z8, 128(R10)
	VMOVUPS Z9, 192(R10)
	VMOVUPS Z10, 256(R10)
	VMOVUPS Z11, 320(R10)
	ADDQ R9, SI
	ADDQ $384, R10
	DECQ R11
	JNZ  rrow

	// Column pass: V[i][j] = Σ_r Bᵀ[i][r] s[r][j], stored at v[(i*6+j)*vs].
	LEAQ 0(SP), R10          // R10 = &s[0][j]
	MOVQ DI, DX              // DX = &v[j*vs]
	LEAQ (R8)(R8*2), R12
	SHLQ $1, R12             // R12 = 6*vs in bytes
	MOVQ $6, R11
rcol:
	VMOVUPS 0(R10), Z0
	VMOVUPS 384(R10), Z1
	VMOVUPS 768(R10), Z2
	VMOVUPS 1152(R10), Z3
	VMOVUPS 1536(R10), Z4
	VMOVUPS 1920(R10), Z5
	BT6
	MOVQ    DX, CX
	VMOVUPS Z6, (CX)         // V[0][j]
	ADDQ    R12, CX
	VMOVUPS Z7, (CX)         // V[1][j]
	ADDQ    R12, CX
	VMOVUPS Z8, (CX)
	ADDQ    R12, CX
	VMOVUPS Z9, (CX)
	ADDQ    R12, CX
	VMOVUPS Z10, (CX)
	ADDQ    R12, CX
	VMOVUPS Z11, (CX)
	ADDQ R8, DX
	ADDQ $64, R10
	DECQ R11
	JNZ  rcol
	VZEROUPPER
	RET

// func outputF4x16RowAVX512(dst *float32, ow int, m *float32, ms int, bias, lo float32)
// 16 consecutive full tiles of one tile row: tile k's 4×4 output starts at
// dst[4k]. Same maths as outputF4x16AVX512, then Y rows are interleaved
// back to tile-major order and stored as 4 contiguous vectors per row.
TEXT ·outputF4x16RowAVX512(SB), 0, $1536-40
	MOVQ dst+0(FP), CX
	MOVQ ow+8(FP), R9
	SHLQ $2, R9              // R9 = ow in bytes
	MOVQ m+16(FP), DX
	MOVQ ms+24(FP), R8
	SHLQ $2, R8              // R8 = ms in bytes
	LEAQ (R8)(R8*2), R12
	SHLQ $1, R12             // R12 = 6*ms in bytes
	VBROADCASTSS bias+32(FP), Z26
	VBROADCASTSS lo+36(FP), Z27
	VMOVDQU32 ilo<>(SB), Z22
	VMOVDQU32 ihi<>(SB), Z23
	VMOVDQU32 pairlo<>(SB), Z24
	VMOVDQU32 pairhi<>(SB), Z25
	MOVL $0x40800000, AX     // 4.0
	VPBROADCASTD AX, Z28
	MOVL $0x41000000, AX     // 8.0
	VPBROADCASTD AX, Z29
	MOVL $0x40000000, AX     // 2.0
	VPBROADCASTD AX, Z30

	LEAQ 0(SP), R10
	MOVQ $6, R11
ocol:
	MOVQ    DX, SI
	VMOVUPS (SI), Z0
	ADDQ    R12, SI
	VMOVUPS (SI), Z1
	ADDQ    R12, SI
	VMOVUPS (SI), Z2
	ADDQ    R12, SI
	VMOVUPS (SI), Z3
	ADDQ    R12, SI
	VMOVUPS (SI), Z4
	ADDQ    R12, SI
	VMOVUPS (SI), Z5
	AT6
	VMOVUPS Z6, 0(R10)
	VMOVUPS Z7, 384(R10)
	VMOVUPS Z8, 768(R10)
	VMOVUPS Z9, 1152(R10)
	ADDQ $64, R10
	ADDQ R8, DX
	DECQ R11
	JNZ  ocol

	LEAQ 0(SP), R10
	MOVQ $4, R11
orow:
	VMOVUPS 0(R10), Z0
	VMOVUPS 64(R10), Z1
	VMOVUPS 128(R10), Z2
	VMOVUPS 192(R10), Z3
	VMOVUPS 256(R10), Z4
	VMOVUPS 320(R10), Z5
	AT6
	VADDPS Z26, Z6, Z6
	VMAXPS Z6, Z27, Z6       // y0 = max(Y[i][0]+bias, lo), NaN kept
	VADDPS Z26, Z7, Z7
	VMAXPS Z7, Z27, Z7
	VADDPS Z26, Z8, Z8
	VMAXPS Z8, Z27, Z8
	VADDPS Z26, Z9, Z9
	VMAXPS Z9, Z27, Z9
	VMOVAPS   Z6, Z16
	VPERMT2PS Z7, Z22, Z16   // y0,y1 pairs, tiles 0-7
	VMOVAPS   Z6, Z17
	VPERMT2PS Z7, Z23, Z17   // y0,y1 pairs, tiles 8-15
	VMOVAPS   Z8, Z18
	VPERMT2PS Z9, Z22, Z18   // y2,y3 pairs, tiles 0-7
	VMOVAPS   Z8, Z19
	VPERMT2PS Z9, Z23, Z19   // y2,y3 pairs, tiles 8-15
	VMOVAPS   Z16, Z0
	VPERMT2PS Z18, Z24, Z0   // tiles 0-3, tile-major
	VMOVAPS   Z16, Z1
	VPERMT2PS Z18, Z25, Z1   // tiles 4-7
	VMOVAPS   Z17, Z2
	VPERMT2PS Z19, Z24, Z2   // tiles 8-11
	VMOVAPS   Z17, Z3
	VPERMT2PS Z19, Z25, Z3   // tiles 12-15
	VMOVUPS Z0, 0(CX)
	VMOVUPS Z1, 64(CX)
	VMOVUPS Z2, 128(CX)
	VMOVUPS Z3, 192(CX)
	ADDQ R9, CX
	ADDQ $384, R10
	DECQ R11
	JNZ  orow
	VZEROUPPER
	RET

// func gemm8x32AVX512(k int, u, v *float32, ldv int, m *float32, ldm int)
// M[i][t] = Σ_{p<k} u[p*8+i] · v[p*ldv+t] for i < 8, t < 32 (u: one packed
// 8-row panel of U, k-major; v: k rows of 32 tile columns), stored to
// m[i*ldm+t]. Z(2i), Z(2i+1) accumulate row i; Z16/Z17 hold a v row; 10
// loads per 16 FMAs.
TEXT ·gemm8x32AVX512(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ u+8(FP), AX
	MOVQ v+16(FP), SI
	MOVQ ldv+24(FP), R8
	SHLQ $2, R8              // R8 = ldv in bytes
	MOVQ m+32(FP), DI
	MOVQ ldm+40(FP), R9
	SHLQ $2, R9              // R9 = ldm in bytes
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	TESTQ CX, CX
	JZ    g832store
g832loop:
	// U streams from memory for deep layers (38 MB per VGG16 conv4/conv5
	// layer, read once per block); the hardware prefetchers alone left
	// the kernel waiting on it: prefetching 4 KB (128 values of p, running
	// into the next panels, which follow contiguously) ahead took conv4_2
	// at batch 1 from 9.5 to 7.6 ms and conv5_x from 3.5 to 2.3 ms on one
	// thread. Past the end of U it prefetches harmlessly.
	PREFETCHT0 4096(AX)
	VMOVUPS (SI), Z16        // v[p][0:16]
	VMOVUPS 64(SI), Z17      // v[p][16:32]
	VBROADCASTSS 0(AX), Z18      // u[p][0]
	VFMADD231PS  Z16, Z18, Z0
	VFMADD231PS  Z17, Z18, Z1
	VBROADCASTSS 4(AX), Z19      // u[p][1]
	VFMADD231PS  Z16, Z19, Z2
	VFMADD231PS  Z17, Z19, Z3
	VBROADCASTSS 8(AX), Z20      // u[p][2]
	VFMADD231PS  Z16, Z20, Z4
	VFMADD231PS  Z17, Z20, Z5
	VBROADCASTSS 12(AX), Z21      // u[p][3]
	VFMADD231PS  Z16, Z21, Z6
	VFMADD231PS  Z17, Z21, Z7
	VBROADCASTSS 16(AX), Z18      // u[p][4]
	VFMADD231PS  Z16, Z18, Z8
	VFMADD231PS  Z17, Z18, Z9
	VBROADCASTSS 20(AX), Z19      // u[p][5]
	VFMADD231PS  Z16, Z19, Z10
	VFMADD231PS  Z17, Z19, Z11
	VBROADCASTSS 24(AX), Z20      // u[p][6]
	VFMADD231PS  Z16, Z20, Z12
	VFMADD231PS  Z17, Z20, Z13
	VBROADCASTSS 28(AX), Z21      // u[p][7]
	VFMADD231PS  Z16, Z21, Z14
	VFMADD231PS  Z17, Z21, Z15
	ADDQ $32, AX
	ADDQ R8, SI
	DECQ CX
	JNZ  g832loop
g832store:
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ    R9, DI
	VMOVUPS Z2, (DI)
	VMOVUPS Z3, 64(DI)
	ADDQ    R9, DI
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, 64(DI)
	ADDQ    R9, DI
	VMOVUPS Z6, (DI)
	VMOVUPS Z7, 64(DI)
	ADDQ    R9, DI
	VMOVUPS Z8, (DI)
	VMOVUPS Z9, 64(DI)
	ADDQ    R9, DI
	VMOVUPS Z10, (DI)
	VMOVUPS Z11, 64(DI)
	ADDQ    R9, DI
	VMOVUPS Z12, (DI)
	VMOVUPS Z13, 64(DI)
	ADDQ    R9, DI
	VMOVUPS Z14, (DI)
	VMOVUPS Z15, 64(DI)
	VZEROUPPER
	RET

// func gemm8x16AVX512(k int, u, v *float32, ldv int, m *float32, ldm int)
// gemm8x32AVX512 for 16 tile columns (the tail of a block). Z0..Z7
// accumulate rows 0..7.
TEXT ·gemm8x16AVX512(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ u+8(FP), AX
	MOVQ v+16(FP), SI
	MOVQ ldv+24(FP), R8
	SHLQ $2, R8
	MOVQ m+32(FP), DI
	MOVQ ldm+40(FP), R9
	SHLQ $2, R9
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	TESTQ CX, CX
	JZ    g816store
g816loop:
	PREFETCHT0 4096(AX)      // as in gemm8x32AVX512
	VMOVUPS (SI), Z16        // v[p][0:16]
	VFMADD231PS.BCST 0(AX), Z16, Z0
	VFMADD231PS.BCST 4(AX), Z16, Z1
	VFMADD231PS.BCST 8(AX), Z16, Z2
	VFMADD231PS.BCST 12(AX), Z16, Z3
	VFMADD231PS.BCST 16(AX), Z16, Z4
	VFMADD231PS.BCST 20(AX), Z16, Z5
	VFMADD231PS.BCST 24(AX), Z16, Z6
	VFMADD231PS.BCST 28(AX), Z16, Z7
	ADDQ $32, AX
	ADDQ R8, SI
	DECQ CX
	JNZ  g816loop
g816store:
	VMOVUPS Z0, (DI)
	ADDQ    R9, DI
	VMOVUPS Z1, (DI)
	ADDQ    R9, DI
	VMOVUPS Z2, (DI)
	ADDQ    R9, DI
	VMOVUPS Z3, (DI)
	ADDQ    R9, DI
	VMOVUPS Z4, (DI)
	ADDQ    R9, DI
	VMOVUPS Z5, (DI)
	ADDQ    R9, DI
	VMOVUPS Z6, (DI)
	ADDQ    R9, DI
	VMOVUPS Z7, (DI)
	VZEROUPPER
	RET

// func gemmCol8AVX512(np, k int, u *float32, us int, v *float32, ldv int, m *float32, ldm int)
// For one tile column and panels q < np ≤ 8: Yq accumulates
// Σ_p u[q*us + p*8 + i] · v[p*ldv] (rows i < 8 in lanes), one FMA per panel
// per p in p order (as gemm8x16AVX512), then lane i is stored to
// m[(8q+i)*ldm] by a scatter. Panels q ≥ np read panel 0 (offset 0).
TEXT ·gemmCol8AVX512(SB), NOSPLIT, $0-64
	MOVQ np+0(FP), BX
	MOVQ k+8(FP), CX
	MOVQ u+16(FP), AX
	MOVQ us+24(FP), R10
	SHLQ $2, R10             // R10 = panel stride in bytes (panel 1)
	MOVQ v+32(FP), SI
	MOVQ ldv+40(FP), R8
	SHLQ $2, R8              // R8 = ldv in bytes
	// Panel offsets R10..R15, DX for panels 1..7; 0 past np.
	LEAQ (R10)(R10*1), R11   // panel 2
	LEAQ (R11)(R10*1), R12   // panel 3
	LEAQ (R12)(R10*1), R13   // panel 4
	LEAQ (R13)(R10*1), R14   // panel 5
	LEAQ (R14)(R10*1), R15   // panel 6
	LEAQ (R15)(R10*1), DX    // panel 7
	XORQ DI, DI
	CMPQ BX, $2
	CMOVQLT DI, R10
	CMPQ BX, $3
	CMOVQLT DI, R11
	CMPQ BX, $4
	CMOVQLT DI, R12
	CMPQ BX, $5
	CMOVQLT DI, R13
	CMPQ BX, $6
	CMOVQLT DI, R14
	CMPQ BX, $7
	CMOVQLT DI, R15
	CMPQ BX, $8
	CMOVQLT DI, DX
	VPXORD Y0, Y0, Y0
	VPXORD Y1, Y1, Y1
	VPXORD Y2, Y2, Y2
	VPXORD Y3, Y3, Y3
	VPXORD Y4, Y4, Y4
	VPXORD Y5, Y5, Y5
	VPXORD Y6, Y6, Y6
	VPXORD Y7, Y7, Y7
gcolloop:
	VBROADCASTSS (SI), Y8    // v[p]
	VFMADD231PS (AX), Y8, Y0 // panel 0 rows 0..7 at p
	VFMADD231PS (AX)(R10*1), Y8, Y1
	VFMADD231PS (AX)(R11*1), Y8, Y2
	VFMADD231PS (AX)(R12*1), Y8, Y3
	VFMADD231PS (AX)(R13*1), Y8, Y4
	VFMADD231PS (AX)(R14*1), Y8, Y5
	VFMADD231PS (AX)(R15*1), Y8, Y6
	VFMADD231PS (AX)(DX*1), Y8, Y7
	ADDQ $32, AX
	ADDQ R8, SI
	DECQ CX
	JNZ  gcolloop
	// Y9 = lane i's offset i*ldm (in floats); R9 = 8*ldm*4 bytes per panel.
	MOVQ m+48(FP), DI
	MOVQ ldm+56(FP), R9
	VPBROADCASTD R9, Y9
	VPMULLD gcolIota<>(SB), Y9, Y9
	SHLQ $5, R9
	MOVL $0xff, CX
#define GCOLSTORE(y, q) \
	CMPQ BX, $q \
	JLE  gcoldone \
	KMOVW CX, K1 \
	VSCATTERDPS y, K1, (DI)(Y9*4) \
	ADDQ R9, DI
	GCOLSTORE(Y0, 0)
	GCOLSTORE(Y1, 1)
	GCOLSTORE(Y2, 2)
	GCOLSTORE(Y3, 3)
	GCOLSTORE(Y4, 4)
	GCOLSTORE(Y5, 5)
	GCOLSTORE(Y6, 6)
	GCOLSTORE(Y7, 7)
gcoldone:
	VZEROUPPER
	RET

DATA gcolIota<>+0(SB)/4, $0
DATA gcolIota<>+4(SB)/4, $1
DATA gcolIota<>+8(SB)/4, $2
DATA gcolIota<>+12(SB)/4, $3
DATA gcolIota<>+16(SB)/4, $4
DATA gcolIota<>+20(SB)/4, $5
DATA gcolIota<>+24(SB)/4, $6
DATA gcolIota<>+28(SB)/4, $7
GLOBL gcolIota<>(SB), RODATA|NOPTR, $32
