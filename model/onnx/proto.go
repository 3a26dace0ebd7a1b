package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// This file decodes the subset of onnx.proto the importer needs, by hand
// with protowire. Field numbers follow onnx/onnx.proto (IR version 8).
// Nothing is allocated from an untrusted length beyond the bytes actually
// present: every length-delimited field is a subslice of the input.

// Model is a decoded ModelProto.
type Model struct {
	IRVersion int64
	Opsets    map[string]int64 // domain ("" for ai.onnx) → version
	Producer  string
	Graph     *GraphProto
}

// GraphProto is a decoded GraphProto.
type GraphProto struct {
	Name        string
	Nodes       []*NodeProto
	Initializer []*TensorProto
	Inputs      []*ValueInfo
	Outputs     []*ValueInfo
}

// NodeProto is a decoded NodeProto.
type NodeProto struct {
	Inputs, Outputs []string
	Name, OpType    string
	Domain          string
	Attrs           map[string]*Attr
}

// Attr is a decoded AttributeProto.
type Attr struct {
	Name   string
	Type   int32
	F      float32
	I      int64
	S      []byte
	T      *TensorProto
	Floats []float32
	Ints   []int64
	hasG   bool
}

// Attribute types (AttributeProto.AttributeType).
const (
	attrFloat   = 1
	attrInt     = 2
	attrString  = 3
	attrTensor  = 4
	attrGraph   = 5
	attrFloats  = 6
	attrInts    = 7
	attrStrings = 8
)

// ValueInfo is a decoded ValueInfoProto with a tensor type.
type ValueInfo struct {
	Name     string
	ElemType int32
	// Dims holds dim_value, or -1 for a symbolic or missing dimension.
	Dims    []int64
	HasType bool
}

// TensorProto is a decoded TensorProto. Data is decoded lazily by
// (*TensorProto).decode, which also applies size limits.
type TensorProto struct {
	Name     string
	Dims     []int64
	DataType int32
	Raw      []byte
	// Packed or repeated typed data, kept as wire bytes until decoded.
	floatData  [][]byte
	int32Data  [][]byte
	int64Data  [][]byte
	doubleData [][]byte
	uint64Data [][]byte
	floatVals  []float32
	int64Vals  []int64
	int32Vals  []int64
	doubleVals []float64
	External   map[string]string
	ExtOrder   []string
	Location   int32
	hasStrings bool
}

// ONNX TensorProto.DataType values.
const (
	dtFloat    = 1
	dtUint8    = 2
	dtInt8     = 3
	dtUint16   = 4
	dtInt16    = 5
	dtInt32    = 6
	dtInt64    = 7
	dtString   = 8
	dtBool     = 9
	dtFloat16  = 10
	dtDouble   = 11
	dtUint32   = 12
	dtUint64   = 13
	dtBfloat16 = 16
)

// maxNesting bounds message nesting (graphs inside attributes).
const maxNesting = 32

func bad(what string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(what, args...), ErrFormat)
}

// fields iterates over the fields of one message.
func fields(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return bad("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var u uint32
			u, n = protowire.ConsumeFixed32(b)
			x = uint64(u)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return bad("field %d: %v (truncated?)", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

func parseModel(b []byte) (*Model, error) {
	m := &Model{Opsets: map[string]int64{}}
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1:
			m.IRVersion = int64(x)
		case 2:
			m.Producer = string(v)
		case 7:
			if typ != protowire.BytesType {
				return bad("ModelProto.graph: wire type %d", typ)
			}
			g, err := parseGraph(v, 0)
			if err != nil {
				return err
			}
			m.Graph = g
		case 8:
			var dom string
			var ver int64
			if err := fields(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				switch num {
				case 1:
					dom = string(v)
				case 2:
					ver = int64(x)
				}
				return nil
			}); err != nil {
				return err
			}
			if dom == "ai.onnx" {
				dom = ""
			}
			m.Opsets[dom] = ver
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if m.Graph == nil {
		return nil, bad("ModelProto has no graph")
	}
	return m, nil
}

func parseGraph(b []byte, depth int) (*GraphProto, error) {
	if depth > maxNesting {
		return nil, bad("graphs nested deeper than %d", maxNesting)
	}
	g := &GraphProto{}
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			n, err := parseNode(v, depth)
			if err != nil {
				return err
			}
			g.Nodes = append(g.Nodes, n)
		case 2:
			g.Name = string(v)
		case 5:
			t, err := parseTensor(v)
			if err != nil {
				return err
			}
			g.Initializer = append(g.Initializer, t)
		case 11, 12:
			vi, err := parseValueInfo(v)
			if err != nil {
				return err
			}
			if num == 11 {
				g.Inputs = append(g.Inputs, vi)
			} else {
				g.Outputs = append(g.Outputs, vi)
			}
		case 15:
			return fmt.Errorf("sparse_initializer: %w", ErrUnsupported)
		}
		return nil
	})
	return g, err
}

func parseNode(b []byte, depth int) (*NodeProto, error) {
	n := &NodeProto{Attrs: map[string]*Attr{}}
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			n.Inputs = append(n.Inputs, string(v))
		case 2:
			n.Outputs = append(n.Outputs, string(v))
		case 3:
			n.Name = string(v)
		case 4:
			n.OpType = string(v)
		case 7:
			n.Domain = string(v)
		case 5:
			a, err := parseAttr(v, depth)
			if err != nil {
				return err
			}
			n.Attrs[a.Name] = a
		}
		return nil
	})
	return n, err
}

func parseAttr(b []byte, depth int) (*Attr, error) {
	a := &Attr{}
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1:
			a.Name = string(v)
		case 20:
			a.Type = int32(x)
		case 2:
			a.F = math.Float32frombits(uint32(x))
		case 3:
			a.I = int64(x)
		case 4:
			a.S = v
		case 5:
			t, err := parseTensor(v)
			if err != nil {
				return err
			}
			a.T = t
		case 6:
			a.hasG = true
		case 7:
			if typ == protowire.BytesType {
				if len(v)%4 != 0 {
					return bad("attribute floats: %d bytes", len(v))
				}
				for i := 0; i < len(v); i += 4 {
					a.Floats = append(a.Floats, math.Float32frombits(binary.LittleEndian.Uint32(v[i:])))
				}
			} else {
				a.Floats = append(a.Floats, math.Float32frombits(uint32(x)))
			}
		case 8:
			if typ == protowire.BytesType {
				for len(v) > 0 {
					u, n := protowire.ConsumeVarint(v)
					if n < 0 {
						return bad("attribute ints: truncated")
					}
					a.Ints = append(a.Ints, int64(u))
					v = v[n:]
				}
			} else {
				a.Ints = append(a.Ints, int64(x))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if a.Name == "" {
		return nil, bad("attribute without a name")
	}
	return a, nil
}

func parseValueInfo(b []byte) (*ValueInfo, error) {
	vi := &ValueInfo{}
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1:
			vi.Name = string(v)
		case 2: // TypeProto
			return fields(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				if num != 1 || typ != protowire.BytesType { // tensor_type
					return nil
				}
				vi.HasType = true
				return fields(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
					switch num {
					case 1:
						vi.ElemType = int32(x)
					case 2: // TensorShapeProto
						return fields(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
							if num != 1 || typ != protowire.BytesType {
								return nil
							}
							d := int64(-1)
							if err := fields(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
								if num == 1 && typ == protowire.VarintType {
									d = int64(x)
								}
								return nil
							}); err != nil {
								return err
							}
							vi.Dims = append(vi.Dims, d)
							return nil
						})
					}
					return nil
				})
			})
		}
		return nil
	})
	return vi, err
}

func parseTensor(b []byte) (*TensorProto, error) {
	t := &TensorProto{}
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1:
			if typ == protowire.BytesType {
				for len(v) > 0 {
					u, n := protowire.ConsumeVarint(v)
					if n < 0 {
						return bad("tensor dims: truncated")
					}
					t.Dims = append(t.Dims, int64(u))
					v = v[n:]
				}
			} else {
				t.Dims = append(t.Dims, int64(x))
			}
		case 2:
			t.DataType = int32(x)
		case 3:
			return fmt.Errorf("segmented tensor: %w", ErrUnsupported)
		case 4:
			if typ == protowire.BytesType {
				t.floatData = append(t.floatData, v)
			} else {
				t.floatVals = append(t.floatVals, math.Float32frombits(uint32(x)))
			}
		case 5:
			if typ == protowire.BytesType {
				t.int32Data = append(t.int32Data, v)
			} else {
				t.int32Vals = append(t.int32Vals, int64(int32(x)))
			}
		case 6:
			t.hasStrings = true
		case 7:
			if typ == protowire.BytesType {
				t.int64Data = append(t.int64Data, v)
			} else {
				t.int64Vals = append(t.int64Vals, int64(x))
			}
		case 8:
			t.Name = string(v)
		case 9:
			t.Raw = v
		case 10:
			if typ == protowire.BytesType {
				t.doubleData = append(t.doubleData, v)
			} else {
				t.doubleVals = append(t.doubleVals, math.Float64frombits(x))
			}
		case 11:
			if typ == protowire.BytesType {
				t.uint64Data = append(t.uint64Data, v)
			} else {
				t.int64Vals = append(t.int64Vals, int64(x))
			}
		case 13:
			var k, val string
			if err := fields(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				switch num {
				case 1:
					k = string(v)
				case 2:
					val = string(v)
				}
				return nil
			}); err != nil {
				return err
			}
			if t.External == nil {
				t.External = map[string]string{}
			}
			t.External[k] = val
		case 14:
			t.Location = int32(x)
		}
		return nil
	})
	return t, err
}

func consumeVarint(b []byte) (uint64, int) { return protowire.ConsumeVarint(b) }
