package tfjs

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/preconv/preconv/tensor"
	"github.com/x448/float16"
)

// Weight is one decoded weight tensor (float32, in the manifest's shape,
// which is the Keras layout: conv HWIO, depthwise HW-Cin-M, dense in×out).
type Weight struct {
	Name   string
	Tensor *tensor.Tensor
}

// weightBytes returns the stored byte size of one weight.
func weightBytes(w WeightSpec, maxElems int64) (int, error) {
	n, err := tensor.CheckedNumel(w.Shape, maxElems)
	if err != nil {
		return 0, err
	}
	dt := w.DType
	if w.Quantization != nil {
		dt = w.Quantization.DType
	}
	switch dt {
	case "float32", "int32":
		return 4 * n, nil
	case "float16", "uint16", "int16":
		return 2 * n, nil
	case "uint8", "int8", "bool":
		return n, nil
	}
	return 0, fmt.Errorf("dtype %q: %w", dt, ErrUnsupported)
}

// decodeWeights reads every manifest group's shards and decodes the
// weights. It checks that each group's shard bytes equal the sum of its
// weights' sizes.
func decodeWeights(src *source, groups []WeightGroup, maxBytes int64) (map[string]*tensor.Tensor, error) {
	if maxBytes <= 0 {
		maxBytes = 4 << 30
	}
	out := map[string]*tensor.Tensor{}
	var total int64
	for gi, g := range groups {
		// Size from the manifest first, so a bad manifest fails before reading.
		need := 0
		for _, w := range g.Weights {
			nb, err := weightBytes(w, maxBytes)
			if err != nil {
				return nil, fmt.Errorf("tfjs: %s: weight %q shape %v: %v: %w", src.jsonPath, w.Name, w.Shape, err, ErrFormat)
			}
			need += nb
			if int64(need) > maxBytes {
				return nil, fmt.Errorf("tfjs: %s: weights need more than %d bytes: %w", src.jsonPath, maxBytes, ErrLimit)
			}
		}
		var buf []byte
		sizes := make([]int, len(g.Paths))
		for pi, p := range g.Paths {
			b, err := src.shard(p, maxBytes)
			if err != nil {
				return nil, err
			}
			sizes[pi] = len(b)
			buf = append(buf, b...)
			if int64(len(buf)) > maxBytes {
				return nil, fmt.Errorf("tfjs: %s: shards exceed %d bytes: %w", src.jsonPath, maxBytes, ErrLimit)
			}
		}
		if len(buf) != need {
			return nil, fmt.Errorf("tfjs: %s: weight group %d: shards %v hold %d bytes (sizes %v), manifest weights need %d: %w",
				src.jsonPath, gi, g.Paths, len(buf), sizes, need, ErrShards)
		}
		total += int64(need)
		off := 0
		for _, w := range g.Weights {
			nb, _ := weightBytes(w, maxBytes)
			t, err := decodeWeight(w, buf[off:off+nb])
			if err != nil {
				return nil, fmt.Errorf("tfjs: %s: weight %q: %w", src.jsonPath, w.Name, err)
			}
			if _, dup := out[w.Name]; dup {
				return nil, fmt.Errorf("tfjs: %s: weight %q listed twice: %w", src.jsonPath, w.Name, ErrFormat)
			}
			out[w.Name] = t
			off += nb
		}
	}
	return out, nil
}

func decodeWeight(w WeightSpec, b []byte) (*tensor.Tensor, error) {
	n := len(b)
	t := tensor.New(w.Shape...)
	d := t.Data
	if q := w.Quantization; q != nil {
		switch q.DType {
		case "uint8":
			for i := 0; i < n; i++ {
				d[i] = float32(float64(b[i])*q.Scale + q.Min)
			}
		case "uint16":
			for i := range d {
				d[i] = float32(float64(binary.LittleEndian.Uint16(b[2*i:]))*q.Scale + q.Min)
			}
		case "float16":
			for i := range d {
				d[i] = float16.Frombits(binary.LittleEndian.Uint16(b[2*i:])).Float32()
			}
		default:
			return nil, fmt.Errorf("quantization dtype %q: %w", q.DType, ErrUnsupported)
		}
		return t, nil
	}
	switch w.DType {
	case "float32":
		for i := range d {
			d[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case "int32":
		for i := range d {
			d[i] = float32(int32(binary.LittleEndian.Uint32(b[4*i:])))
		}
	case "float16":
		for i := range d {
			d[i] = float16.Frombits(binary.LittleEndian.Uint16(b[2*i:])).Float32()
		}
	default:
		return nil, fmt.Errorf("dtype %q: %w", w.DType, ErrUnsupported)
	}
	return t, nil
}
