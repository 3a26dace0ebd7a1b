package cpu_test

import (
	"testing"

	"github.com/preconv/preconv/internal/cpu"
)

func TestDisableRestores(t *testing.T) {
	a512, a2 := cpu.HasAVX512(), cpu.HasAVX2FMA()
	r := cpu.DisableAVX512()
	if cpu.HasAVX512() {
		t.Fatal("HasAVX512 true after DisableAVX512")
	}
	if cpu.HasAVX2FMA() != a2 {
		t.Fatal("DisableAVX512 changed AVX2 flag")
	}
	r()
	if cpu.HasAVX512() != a512 {
		t.Fatal("restore did not bring back AVX512 flag")
	}
	r = cpu.DisableAVX2()
	if cpu.HasAVX512() || cpu.HasAVX2FMA() || cpu.Summary() != "generic" {
		t.Fatal("DisableAVX2 left a vector path on")
	}
	r()
	if cpu.HasAVX512() != a512 || cpu.HasAVX2FMA() != a2 {
		t.Fatal("restore after DisableAVX2 failed")
	}
	t.Logf("summary: %s", cpu.Summary())
}

func TestDisableVBMIRestores(t *testing.T) {
	v := cpu.HasAVX512VBMI()
	restore := cpu.DisableVBMI()
	if cpu.HasAVX512VBMI() {
		t.Fatal("HasAVX512VBMI true after DisableVBMI")
	}
	restore()
	if cpu.HasAVX512VBMI() != v {
		t.Fatal("DisableVBMI did not restore")
	}
	if cpu.HasAVX512VBMI() && !cpu.HasAVX512BW() {
		t.Fatal("VBMI without BW")
	}
	defer cpu.DisableAVX512()()
	if cpu.HasAVX512BW() || cpu.HasAVX512VBMI() {
		t.Fatal("BW/VBMI kernels enabled with AVX-512 disabled")
	}
}
