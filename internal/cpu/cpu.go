// Package cpu reports the x86 vector features that preconv's kernels use.
//
// The flags are read once at init from golang.org/x/sys/cpu (which also checks
// that the operating system saves the wider register state) and are read-only
// afterwards, except through the test-only Disable hooks below. Kernel
// dispatch reads them on every call with a plain switch, so a test can force
// the AVX2 or portable path on an AVX-512 machine:
//
//	defer cpu.DisableAVX512()()
package cpu

import "golang.org/x/sys/cpu"

// features holds the flags; written at init and by the Disable hooks only.
type features struct {
	avx512  bool // AVX-512 F (+ OS support for ZMM state)
	avx2fma bool // AVX2 and FMA3 (+ OS support for YMM state)
	bw      bool // AVX-512 BW (byte/word instructions), on top of avx512
	vbmi    bool // AVX-512 VBMI (byte permutes), on top of bw
}

var x86 = detect()

func detect() features {
	return features{
		avx512:  cpu.X86.HasAVX512F && cpu.X86.HasAVX2 && cpu.X86.HasFMA,
		avx2fma: cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX,
		bw:      cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW,
		vbmi:    cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VBMI,
	}
}

// HasAVX512 reports whether AVX-512F kernels may run.
func HasAVX512() bool { return x86.avx512 }

// HasAVX512BW reports whether AVX-512 kernels that also use BW
// instructions (byte and word moves, VPERMI2W) may run. DisableAVX512
// turns it off too.
func HasAVX512BW() bool { return x86.avx512 && x86.bw }

// HasAVX512VBMI reports whether AVX-512 kernels that also use BW and VBMI
// instructions (VPERMB) may run. DisableAVX512 and DisableVBMI turn it off.
func HasAVX512VBMI() bool { return x86.avx512 && x86.bw && x86.vbmi }

// DisableVBMI turns the VBMI flag off (so that a test can run the kernels
// of AVX-512 CPUs without VBMI, such as Skylake-SP) and returns a function
// that restores it. For tests only, like DisableAVX512.
func DisableVBMI() (restore func()) {
	old := x86.vbmi
	x86.vbmi = false
	return func() { x86.vbmi = old }
}

// HasAVX2FMA reports whether AVX2+FMA3 kernels may run.
func HasAVX2FMA() bool { return x86.avx2fma }

// DisableAVX512 turns the AVX-512 flag off and returns a function that
// restores its previous value. For tests only: it is not safe to call while
// other goroutines run kernels.
func DisableAVX512() (restore func()) {
	old := x86.avx512
	x86.avx512 = false
	return func() { x86.avx512 = old }
}

// DisableAVX2 turns the AVX2+FMA flag off (and AVX-512 with it, since every
// AVX-512 machine has AVX2) and returns a function that restores both.
// For tests only, like DisableAVX512.
func DisableAVX2() (restore func()) {
	old := x86
	x86.avx2fma = false
	x86.avx512 = false
	return func() { x86 = old }
}

// Summary names the widest kernel family available, for logs and benchmarks:
// "avx512", "avx2", or "generic".
func Summary() string {
	switch {
	case x86.avx512:
		return "avx512"
	case x86.avx2fma:
		return "avx2"
	}
	return "generic"
}
