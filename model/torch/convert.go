package torch

import (
	"encoding/binary"
	"math"
)

// converter returns the little-endian decoder of one element to float32.
func converter(dt string) func(b []byte) float32 {
	switch dt {
	case "float32":
		return func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) }
	case "float16":
		return func(b []byte) float32 { return halfToFloat(binary.LittleEndian.Uint16(b)) }
	case "bfloat16":
		return func(b []byte) float32 { return math.Float32frombits(uint32(binary.LittleEndian.Uint16(b)) << 16) }
	case "float64":
		return func(b []byte) float32 { return float32(math.Float64frombits(binary.LittleEndian.Uint64(b))) }
	case "int64":
		return func(b []byte) float32 { return float32(int64(binary.LittleEndian.Uint64(b))) }
	case "int32":
		return func(b []byte) float32 { return float32(int32(binary.LittleEndian.Uint32(b))) }
	case "int16":
		return func(b []byte) float32 { return float32(int16(binary.LittleEndian.Uint16(b))) }
	case "int8":
		return func(b []byte) float32 { return float32(int8(b[0])) }
	case "uint8", "bool":
		return func(b []byte) float32 { return float32(b[0]) }
	}
	return nil
}

// halfToFloat converts IEEE 754 binary16 bits to float32 exactly.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: mant · 2^-24
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}
