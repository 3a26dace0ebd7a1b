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
