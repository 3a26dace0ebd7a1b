package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/preconv/preconv/tensor"
	"github.com/x448/float16"
)

// value is a decoded constant: float data (float types) or int64 data
// (integer and bool types).
type value struct {
	shape []int
	f     []float32
	i     []int64
	isInt bool
}

func (v *value) numel() int {
	if v.isInt {
		return len(v.i)
	}
	return len(v.f)
}

// floats returns the data as float32 (ints converted).
func (v *value) floats() []float32 {
	if !v.isInt {
		return v.f
	}
	out := make([]float32, len(v.i))
	for k, x := range v.i {
		out[k] = float32(x)
	}
	return out
}

// ints returns the data as int64 (floats truncated).
func (v *value) ints() []int64 {
	if v.isInt {
		return v.i
	}
	out := make([]int64, len(v.f))
	for k, x := range v.f {
		out[k] = int64(x)
	}
	return out
}

func (v *value) tensor() *tensor.Tensor {
	return &tensor.Tensor{Shape: append([]int(nil), v.shape...), Data: append([]float32(nil), v.floats()...)}
}

func floatValue(t *tensor.Tensor) *value {
	return &value{shape: append([]int(nil), t.Shape...), f: t.Data}
}

func dtypeName(dt int32) string {
	names := map[int32]string{1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32",
		7: "INT64", 8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 12: "UINT32", 13: "UINT64", 16: "BFLOAT16"}
	if n, ok := names[dt]; ok {
		return n
	}
	return "type " + strconv.Itoa(int(dt))
}

func isIntType(dt int32) bool {
	switch dt {
	case dtUint8, dtInt8, dtUint16, dtInt16, dtInt32, dtInt64, dtBool, dtUint32, dtUint64:
		return true
	}
	return false
}

func elemSize(dt int32) int {
	switch dt {
	case dtUint8, dtInt8, dtBool:
		return 1
	case dtUint16, dtInt16, dtFloat16, dtBfloat16:
		return 2
	case dtFloat, dtInt32, dtUint32:
		return 4
	case dtInt64, dtDouble, dtUint64:
		return 8
	}
	return 0
}

// decode converts a TensorProto to a value. dir resolves external data
// (empty: external data refused); maxElems bounds the element count.
func (t *TensorProto) decode(dir string, maxElems int64) (*value, error) {
	shape := make([]int, len(t.Dims))
	for k, d := range t.Dims {
		if d < 0 || d > math.MaxInt32 {
			return nil, bad("tensor %q: dims %v", t.Name, t.Dims)
		}
		shape[k] = int(d)
	}
	n, err := tensor.CheckedNumel(shape, maxElems)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %v: %w", t.Name, err, ErrLimit)
	}
	if t.hasStrings || t.DataType == dtString {
		return nil, fmt.Errorf("tensor %q: STRING data: %w", t.Name, ErrUnsupported)
	}
	es := elemSize(t.DataType)
	if es == 0 {
		return nil, fmt.Errorf("tensor %q: data type %s: %w", t.Name, dtypeName(t.DataType), ErrUnsupported)
	}
	v := &value{shape: shape, isInt: isIntType(t.DataType)}
	raw := t.Raw
	if t.Location == 1 {
		raw, err = t.external(dir, n*es)
		if err != nil {
			return nil, err
		}
	}
	if raw != nil {
		if len(raw) != n*es {
			return nil, bad("tensor %q: raw_data has %d bytes, shape %v of %s needs %d", t.Name, len(raw), shape, dtypeName(t.DataType), n*es)
		}
		return v, v.fromRaw(t.DataType, raw, n)
	}
	// Typed fields.
	switch t.DataType {
	case dtFloat:
		f := append([]float32(nil), t.floatVals...)
		for _, p := range t.floatData {
			if len(p)%4 != 0 || len(f)+len(p)/4 > n {
				return nil, bad("tensor %q: float_data does not fit shape %v", t.Name, shape)
			}
			for k := 0; k < len(p); k += 4 {
				f = append(f, math.Float32frombits(binary.LittleEndian.Uint32(p[k:])))
			}
		}
		v.f = f
	case dtDouble:
		f := make([]float32, 0, min(n, len(t.doubleVals)+8))
		for _, x := range t.doubleVals {
			f = append(f, float32(x))
		}
		for _, p := range t.doubleData {
			if len(p)%8 != 0 || len(f)+len(p)/8 > n {
				return nil, bad("tensor %q: double_data does not fit shape %v", t.Name, shape)
			}
			for k := 0; k < len(p); k += 8 {
				f = append(f, float32(math.Float64frombits(binary.LittleEndian.Uint64(p[k:]))))
			}
		}
		v.f = f
	case dtFloat16, dtBfloat16:
		// 16-bit floats travel in int32_data, one per element.
		ints, err := varints(t.int32Data, t.int32Vals, n, t.Name)
		if err != nil {
			return nil, err
		}
		v.f = make([]float32, len(ints))
		for k, x := range ints {
			if t.DataType == dtBfloat16 {
				v.f[k] = math.Float32frombits(uint32(uint16(x)) << 16)
			} else {
				v.f[k] = float16.Frombits(uint16(x)).Float32()
			}
		}
	case dtInt64:
		ints, err := varints(t.int64Data, t.int64Vals, n, t.Name)
		if err != nil {
			return nil, err
		}
		v.i = ints
	case dtUint64:
		ints, err := varints(t.uint64Data, t.int64Vals, n, t.Name)
		if err != nil {
			return nil, err
		}
		v.i = ints
	default: // int32, int16, int8, uint16, uint8, bool in int32_data
		ints, err := varints(t.int32Data, t.int32Vals, n, t.Name)
		if err != nil {
			return nil, err
		}
		for k := range ints {
			ints[k] = int64(int32(ints[k]))
		}
		v.i = ints
	}
	if v.numel() != n {
		return nil, bad("tensor %q: %d values for shape %v", t.Name, v.numel(), shape)
	}
	return v, nil
}

func varints(packed [][]byte, loose []int64, n int, name string) ([]int64, error) {
	out := append([]int64(nil), loose...)
	for _, p := range packed {
		for len(p) > 0 {
			if len(out) >= n {
				return nil, bad("tensor %q: more values than its shape holds", name)
			}
			x, k := consumeVarint(p)
			if k < 0 {
				return nil, bad("tensor %q: truncated packed data", name)
			}
			out = append(out, int64(x))
			p = p[k:]
		}
	}
	return out, nil
}

func (v *value) fromRaw(dt int32, raw []byte, n int) error {
	le := binary.LittleEndian
	if v.isInt {
		v.i = make([]int64, n)
	} else {
		v.f = make([]float32, n)
	}
	for k := 0; k < n; k++ {
		switch dt {
		case dtFloat:
			v.f[k] = math.Float32frombits(le.Uint32(raw[4*k:]))
		case dtDouble:
			v.f[k] = float32(math.Float64frombits(le.Uint64(raw[8*k:])))
		case dtFloat16:
			v.f[k] = float16.Frombits(le.Uint16(raw[2*k:])).Float32()
		case dtBfloat16:
			v.f[k] = math.Float32frombits(uint32(le.Uint16(raw[2*k:])) << 16)
		case dtInt64, dtUint64:
			v.i[k] = int64(le.Uint64(raw[8*k:]))
		case dtInt32:
			v.i[k] = int64(int32(le.Uint32(raw[4*k:])))
		case dtUint32:
			v.i[k] = int64(le.Uint32(raw[4*k:]))
		case dtInt16:
			v.i[k] = int64(int16(le.Uint16(raw[2*k:])))
		case dtUint16:
			v.i[k] = int64(le.Uint16(raw[2*k:]))
		case dtInt8:
			v.i[k] = int64(int8(raw[k]))
		case dtUint8, dtBool:
			v.i[k] = int64(raw[k])
		}
	}
	return nil
}

// external reads external data: location (relative to dir, must stay
// inside it), offset, length.
func (t *TensorProto) external(dir string, need int) ([]byte, error) {
	if dir == "" {
		return nil, fmt.Errorf("tensor %q: external data but no model directory: %w", t.Name, ErrExternal)
	}
	loc := t.External["location"]
	clean := filepath.Clean(filepath.FromSlash(loc))
	if loc == "" || filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("tensor %q: external location %q is not a relative path inside the model directory: %w", t.Name, loc, ErrExternal)
	}
	var off, length int64
	var err error
	if s := t.External["offset"]; s != "" {
		if off, err = strconv.ParseInt(s, 10, 64); err != nil || off < 0 {
			return nil, fmt.Errorf("tensor %q: external offset %q: %w", t.Name, s, ErrExternal)
		}
	}
	length = int64(need)
	if s := t.External["length"]; s != "" {
		if length, err = strconv.ParseInt(s, 10, 64); err != nil || length != int64(need) {
			return nil, fmt.Errorf("tensor %q: external length %q, shape needs %d bytes: %w", t.Name, s, need, ErrExternal)
		}
	}
	path := filepath.Join(dir, clean)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %v: %w", t.Name, err, ErrExternal)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %v: %w", t.Name, err, ErrExternal)
	}
	if off+length > st.Size() {
		return nil, fmt.Errorf("tensor %q: %s has %d bytes, need offset %d + length %d: %w", t.Name, path, st.Size(), off, length, ErrExternal)
	}
	b := make([]byte, length)
	if _, err := f.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("tensor %q: %s: %v: %w", t.Name, path, err, ErrExternal)
	}
	return b, nil
}
