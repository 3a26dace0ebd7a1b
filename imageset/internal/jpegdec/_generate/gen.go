// Command gen writes idct_amd64.s, the AVX2 version of jpegdec's islow IDCT
// (idctGo). Run from the package directory: go run ./_generate > idct_amd64.s
//
// One ymm register holds one row (pass 1: lanes are columns) or one column
// (pass 2: lanes are rows) of eight int32 values; every operation is the
// 32-bit integer operation idctGo does, in the same order, so the result is
// identical for every input.
package main

import (
	"fmt"
	"os"
	"strings"
)

var out strings.Builder

func p(f string, a ...any) { fmt.Fprintf(&out, "\t"+f+"\n", a...) }

func y(i int) string { return fmt.Sprintf("Y%d", i) }

// consts are the vector constants (8 copies each) in the DATA table.
var consts = []struct {
	name string
	v    int32
}{
	{"c0541", 4433}, {"cm1847", -15137}, {"c0765", 6270},
	{"c1175", 9633}, {"c0298", 2446}, {"c2053", 16819}, {"c3072", 25172}, {"c1501", 12299},
	{"cm0899", -7373}, {"cm2562", -20995}, {"cm1961", -16069}, {"cm0390", -3196},
	{"rnd1", 1 << 10}, {"rnd2", 1 << 17}, {"c128", 128},
}

func c(name string) string {
	for i, k := range consts {
		if k.name == name {
			return fmt.Sprintf("idctk<>+%d(SB)", 32*i)
		}
	}
	panic(name)
}

// idct1d transforms the eight vectors in regs (inputs 0..7) and returns
// the registers holding outputs 0..7. It uses all 16 registers.
func idct1d(r [8]int) [8]int {
	free := []int{}
	used := map[int]bool{}
	for _, x := range r {
		used[x] = true
	}
	for i := 0; i < 16; i++ {
		if !used[i] {
			free = append(free, i)
		}
	}
	t := free // 8 scratch registers
	in := func(i int) string { return y(r[i]) }
	// Even part.
	p("VPADDD %s, %s, %s", in(6), in(2), y(t[0])) // z2+z3
	p("VPMULLD %s, %s, %s", c("c0541"), y(t[0]), y(t[0]))
	p("VPMULLD %s, %s, %s", c("cm1847"), in(6), y(t[1]))
	p("VPADDD %s, %s, %s", y(t[0]), y(t[1]), y(t[1])) // tmp2
	p("VPMULLD %s, %s, %s", c("c0765"), in(2), y(t[2]))
	p("VPADDD %s, %s, %s", y(t[0]), y(t[2]), y(t[2])) // tmp3
	p("VPADDD %s, %s, %s", in(4), in(0), y(t[3]))
	p("VPSLLD $13, %s, %s", y(t[3]), y(t[3])) // tmp0
	p("VPSUBD %s, %s, %s", in(4), in(0), y(t[4]))
	p("VPSLLD $13, %s, %s", y(t[4]), y(t[4])) // tmp1
	// tmp10 → r0, tmp13 → r6, tmp11 → r2, tmp12 → r4
	p("VPADDD %s, %s, %s", y(t[2]), y(t[3]), in(0))
	p("VPSUBD %s, %s, %s", y(t[2]), y(t[3]), in(6))
	p("VPADDD %s, %s, %s", y(t[1]), y(t[4]), in(2))
	p("VPSUBD %s, %s, %s", y(t[1]), y(t[4]), in(4))
	// Odd part: tmp0 = in7, tmp1 = in5, tmp2 = in3, tmp3 = in1.
	z1, z2, z3, z4, z5 := y(t[0]), y(t[1]), y(t[2]), y(t[3]), y(t[4])
	p("VPADDD %s, %s, %s", in(1), in(7), z1)
	p("VPADDD %s, %s, %s", in(3), in(5), z2)
	p("VPADDD %s, %s, %s", in(3), in(7), z3)
	p("VPADDD %s, %s, %s", in(1), in(5), z4)
	p("VPADDD %s, %s, %s", z4, z3, z5)
	p("VPMULLD %s, %s, %s", c("c1175"), z5, z5)
	p("VPMULLD %s, %s, %s", c("c0298"), in(7), in(7))
	p("VPMULLD %s, %s, %s", c("c2053"), in(5), in(5))
	p("VPMULLD %s, %s, %s", c("c3072"), in(3), in(3))
	p("VPMULLD %s, %s, %s", c("c1501"), in(1), in(1))
	p("VPMULLD %s, %s, %s", c("cm0899"), z1, z1)
	p("VPMULLD %s, %s, %s", c("cm2562"), z2, z2)
	p("VPMULLD %s, %s, %s", c("cm1961"), z3, z3)
	p("VPMULLD %s, %s, %s", c("cm0390"), z4, z4)
	p("VPADDD %s, %s, %s", z5, z3, z3)
	p("VPADDD %s, %s, %s", z5, z4, z4)
	// idctGo sums tmp + z1 + z3 as (tmp + z1) + z3.
	p("VPADDD %s, %s, %s", z1, in(7), in(7))
	p("VPADDD %s, %s, %s", z3, in(7), in(7)) // t0
	p("VPADDD %s, %s, %s", z2, in(5), in(5))
	p("VPADDD %s, %s, %s", z4, in(5), in(5)) // t1
	p("VPADDD %s, %s, %s", z2, in(3), in(3))
	p("VPADDD %s, %s, %s", z3, in(3), in(3)) // t2
	p("VPADDD %s, %s, %s", z1, in(1), in(1))
	p("VPADDD %s, %s, %s", z4, in(1), in(1)) // t3
	// Outputs: 0 = tmp10+t3, 7 = tmp10-t3, 1 = tmp11+t2, 6 = tmp11-t2,
	// 2 = tmp12+t1, 5 = tmp12-t1, 3 = tmp13+t0, 4 = tmp13-t0.
	var o [8]int
	o[7], o[6], o[5], o[4] = t[0], t[1], t[2], t[3]
	p("VPSUBD %s, %s, %s", in(1), in(0), y(o[7]))
	p("VPADDD %s, %s, %s", in(1), in(0), in(0))
	o[0] = r[0]
	p("VPSUBD %s, %s, %s", in(3), in(2), y(o[6]))
	p("VPADDD %s, %s, %s", in(3), in(2), in(1))
	o[1] = r[1]
	p("VPSUBD %s, %s, %s", in(5), in(4), y(o[5]))
	p("VPADDD %s, %s, %s", in(5), in(4), in(2))
	o[2] = r[2]
	p("VPSUBD %s, %s, %s", in(7), in(6), y(o[4]))
	p("VPADDD %s, %s, %s", in(7), in(6), in(3))
	o[3] = r[3]
	return o
}

// transpose transposes the 8×8 int32 matrix in regs (one row each) and
// returns the registers holding columns 0..7.
func transpose(r [8]int) [8]int {
	used := map[int]bool{}
	for _, x := range r {
		used[x] = true
	}
	var t []int
	for i := 0; i < 16; i++ {
		if !used[i] {
			t = append(t, i)
		}
	}
	for k := 0; k < 4; k++ {
		p("VPUNPCKLDQ %s, %s, %s", y(r[2*k+1]), y(r[2*k]), y(t[2*k]))
		p("VPUNPCKHDQ %s, %s, %s", y(r[2*k+1]), y(r[2*k]), y(t[2*k+1]))
	}
	// t0..t7 = lo01 hi01 lo23 hi23 lo45 hi45 lo67 hi67
	u := r // reuse the input registers
	p("VPUNPCKLQDQ %s, %s, %s", y(t[2]), y(t[0]), y(u[0]))
	p("VPUNPCKHQDQ %s, %s, %s", y(t[2]), y(t[0]), y(u[1]))
	p("VPUNPCKLQDQ %s, %s, %s", y(t[3]), y(t[1]), y(u[2]))
	p("VPUNPCKHQDQ %s, %s, %s", y(t[3]), y(t[1]), y(u[3]))
	p("VPUNPCKLQDQ %s, %s, %s", y(t[6]), y(t[4]), y(u[4]))
	p("VPUNPCKHQDQ %s, %s, %s", y(t[6]), y(t[4]), y(u[5]))
	p("VPUNPCKLQDQ %s, %s, %s", y(t[7]), y(t[5]), y(u[6]))
	p("VPUNPCKHQDQ %s, %s, %s", y(t[7]), y(t[5]), y(u[7]))
	// u0..u3: columns 0..3 of rows 0-3 (low lane) and columns 4..7 (high
	// lane); u4..u7 the same for rows 4-7.
	var col [8]int
	for k := 0; k < 4; k++ {
		p("VPERM2I128 $0x20, %s, %s, %s", y(u[4+k]), y(u[k]), y(t[k]))
		p("VPERM2I128 $0x31, %s, %s, %s", y(u[4+k]), y(u[k]), y(t[4+k]))
		col[k], col[4+k] = t[k], t[4+k]
	}
	return col
}

func main() {
	fmt.Fprintln(&out, "// Code generated by _generate/gen.go; DO NOT EDIT.")
	fmt.Fprintln(&out)
	fmt.Fprintln(&out, "//go:build amd64 && !noasm && !purego")
	fmt.Fprintln(&out)
	fmt.Fprintln(&out, `#include "textflag.h"`)
	fmt.Fprintln(&out)
	for i, k := range consts {
		for j := 0; j < 8; j++ {
			fmt.Fprintf(&out, "DATA idctk<>+%d(SB)/4, $%d\n", 32*i+4*j, k.v)
		}
	}
	fmt.Fprintf(&out, "GLOBL idctk<>(SB), RODATA|NOPTR, $%d\n", 32*len(consts))
	for j, v := range []int{0, 4, 1, 5, 2, 6, 3, 7} {
		fmt.Fprintf(&out, "DATA rowperm<>+%d(SB)/4, $%d\n", 4*j, v)
	}
	fmt.Fprintln(&out, "GLOBL rowperm<>(SB), RODATA|NOPTR, $32")
	fmt.Fprintln(&out)
	fmt.Fprintln(&out, "// func idctAVX2(blk *[64]int16, q *[64]int32, dst *uint8, stride int)")
	fmt.Fprintln(&out, "TEXT ·idctAVX2(SB), NOSPLIT, $0-32")
	p("MOVQ blk+0(FP), AX")
	p("MOVQ q+8(FP), BX")
	p("MOVQ dst+16(FP), DI")
	p("MOVQ stride+24(FP), SI")
	// Load rows, dequantize, zero the block.
	for i := 0; i < 8; i++ {
		p("VPMOVSXWD %d(AX), Y%d", 16*i, i)
		p("VPMULLD %d(BX), Y%d, Y%d", 32*i, i, i)
	}
	p("VPXOR Y8, Y8, Y8")
	for i := 0; i < 4; i++ {
		p("VMOVDQU Y8, %d(AX)", 32*i)
	}
	o := idct1d([8]int{0, 1, 2, 3, 4, 5, 6, 7})
	for _, r := range o {
		p("VPADDD %s, %s, %s", c("rnd1"), y(r), y(r))
		p("VPSRAD $11, %s, %s", y(r), y(r))
	}
	cols := transpose(o)
	o = idct1d(cols)
	for _, r := range o {
		p("VPADDD %s, %s, %s", c("rnd2"), y(r), y(r))
		p("VPSRAD $18, %s, %s", y(r), y(r))
		p("VPADDD %s, %s, %s", c("c128"), y(r), y(r))
	}
	rows := transpose(o)
	// Pack to bytes with saturation (= clamp to 0..255) and store.
	used := map[int]bool{}
	for _, x := range rows {
		used[x] = true
	}
	var t []int
	for i := 0; i < 16; i++ {
		if !used[i] {
			t = append(t, i)
		}
	}
	for k := 0; k < 4; k++ {
		p("VPACKSSDW %s, %s, %s", y(rows[2*k+1]), y(rows[2*k]), y(t[k]))
	}
	p("VMOVDQU rowperm<>(SB), %s", y(t[6]))
	p("VPACKUSWB %s, %s, %s", y(t[1]), y(t[0]), y(t[4]))
	p("VPACKUSWB %s, %s, %s", y(t[3]), y(t[2]), y(t[5]))
	p("VPERMD %s, %s, %s", y(t[4]), y(t[6]), y(t[4]))
	p("VPERMD %s, %s, %s", y(t[5]), y(t[6]), y(t[5]))
	x := func(i int) string { return fmt.Sprintf("X%d", i) }
	for k, reg := range []int{t[4], t[5]} {
		// rows 4k..4k+3
		p("VMOVQ %s, (DI)", x(reg))
		p("VMOVHPS %s, (DI)(SI*1)", x(reg))
		p("LEAQ (DI)(SI*2), DI")
		p("VEXTRACTI128 $1, %s, %s", y(reg), x(t[7]))
		p("VMOVQ %s, (DI)", x(t[7]))
		p("VMOVHPS %s, (DI)(SI*1)", x(t[7]))
		if k == 0 {
			p("LEAQ (DI)(SI*2), DI")
		}
	}
	p("VZEROUPPER")
	p("RET")
	os.Stdout.WriteString(out.String())
}
