package onnx

import (
	"fmt"
	"math"

	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/tensor"
)

// operand is one node input: a constant, a runtime value, or absent.
type operand struct {
	name  string
	c     *value
	shape []int // runtime static shape
}

func (o operand) absent() bool  { return o.name == "" }
func (o operand) runtime() bool { return o.name != "" && o.c == nil }

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrUnsupported)
}

func (n *NodeProto) intAttr(name string, def int64) int64 {
	if a, ok := n.Attrs[name]; ok {
		return a.I
	}
	return def
}

func (n *NodeProto) floatAttr(name string, def float32) float32 {
	if a, ok := n.Attrs[name]; ok {
		return a.F
	}
	return def
}

func (n *NodeProto) intsAttr(name string) []int64 {
	if a, ok := n.Attrs[name]; ok {
		return a.Ints
	}
	return nil
}

func (n *NodeProto) strAttr(name, def string) string {
	if a, ok := n.Attrs[name]; ok {
		return string(a.S)
	}
	return def
}

// node converts one ONNX node: folded to a constant when all its inputs
// are constant and it is a shape/constant computation, else a graph node.
func (im *importer) node(n *NodeProto) error {
	ops := make([]operand, len(n.Inputs))
	allConst := true
	for i, name := range n.Inputs {
		if name == "" {
			continue
		}
		if c, ok := im.consts[name]; ok {
			ops[i] = operand{name: name, c: c}
			continue
		}
		s, ok := im.shapes[name]
		if !ok {
			return fmt.Errorf("input %q is not defined: %w", name, ErrGraph)
		}
		ops[i] = operand{name: name, shape: s}
		allConst = false
	}
	if len(n.Outputs) == 0 || n.Outputs[0] == "" {
		return fmt.Errorf("node has no output: %w", ErrGraph)
	}
	for _, o := range n.Outputs[1:] {
		if o != "" && n.OpType != "Dropout" {
			return unsupported("%s with a second output %q", n.OpType, o)
		}
	}
	out := n.Outputs[0]
	// Constant producers and shape computations.
	switch n.OpType {
	case "Constant":
		v, err := constantAttr(n, im.opts.maxElems())
		if err != nil {
			return err
		}
		im.consts[out] = v
		return nil
	case "Shape":
		if len(ops) < 1 || ops[0].absent() {
			return fmt.Errorf("Shape needs an input: %w", ErrGraph)
		}
		var s []int
		if ops[0].c != nil {
			s = ops[0].c.shape
		} else {
			s = ops[0].shape
		}
		r := int64(len(s))
		st, en := n.intAttr("start", 0), n.intAttr("end", r)
		if st < 0 {
			st += r
		}
		if en < 0 {
			en += r
		}
		st, en = min(max(st, 0), r), min(max(en, 0), r)
		v := &value{isInt: true, shape: []int{int(max(en-st, 0))}}
		for i := st; i < en; i++ {
			v.i = append(v.i, int64(s[i]))
		}
		im.consts[out] = v
		return nil
	}
	if allConst && len(ops) > 0 {
		v, err := im.fold(n, ops)
		if err != nil {
			return err
		}
		im.consts[out] = v
		return nil
	}
	op, inputs, err := im.convert(n, ops)
	if err != nil {
		return err
	}
	if err := im.addNode(out, n.Name, op, inputs); err != nil {
		return err
	}
	return im.checkSentinel(out)
}

// fold evaluates a node whose inputs are all constants.
func (im *importer) fold(n *NodeProto, ops []operand) (*value, error) {
	anyInt := false
	for _, o := range ops {
		if o.c != nil && o.c.isInt {
			anyInt = true
		}
	}
	if anyInt {
		if v, ok, err := foldInt(n, ops, im.opset); ok || err != nil {
			return v, err
		}
	}
	// Float path: run the runtime op on the constant as its input.
	first := -1
	for i, o := range ops {
		if !o.absent() {
			first = i
			break
		}
	}
	if first < 0 {
		return nil, fmt.Errorf("no inputs: %w", ErrGraph)
	}
	x := ops[first].c.tensor()
	tmp := append([]operand(nil), ops...)
	tmp[first] = operand{name: "\x00fold", shape: x.Shape}
	op, inputs, err := im.convert(n, tmp)
	if err != nil {
		return nil, err
	}
	args := make([]*tensor.Tensor, len(inputs))
	for i, name := range inputs {
		if name != "\x00fold" {
			return nil, unsupported("folding %s with several runtime inputs", n.OpType)
		}
		args[i] = x
	}
	os, err := op.OutShape(x.Shape)
	if err != nil {
		return nil, err
	}
	if _, err := tensor.CheckedNumel(os, im.opts.maxElems()); err != nil {
		return nil, fmt.Errorf("folding %s: %v: %w", n.OpType, err, ErrLimit)
	}
	y, err := op.Forward(&nn.Exec{Threads: 1}, args...)
	if err != nil {
		return nil, err
	}
	return floatValue(y.Clone()), nil
}

// foldInt folds integer shape computations. ok is false when the op is
// not one it handles.
func foldInt(n *NodeProto, ops []operand, opset int64) (*value, bool, error) {
	in := func(i int) *value {
		if i < len(ops) {
			return ops[i].c
		}
		return nil
	}
	x := in(0)
	switch n.OpType {
	case "Identity", "Cast", "Dropout":
		to := n.intAttr("to", dtInt64)
		if n.OpType == "Cast" && (to == dtFloat || to == dtDouble || to == dtFloat16 || to == dtBfloat16) {
			return &value{shape: x.shape, f: x.floats()}, true, nil
		}
		return &value{shape: x.shape, i: x.ints(), isInt: true}, true, nil
	case "Gather":
		idx := in(1)
		if idx == nil {
			return nil, true, fmt.Errorf("Gather needs indices: %w", ErrGraph)
		}
		g := &Gather{Axis: int(n.intAttr("axis", 0)), Indices: idx.ints(), IndexShape: idx.shape}
		os, err := g.OutShape(x.shape)
		if err != nil {
			return nil, true, err
		}
		ax := g.Axis
		if ax < 0 {
			ax += len(x.shape)
		}
		xi := x.ints()
		outer, k, inner := tensor.Numel(x.shape[:ax]), x.shape[ax], tensor.Numel(x.shape[ax+1:])
		v := &value{shape: os, isInt: x.isInt}
		for o := 0; o < outer; o++ {
			for _, j := range g.Indices {
				if j < 0 {
					j += int64(k)
				}
				v.i = append(v.i, xi[(o*k+int(j))*inner:(o*k+int(j)+1)*inner]...)
			}
		}
		if !x.isInt {
			v.f = (&value{i: v.i, isInt: true}).floats()
			v.i = nil
		}
		return v, true, nil
	case "Unsqueeze", "Squeeze":
		axes := n.intsAttr("axes")
		if a := in(1); a != nil {
			axes = a.ints()
		}
		r := &Reshape{Kind: n.OpType, Axes: axes}
		s, err := r.OutShape(x.shape)
		if err != nil {
			return nil, true, err
		}
		return &value{shape: s, i: x.i, f: x.f, isInt: x.isInt}, true, nil
	case "Concat":
		ax := int(n.intAttr("axis", 0))
		var shapes [][]int
		var parts []*value
		for _, o := range ops {
			if !o.absent() {
				shapes = append(shapes, o.c.shape)
				parts = append(parts, o.c)
			}
		}
		c := &Concat{Axis: ax}
		os, err := c.OutShape(shapes...)
		if err != nil {
			return nil, true, err
		}
		if ax < 0 {
			ax += len(os)
		}
		outer, inner := tensor.Numel(os[:ax]), tensor.Numel(os[ax+1:])
		v := &value{shape: os, isInt: true}
		for o := 0; o < outer; o++ {
			for _, p := range parts {
				w := p.shape[ax] * inner
				v.i = append(v.i, p.ints()[o*w:(o+1)*w]...)
			}
		}
		return v, true, nil
	case "Reshape", "Flatten":
		var r *Reshape
		if n.OpType == "Flatten" {
			r = &Reshape{Kind: "Flatten", FlattenAxis: int(n.intAttr("axis", 1))}
		} else {
			r = &Reshape{Kind: "Reshape", Shape: in(1).ints(), AllowZero: n.intAttr("allowzero", 0) != 0}
		}
		s, err := r.OutShape(x.shape)
		if err != nil {
			return nil, true, err
		}
		return &value{shape: s, i: x.i, f: x.f, isInt: x.isInt}, true, nil
	case "Add", "Sub", "Mul", "Div":
		y := in(1)
		if y == nil || !x.isInt || !y.isInt {
			return nil, false, nil
		}
		os, ok := broadcastShape(x.shape, y.shape)
		if !ok || tensor.Numel(os) != max(len(x.i), len(y.i)) || (len(x.i) != len(y.i) && len(x.i) != 1 && len(y.i) != 1) {
			return nil, false, nil
		}
		v := &value{shape: os, isInt: true, i: make([]int64, tensor.Numel(os))}
		for k := range v.i {
			a, b := x.i[min(k, len(x.i)-1)], y.i[min(k, len(y.i)-1)]
			switch n.OpType {
			case "Add":
				v.i[k] = a + b
			case "Sub":
				v.i[k] = a - b
			case "Mul":
				v.i[k] = a * b
			case "Div":
				if b == 0 {
					return nil, true, fmt.Errorf("integer division by zero: %w", ErrFormat)
				}
				v.i[k] = a / b
			}
		}
		return v, true, nil
	}
	return nil, false, nil
}

func constantAttr(n *NodeProto, maxElems int64) (*value, error) {
	if a, ok := n.Attrs["value"]; ok && a.T != nil {
		return a.T.decode("", maxElems)
	}
	if a, ok := n.Attrs["value_float"]; ok {
		return &value{f: []float32{a.F}}, nil
	}
	if a, ok := n.Attrs["value_floats"]; ok {
		return &value{shape: []int{len(a.Floats)}, f: a.Floats}, nil
	}
	if a, ok := n.Attrs["value_int"]; ok {
		return &value{i: []int64{a.I}, isInt: true}, nil
	}
	if a, ok := n.Attrs["value_ints"]; ok {
		return &value{shape: []int{len(a.Ints)}, i: a.Ints, isInt: true}, nil
	}
	return nil, unsupported("Constant without a value/value_float(s)/value_int(s) attribute")
}

func toInts(v []int64) ([]int, error) {
	out := make([]int, len(v))
	for i, x := range v {
		if x < math.MinInt32 || x > math.MaxInt32 {
			return nil, fmt.Errorf("value %d out of range: %w", x, ErrFormat)
		}
		out[i] = int(x)
	}
	return out, nil
}

// spatial reads kernel/stride/pad/dilation attributes of a 2-D conv/pool.
type spatial struct {
	kernel, stride, dil [2]int
	pad                 [4]int
	ceil                bool
}

func (im *importer) spatialAttrs(n *NodeProto, in []int, kernel []int64) (spatial, error) {
	var s spatial
	if len(in) != 4 {
		return s, unsupported("%s on a %d-D input (only 2-D spatial, NCHW)", n.OpType, len(in))
	}
	if len(kernel) != 2 {
		return s, unsupported("%s kernel_shape %v (only 2-D)", n.OpType, kernel)
	}
	get2 := func(name string, def int) ([2]int, error) {
		v := n.intsAttr(name)
		if v == nil {
			return [2]int{def, def}, nil
		}
		if len(v) != 2 || v[0] < 1 || v[1] < 1 || v[0] > 1<<16 || v[1] > 1<<16 {
			return [2]int{}, fmt.Errorf("%s %v: %w", name, v, ErrFormat)
		}
		return [2]int{int(v[0]), int(v[1])}, nil
	}
	var err error
	if kernel[0] < 1 || kernel[1] < 1 || kernel[0] > 1<<16 || kernel[1] > 1<<16 {
		return s, fmt.Errorf("kernel_shape %v: %w", kernel, ErrFormat)
	}
	s.kernel = [2]int{int(kernel[0]), int(kernel[1])}
	if s.stride, err = get2("strides", 1); err != nil {
		return s, err
	}
	if s.dil, err = get2("dilations", 1); err != nil {
		return s, err
	}
	s.ceil = n.intAttr("ceil_mode", 0) != 0
	switch ap := n.strAttr("auto_pad", "NOTSET"); ap {
	case "NOTSET", "":
		if p := n.intsAttr("pads"); p != nil {
			if len(p) != 4 {
				return s, fmt.Errorf("pads %v: %w", p, ErrFormat)
			}
			for i, v := range p {
				if v < 0 || v > 1<<16 {
					return s, fmt.Errorf("pads %v: %w", p, ErrFormat)
				}
				s.pad[i] = int(v)
			}
		}
	case "VALID":
	case "SAME_UPPER", "SAME_LOWER":
		for ax := 0; ax < 2; ax++ {
			size := in[2+ax]
			out := (size + s.stride[ax] - 1) / s.stride[ax]
			eff := (s.kernel[ax]-1)*s.dil[ax] + 1
			total := max((out-1)*s.stride[ax]+eff-size, 0)
			small, big := total/2, total-total/2
			if ap == "SAME_UPPER" {
				s.pad[ax], s.pad[ax+2] = small, big
			} else {
				s.pad[ax], s.pad[ax+2] = big, small
			}
		}
	default:
		return s, unsupported("auto_pad %q", ap)
	}
	return s, nil
}

// convert builds the runtime op for a node with at least one runtime input.
func (im *importer) convert(n *NodeProto, ops []operand) (nn.Op, []string, error) {
	need := func(i int) (operand, error) {
		if i >= len(ops) || ops[i].absent() {
			return operand{}, fmt.Errorf("missing input %d: %w", i, ErrGraph)
		}
		return ops[i], nil
	}
	x, err := need(0)
	if err != nil {
		return nil, nil, err
	}
	one := []string{x.name}
	if !x.runtime() {
		// The first input is constant but another is not.
		switch n.OpType {
		case "Add", "Mul", "Sub", "Div", "Concat":
		default:
			return nil, nil, unsupported("%s with a constant first input and a runtime %s", n.OpType, "operand")
		}
	}
	constIn := func(i int, what string) (*value, error) {
		if i >= len(ops) || ops[i].absent() {
			return nil, nil
		}
		if ops[i].c == nil {
			return nil, unsupported("%s with a runtime %s (input %q); only constants/initializers", n.OpType, what, ops[i].name)
		}
		return ops[i].c, nil
	}
	switch n.OpType {
	case "Identity", "Dropout":
		if n.OpType == "Dropout" {
			if tm, err := constIn(2, "training_mode"); err != nil {
				return nil, nil, err
			} else if tm != nil && tm.numel() == 1 && tm.ints()[0] != 0 {
				return nil, nil, unsupported("Dropout with training_mode=true (inference only)")
			}
		}
		return &Unary{Kind: n.OpType}, one, nil
	case "Cast":
		to := n.intAttr("to", 0)
		if to != dtFloat && to != dtDouble && to != dtFloat16 {
			return nil, nil, unsupported("Cast of a runtime value to %s", dtypeName(int32(to)))
		}
		return &Unary{Kind: "Identity"}, one, nil
	case "Relu":
		return &nn.ReLU{}, one, nil
	case "Sigmoid":
		return &Unary{Kind: "Sigmoid"}, one, nil
	case "LeakyRelu":
		return &Unary{Kind: "LeakyRelu", Alpha: n.floatAttr("alpha", 0.01)}, one, nil
	case "Clip":
		lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
		if im.opset < 11 {
			lo, hi = n.floatAttr("min", lo), n.floatAttr("max", hi)
		}
		for i, p := range []*float32{&lo, &hi} {
			v, err := constIn(i+1, "min/max")
			if err != nil {
				return nil, nil, err
			}
			if v != nil {
				if v.numel() != 1 {
					return nil, nil, fmt.Errorf("Clip bound has %d values: %w", v.numel(), ErrFormat)
				}
				*p = v.floats()[0]
			}
		}
		return &nn.Clip{Min: lo, Max: hi}, one, nil
	case "Add", "Sub", "Mul", "Div":
		y, err := need(1)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case x.runtime() && y.runtime() && n.OpType == "Add" && tensor.SameShape(x.shape, y.shape):
			// nn.Add, so model.(*Graph).Fuse can fuse a following Relu.
			return &nn.Add{}, []string{x.name, y.name}, nil
		case x.runtime() && y.runtime():
			return &Binary{Kind: n.OpType}, []string{x.name, y.name}, nil
		case x.runtime():
			return &Binary{Kind: n.OpType, C: y.c.tensor()}, one, nil
		default:
			return &Binary{Kind: n.OpType, C: x.c.tensor(), ConstLeft: true}, []string{y.name}, nil
		}
	case "Concat":
		c := &Concat{Axis: int(n.intAttr("axis", 0))}
		var names []string
		hasConst := false
		for _, o := range ops {
			if o.absent() {
				continue
			}
			if o.c != nil {
				c.Consts = append(c.Consts, o.c.tensor())
				hasConst = true
			} else {
				c.Consts = append(c.Consts, nil)
				names = append(names, o.name)
			}
		}
		if !hasConst {
			c.Consts = nil
		}
		return c, names, nil
	case "Conv":
		w, err := constIn(1, "weight")
		if err != nil {
			return nil, nil, err
		}
		if w == nil || len(w.shape) != 4 {
			return nil, nil, unsupported("Conv weight shape %v (only 2-D convs)", shapeOf(w))
		}
		k := n.intsAttr("kernel_shape")
		if k == nil {
			k = []int64{int64(w.shape[2]), int64(w.shape[3])}
		}
		sp, err := im.spatialAttrs(n, x.shape, k)
		if err != nil {
			return nil, nil, err
		}
		groups := int(n.intAttr("group", 1))
		if groups < 1 || len(x.shape) != 4 || x.shape[1]%groups != 0 {
			return nil, nil, fmt.Errorf("group %d for input %v: %w", groups, x.shape, nn.ErrShape)
		}
		c := &nn.Conv2d{InChannels: x.shape[1], OutChannels: w.shape[0], Kernel: sp.kernel, Stride: sp.stride,
			Pad: sp.pad, Dilation: sp.dil, Groups: groups, Weight: w.tensor()}
		if b, err := constIn(2, "bias"); err != nil {
			return nil, nil, err
		} else if b != nil {
			c.Bias = b.tensor()
		}
		return c, one, nil
	case "BatchNormalization":
		if n.intAttr("training_mode", 0) != 0 {
			return nil, nil, unsupported("BatchNormalization training_mode=1")
		}
		eps := float64(n.floatAttr("epsilon", 1e-5))
		var p [4]*value
		for i := range p {
			if p[i], err = constIn(i+1, "parameter"); err != nil {
				return nil, nil, err
			}
			if p[i] == nil {
				return nil, nil, fmt.Errorf("BatchNormalization input %d missing: %w", i+1, ErrGraph)
			}
		}
		ch := p[0].numel()
		for _, v := range p {
			if v.numel() != ch {
				return nil, nil, fmt.Errorf("BatchNormalization parameters of sizes %d and %d: %w", ch, v.numel(), nn.ErrShape)
			}
		}
		// nn.BatchNorm2d (any rank >= 2, channels on axis 1), so
		// model.(*Graph).Fuse can fold it into a preceding conv.
		bn := &nn.BatchNorm2d{Channels: ch, Eps: float32(eps), Weight: p[0].tensor(), Bias: p[1].tensor(),
			RunningMean: p[2].tensor(), RunningVar: p[3].tensor()}
		return bn, one, nil
	case "MaxPool", "AveragePool":
		if n.intAttr("storage_order", 0) != 0 {
			return nil, nil, unsupported("MaxPool storage_order=1")
		}
		sp, err := im.spatialAttrs(n, x.shape, n.intsAttr("kernel_shape"))
		if err != nil {
			return nil, nil, err
		}
		if n.OpType == "MaxPool" {
			return &nn.MaxPool2d{Kernel: sp.kernel, Stride: sp.stride, Pad: sp.pad, Dilation: sp.dil, CeilMode: sp.ceil}, one, nil
		}
		if sp.dil != [2]int{1, 1} {
			return nil, nil, unsupported("AveragePool dilations %v", sp.dil)
		}
		return &nn.AvgPool2d{Kernel: sp.kernel, Stride: sp.stride, Pad: sp.pad, CeilMode: sp.ceil,
			CountIncludePad: n.intAttr("count_include_pad", 0) != 0}, one, nil
	case "GlobalAveragePool", "GlobalMaxPool":
		if len(x.shape) != 4 {
			return nil, nil, unsupported("%s on a %d-D input (only NCHW)", n.OpType, len(x.shape))
		}
		if n.OpType == "GlobalMaxPool" {
			return &nn.GlobalMaxPool{}, one, nil
		}
		return &nn.GlobalAvgPool{}, one, nil
	case "Gemm":
		g := &Gemm{TransA: n.intAttr("transA", 0) != 0, TransB: n.intAttr("transB", 0) != 0,
			Alpha: n.floatAttr("alpha", 1), Beta: n.floatAttr("beta", 1)}
		b, err := need(1)
		if err != nil {
			return nil, nil, err
		}
		names := one
		if b.c != nil {
			g.B = b.c.tensor()
		} else {
			names = []string{x.name, b.name}
		}
		c, err := constIn(2, "C")
		if err != nil {
			return nil, nil, err
		}
		if c != nil {
			g.C = c.tensor()
		}
		return g, names, nil
	case "MatMul":
		b, err := need(1)
		if err != nil {
			return nil, nil, err
		}
		if b.c != nil {
			return &MatMul{B: b.c.tensor()}, one, nil
		}
		return &MatMul{}, []string{x.name, b.name}, nil
	case "Flatten":
		return &Reshape{Kind: "Flatten", FlattenAxis: int(n.intAttr("axis", 1))}, one, nil
	case "Reshape":
		s, err := constIn(1, "shape")
		if err != nil {
			return nil, nil, err
		}
		if s == nil {
			return nil, nil, fmt.Errorf("Reshape without a shape: %w", ErrGraph)
		}
		shape := append([]int64(nil), s.ints()...)
		for i, d := range shape {
			if d == batchSentinel {
				if i != 0 || len(x.shape) == 0 || x.shape[0] != batchSentinel {
					return nil, nil, unsupported("Reshape to %v: the batch size lands off dimension 0", s.ints())
				}
				shape[i] = 0 // copy the run-time batch
			}
		}
		return &Reshape{Kind: "Reshape", Shape: shape, AllowZero: n.intAttr("allowzero", 0) != 0}, one, nil
	case "Unsqueeze", "Squeeze":
		axes := n.intsAttr("axes")
		if a, err := constIn(1, "axes"); err != nil {
			return nil, nil, err
		} else if a != nil {
			axes = a.ints()
		}
		return &Reshape{Kind: n.OpType, Axes: axes}, one, nil
	case "Transpose":
		perm, err := toInts(n.intsAttr("perm"))
		if err != nil {
			return nil, nil, err
		}
		return &Transpose{Perm: perm}, one, nil
	case "Pad":
		mode := n.strAttr("mode", "constant")
		if mode != "constant" {
			return nil, nil, unsupported("Pad mode %q (only constant)", mode)
		}
		pads := n.intsAttr("pads")
		val := n.floatAttr("value", 0)
		if im.opset >= 11 {
			p, err := constIn(1, "pads")
			if err != nil {
				return nil, nil, err
			}
			if p != nil {
				pads = p.ints()
			}
			v, err := constIn(2, "constant_value")
			if err != nil {
				return nil, nil, err
			}
			if v != nil && v.numel() == 1 {
				val = v.floats()[0]
			}
			if len(ops) > 3 && !ops[3].absent() {
				return nil, nil, unsupported("Pad with axes input")
			}
		}
		pi, err := toInts(pads)
		if err != nil {
			return nil, nil, err
		}
		return &Pad{Pads: pi, Value: val}, one, nil
	case "Softmax", "LogSoftmax":
		if im.opset < 13 {
			return &Softmax{Kind: n.OpType, Axis: int(n.intAttr("axis", 1)), Legacy: true}, one, nil
		}
		return &Softmax{Kind: n.OpType, Axis: int(n.intAttr("axis", -1))}, one, nil
	case "Gather":
		idx, err := constIn(1, "indices")
		if err != nil {
			return nil, nil, err
		}
		if idx == nil {
			return nil, nil, fmt.Errorf("Gather without indices: %w", ErrGraph)
		}
		return &Gather{Axis: int(n.intAttr("axis", 0)), Indices: idx.ints(), IndexShape: idx.shape}, one, nil
	}
	return nil, nil, unsupported("op %s", n.OpType)
}

func shapeOf(v *value) []int {
	if v == nil {
		return nil
	}
	return v.shape
}
