//go:build !amd64 || noasm || purego

package nn

// dwRows is dwRowsGo (no assembly in this build).
func dwRows(dst []float32, ldd int, src []float32, rs, oh, ow int, off []int, w []float32, bias, lo, hi float32) {
	dwRowsGo(dst, ldd, src, rs, oh, ow, off, w, bias, lo, hi)
}

// biasClamp is biasClampGo (no assembly in this build).
func biasClamp(v []float32, bias, lo, hi float32) { biasClampGo(v, bias, lo, hi) }

// evens is evensGo (no assembly in this build).
func evens(dst, src []float32) { evensGo(dst, src) }
