package onnx

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/preconv/preconv/model"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/tensor"
)

// Options controls Load and Decode. The zero value is valid.
type Options struct {
	// MaxBytes bounds the model file size (<= 0: 2 GiB).
	MaxBytes int64
	// MaxElements bounds the element count of any one tensor (<= 0: 1<<28).
	MaxElements int64
	// StaticBatch keeps the input's declared first dimension. By default
	// the first input dimension is the batch, free at run time, and shape
	// computations on it (Shape→Gather→Unsqueeze→Concat→Reshape, as
	// torch.onnx.export emits for x.view(x.size(0), -1)) are folded so the
	// graph works for any batch size.
	StaticBatch bool
	// Bind gives graph inputs constant values (serialized TensorProtos, as
	// in ONNX test_data_set_N/input_M.pb). Bound inputs are folded in; the
	// one input left unbound is the graph input.
	Bind map[string][]byte
}

func (o *Options) maxElems() int64 {
	if o.MaxElements <= 0 {
		return 1 << 28
	}
	return o.MaxElements
}

// Load reads an .onnx file and returns an executable graph. External data
// files are resolved relative to the file's directory.
func Load(path string, opts Options) (*model.Graph, error) {
	limit := opts.MaxBytes
	if limit <= 0 {
		limit = 2 << 30
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("onnx: %s: larger than %d bytes: %w", path, limit, ErrLimit)
	}
	g, err := Decode(b, filepath.Dir(path), opts)
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", path, err)
	}
	return g, nil
}

// ReadTensor decodes a serialized TensorProto (e.g. an ONNX test
// output_0.pb) to float32. Integer tensors are converted.
func ReadTensor(b []byte, maxElems int64) (*tensor.Tensor, error) {
	tp, err := parseTensor(b)
	if err != nil {
		return nil, err
	}
	v, err := tp.decode("", maxElems)
	if err != nil {
		return nil, err
	}
	return v.tensor(), nil
}

// batchSentinel stands for the run-time batch size during import-time
// shape folding.
const batchSentinel = 1<<20 + 7

// Decode builds a graph from .onnx bytes; dir resolves external data
// (empty: external data is refused).
func Decode(b []byte, dir string, opts Options) (*model.Graph, error) {
	m, err := parseModel(b)
	if err != nil {
		return nil, err
	}
	im := &importer{opts: opts, dir: dir, opset: m.Opsets[""], consts: map[string]*value{},
		shapes: map[string][]int{}, names: map[string]bool{}}
	if im.opset == 0 {
		im.opset = 13
	}
	return im.build(m.Graph)
}

type importer struct {
	opts   Options
	dir    string
	opset  int64
	consts map[string]*value
	shapes map[string][]int // runtime values: static shape (dim 0 may be batchSentinel)
	names  map[string]bool
	g      *model.Graph
}

// supportedOps lists the op types the importer implements (default domain).
var supportedOps = map[string]bool{
	"Conv": true, "BatchNormalization": true, "Relu": true, "Clip": true, "LeakyRelu": true,
	"Sigmoid": true, "MaxPool": true, "AveragePool": true, "GlobalAveragePool": true,
	"GlobalMaxPool": true, "Add": true, "Sub": true, "Mul": true, "Div": true, "Concat": true,
	"Gemm": true, "MatMul": true, "Flatten": true, "Reshape": true, "Transpose": true,
	"Pad": true, "Softmax": true, "LogSoftmax": true, "Dropout": true, "Identity": true,
	"Constant": true, "Shape": true, "Gather": true, "Unsqueeze": true, "Squeeze": true,
	"Cast": true,
}

// SupportedOps returns the ONNX op types the importer implements, sorted.
func SupportedOps() []string {
	out := make([]string, 0, len(supportedOps))
	for k := range supportedOps {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func nodeLabel(n *NodeProto) string {
	if n.Name != "" {
		return n.Name
	}
	if len(n.Outputs) > 0 {
		return n.Outputs[0]
	}
	return "(unnamed " + n.OpType + ")"
}

func (im *importer) build(gp *GraphProto) (*model.Graph, error) {
	// 1. Unsupported ops, all at once.
	bad := map[string][]string{}
	for _, n := range gp.Nodes {
		key := n.OpType
		if n.Domain != "" && n.Domain != "ai.onnx" {
			key = n.Domain + "." + n.OpType
		} else if supportedOps[n.OpType] {
			continue
		}
		bad[key] = append(bad[key], nodeLabel(n))
	}
	if len(bad) > 0 {
		keys := make([]string, 0, len(bad))
		for k := range bad {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s (nodes %s)", k, strings.Join(bad[k], ", ")))
		}
		return nil, fmt.Errorf("unsupported ops: %s: %w", strings.Join(parts, "; "), ErrUnsupported)
	}
	// 2. Initializers and bound inputs.
	for _, t := range gp.Initializer {
		v, err := t.decode(im.dir, im.opts.maxElems())
		if err != nil {
			return nil, fmt.Errorf("initializer: %w", err)
		}
		im.consts[t.Name] = v
	}
	declared := map[string]*ValueInfo{}
	for _, in := range gp.Inputs {
		declared[in.Name] = in
	}
	for name, pb := range im.opts.Bind {
		tp, err := parseTensor(pb)
		if err != nil {
			return nil, fmt.Errorf("bound input %q: %w", name, err)
		}
		if d, ok := declared[name]; ok && d.HasType && d.ElemType != tp.DataType {
			return nil, fmt.Errorf("bound input %q: value of type %s for an input declared %s: %w",
				name, dtypeName(tp.DataType), dtypeName(d.ElemType), ErrUnsupported)
		}
		v, err := tp.decode("", im.opts.maxElems())
		if err != nil {
			return nil, fmt.Errorf("bound input %q: %w", name, err)
		}
		im.consts[name] = v
	}
	// 3. The one runtime input.
	im.g = &model.Graph{Name: gp.Name, Aliases: map[string]string{}}
	for _, in := range gp.Inputs {
		if _, ok := im.consts[in.Name]; ok {
			continue
		}
		if im.g.Input != "" {
			return nil, fmt.Errorf("graph has more than one runtime input (%q, %q): %w", im.g.Input, in.Name, ErrUnsupported)
		}
		if in.HasType && in.ElemType != dtFloat {
			return nil, fmt.Errorf("input %q has element type %s, want FLOAT: %w", in.Name, dtypeName(in.ElemType), ErrUnsupported)
		}
		shape := make([]int, len(in.Dims))
		known := true
		for i, d := range in.Dims {
			if d < 0 || d > math.MaxInt32 {
				known = false
				shape[i] = 1
			} else {
				shape[i] = int(d)
			}
		}
		if len(shape) == 0 {
			return nil, fmt.Errorf("input %q has no shape: %w", in.Name, ErrUnsupported)
		}
		if !im.opts.StaticBatch {
			shape[0] = batchSentinel
		} else if !known {
			return nil, fmt.Errorf("input %q has symbolic dims %v with StaticBatch: %w", in.Name, in.Dims, ErrUnsupported)
		}
		im.g.Input = in.Name
		if known || !im.opts.StaticBatch {
			im.g.InputShape = append([]int(nil), shape[1:]...)
		}
		im.shapes[in.Name] = shape
		im.names[in.Name] = true
	}
	if im.g.Input == "" {
		return nil, fmt.Errorf("graph has no runtime input: %w", ErrUnsupported)
	}
	// 4. Topological order, with dangling inputs and cycles reported.
	order, err := topo(gp, im.consts, im.g.Input)
	if err != nil {
		return nil, err
	}
	for _, n := range order {
		if err := im.node(n); err != nil {
			return nil, fmt.Errorf("node %q (%s): %w", nodeLabel(n), n.OpType, err)
		}
	}
	if len(gp.Outputs) == 0 {
		return nil, fmt.Errorf("graph has no outputs: %w", ErrGraph)
	}
	out := gp.Outputs[0].Name
	if v, ok := im.consts[out]; ok {
		if err := im.addNode(out, "", &Const{Value: v.tensor()}, []string{im.g.Input}); err != nil {
			return nil, err
		}
	} else if _, ok := im.shapes[out]; !ok {
		return nil, fmt.Errorf("graph output %q is not produced by any node: %w", out, ErrGraph)
	}
	if out == im.g.Input {
		if err := im.addNode(out+"/identity", "", &Unary{Kind: "Identity"}, []string{im.g.Input}); err != nil {
			return nil, err
		}
		out = out + "/identity"
	}
	if err := im.checkSentinel(out); err != nil {
		return nil, err
	}
	im.g.Output = out
	return im.g, nil
}

// checkSentinel rejects a runtime value whose static shape has the batch
// placeholder anywhere but dim 0 (a shape computation we could not fold).
func (im *importer) checkSentinel(name string) error {
	for i, d := range im.shapes[name] {
		if i > 0 && d == batchSentinel {
			return fmt.Errorf("value %q: batch size moved off dimension 0 (shape computation not supported): %w", name, ErrUnsupported)
		}
	}
	return nil
}

func topo(gp *GraphProto, consts map[string]*value, input string) ([]*NodeProto, error) {
	producer := map[string]int{}
	for i, n := range gp.Nodes {
		for _, o := range n.Outputs {
			if o == "" {
				continue
			}
			if _, dup := producer[o]; dup {
				return nil, fmt.Errorf("value %q is produced by two nodes (second: %q): %w", o, nodeLabel(n), ErrGraph)
			}
			if _, ok := consts[o]; ok || o == input {
				return nil, fmt.Errorf("node %q overwrites graph input or initializer %q: %w", nodeLabel(n), o, ErrGraph)
			}
			producer[o] = i
		}
	}
	indeg := make([]int, len(gp.Nodes))
	users := make([][]int, len(gp.Nodes))
	for i, n := range gp.Nodes {
		for _, in := range n.Inputs {
			if in == "" || in == input {
				continue
			}
			if _, ok := consts[in]; ok {
				continue
			}
			p, ok := producer[in]
			if !ok {
				return nil, fmt.Errorf("node %q (%s): input %q is not a graph input, initializer or node output: %w", nodeLabel(n), n.OpType, in, ErrGraph)
			}
			indeg[i]++
			users[p] = append(users[p], i)
		}
	}
	var queue, done []int
	for i, d := range indeg {
		if d == 0 {
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		done = append(done, i)
		for _, u := range users[i] {
			indeg[u]--
			if indeg[u] == 0 {
				queue = append(queue, u)
			}
		}
	}
	if len(done) != len(gp.Nodes) {
		var cyc []string
		for i, d := range indeg {
			if d > 0 {
				cyc = append(cyc, nodeLabel(gp.Nodes[i]))
			}
		}
		return nil, fmt.Errorf("cycle among nodes %s: %w", strings.Join(cyc, ", "), ErrGraph)
	}
	out := make([]*NodeProto, len(done))
	for k, i := range done {
		out[k] = gp.Nodes[i]
	}
	return out, nil
}

// addNode appends a runtime node, computing its static shape.
func (im *importer) addNode(name, alias string, op nn.Op, inputs []string) error {
	in := make([][]int, len(inputs))
	for i, s := range inputs {
		in[i] = im.shapes[s]
	}
	os, err := op.OutShape(in...)
	if err != nil {
		return err
	}
	if im.names[name] {
		return fmt.Errorf("duplicate value name %q: %w", name, ErrGraph)
	}
	im.names[name] = true
	im.shapes[name] = os
	im.g.Nodes = append(im.g.Nodes, &model.Node{Name: name, Op: op, Inputs: inputs})
	if alias != "" && alias != name && !im.names[alias] {
		if _, taken := im.g.Aliases[alias]; !taken {
			im.g.Aliases[alias] = name
		}
	}
	return nil
}
