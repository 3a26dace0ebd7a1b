//go:build amd64 && !noasm && !purego

#include "textflag.h"

// func dwRowsAVX512(dst *float32, ldd int, src *float32, rs, oh, ow int, off *int, ntaps int, w *float32, bias, lo, hi float32)
//
// for oy in [0, oh), ox in [0, ow):
//   dst[oy*ldd+ox] = clamp(bias + Σ_t w[t]*src[oy*rs+off[t]+ox], lo, hi)
// 64 outputs (4 vectors) per step, then masked 16-wide steps for the rest.
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

loop64:
	MOVQ R14, AX
	SUBQ DX, AX
	CMPQ AX, $64
	JLT  tail
	VMOVAPS Z28, Z0              // out[ox:ox+16] = bias
	VMOVAPS Z28, Z1              // out[ox+16:ox+32]
	VMOVAPS Z28, Z2              // out[ox+32:ox+48]
	VMOVAPS Z28, Z3              // out[ox+48:ox+64]
	LEAQ (SI)(DX*4), R11         // R11 = &src[oy*rs+ox]
	XORQ AX, AX                  // AX = t

tap64:
	MOVQ (R8)(AX*8), R12         // off[t]
	LEAQ (R11)(R12*4), R12       // &src[oy*rs+off[t]+ox]
	VBROADCASTSS (R10)(AX*4), Z4 // w[t]
	VFMADD231PS (R12), Z4, Z0
	VFMADD231PS 64(R12), Z4, Z1
	VFMADD231PS 128(R12), Z4, Z2
	VFMADD231PS 192(R12), Z4, Z3
	INCQ AX
	CMPQ AX, R9
	JLT  tap64
	VMAXPS Z0, Z29, Z0           // max(v, lo), NaN kept
	VMAXPS Z1, Z29, Z1
	VMAXPS Z2, Z29, Z2
	VMAXPS Z3, Z29, Z3
	VMINPS Z0, Z30, Z0           // min(v, hi), NaN kept
	VMINPS Z1, Z30, Z1
	VMINPS Z2, Z30, Z2
	VMINPS Z3, Z30, Z3
	VMOVUPS Z0, (DI)(DX*4)
	VMOVUPS Z1, 64(DI)(DX*4)
	VMOVUPS Z2, 128(DI)(DX*4)
	VMOVUPS Z3, 192(DI)(DX*4)
	ADDQ $64, DX
	JMP  loop64

tail:
	CMPQ DX, R14
	JGE  rowdone
	MOVQ R14, CX
	SUBQ DX, CX                  // CX = ow - ox (> 0)
	MOVL $0xFFFF, AX
	CMPQ CX, $16
	JGE  mask
	MOVL $1, AX
	SHLL CX, AX
	DECL AX                      // AX = (1<<(ow-ox)) - 1

mask:
	KMOVW AX, K1
	VMOVAPS Z28, Z0
	LEAQ (SI)(DX*4), R11
	XORQ AX, AX                  // AX = t

tap16:
	MOVQ (R8)(AX*8), R12
	LEAQ (R11)(R12*4), R12
	VMOVUPS.Z (R12), K1, Z5      // src[oy*rs+off[t]+ox+i] for lanes i < ow-ox, else 0
	VFMADD231PS.BCST (R10)(AX*4), Z5, Z0
	INCQ AX
	CMPQ AX, R9
	JLT  tap16
	VMAXPS Z0, Z29, Z0
	VMINPS Z0, Z30, Z0
	VMOVUPS Z0, K1, (DI)(DX*4)
	ADDQ $16, DX
	JMP  tail

rowdone:
	ADDQ R15, DI
	ADDQ R13, SI
	DECQ BX
	JNZ  row

done:
	VZEROUPPER
	RET
