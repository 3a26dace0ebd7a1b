package onnx

import (
	"fmt"
	"math"

	"github.com/preconv/preconv/gemm"
	"github.com/preconv/preconv/nn"
	"github.com/preconv/preconv/tensor"
)

// Ops that package nn does not provide with ONNX semantics (general ranks,
// broadcasting, constants folded in). All satisfy nn.Op.

func shapeErr(op string, in [][]int, why string) error {
	return fmt.Errorf("%s: input shapes %v: %s: %w", op, in, why, nn.ErrShape)
}

func shapesOf(in []*tensor.Tensor) [][]int {
	s := make([][]int, len(in))
	for i, t := range in {
		s[i] = t.Shape
	}
	return s
}

// ---- elementwise unary ----

// Unary is an elementwise function: Sigmoid, LeakyRelu(Alpha), Identity.
type Unary struct {
	Kind  string
	Alpha float32
}

// Type returns the ONNX op name.
func (u *Unary) Type() string { return u.Kind }

// OutShape returns the input shape.
func (u *Unary) OutShape(in ...[]int) ([]int, error) {
	if len(in) != 1 {
		return nil, shapeErr(u.Kind, in, "want 1 input")
	}
	return append([]int(nil), in[0]...), nil
}

// Forward applies the function.
func (u *Unary) Forward(e *nn.Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	if len(in) != 1 {
		return nil, shapeErr(u.Kind, shapesOf(in), "want 1 input")
	}
	if u.Kind == "Identity" || u.Kind == "Dropout" {
		return in[0], nil
	}
	out := in[0].Clone()
	v := out.Data
	switch u.Kind {
	case "Sigmoid":
		for i, x := range v {
			v[i] = float32(1 / (1 + math.Exp(-float64(x))))
		}
	case "LeakyRelu":
		for i, x := range v {
			if x < 0 {
				v[i] = x * u.Alpha
			}
		}
	case "Relu":
		for i, x := range v {
			if x < 0 {
				v[i] = 0
			}
		}
	default:
		return nil, fmt.Errorf("%s: %w", u.Kind, ErrUnsupported)
	}
	return out, nil
}

// ---- broadcasting binary ----

// Binary is Add, Sub, Mul or Div with numpy broadcasting. A constant
// operand (C, on side ConstLeft or right) is folded in; otherwise it takes
// two inputs.
type Binary struct {
	Kind      string
	C         *tensor.Tensor
	ConstLeft bool
}

var _ nn.Op = (*Binary)(nil)

// Type returns the ONNX op name.
func (b *Binary) Type() string { return b.Kind }

// Params returns the constant operand, if any.
func (b *Binary) Params() []nn.Param {
	if b.C == nil {
		return nil
	}
	return []nn.Param{{Name: "const", Tensor: b.C}}
}

func (b *Binary) operands(in [][]int) ([]int, []int, error) {
	switch {
	case b.C != nil && len(in) == 1 && b.ConstLeft:
		return b.C.Shape, in[0], nil
	case b.C != nil && len(in) == 1:
		return in[0], b.C.Shape, nil
	case b.C == nil && len(in) == 2:
		return in[0], in[1], nil
	}
	return nil, nil, shapeErr(b.Kind, in, "wrong input count")
}

// broadcastShape returns the numpy broadcast of a and b.
func broadcastShape(a, b []int) ([]int, bool) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := i - (n - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (n - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, false
		}
	}
	return out, true
}

// OutShape returns the broadcast shape.
func (b *Binary) OutShape(in ...[]int) ([]int, error) {
	x, y, err := b.operands(in)
	if err != nil {
		return nil, err
	}
	s, ok := broadcastShape(x, y)
	if !ok {
		return nil, shapeErr(b.Kind, [][]int{x, y}, "shapes do not broadcast")
	}
	return s, nil
}

// strides returns element strides of shape aligned to out's rank, zero on
// broadcast dimensions.
func bstrides(shape, out []int) []int {
	st := make([]int, len(out))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		j := i + len(out) - len(shape)
		if shape[i] != 1 {
			st[j] = acc
		}
		acc *= shape[i]
	}
	return st
}

// Forward computes the elementwise result.
func (b *Binary) Forward(e *nn.Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	var x, y *tensor.Tensor
	switch {
	case b.C != nil && len(in) == 1 && b.ConstLeft:
		x, y = b.C, in[0]
	case b.C != nil && len(in) == 1:
		x, y = in[0], b.C
	case b.C == nil && len(in) == 2:
		x, y = in[0], in[1]
	default:
		return nil, shapeErr(b.Kind, shapesOf(in), "wrong input count")
	}
	os, ok := broadcastShape(x.Shape, y.Shape)
	if !ok {
		return nil, shapeErr(b.Kind, [][]int{x.Shape, y.Shape}, "shapes do not broadcast")
	}
	out := tensor.New(os...)
	f := binFunc(b.Kind)
	if tensor.SameShape(x.Shape, y.Shape) {
		for i := range out.Data {
			out.Data[i] = f(x.Data[i], y.Data[i])
		}
		return out, nil
	}
	sx, sy := bstrides(x.Shape, os), bstrides(y.Shape, os)
	idx := make([]int, len(os))
	ix, iy := 0, 0
	for i := range out.Data {
		out.Data[i] = f(x.Data[ix], y.Data[iy])
		for d := len(os) - 1; d >= 0; d-- {
			idx[d]++
			ix += sx[d]
			iy += sy[d]
			if idx[d] < os[d] {
				break
			}
			ix -= sx[d] * os[d]
			iy -= sy[d] * os[d]
			idx[d] = 0
		}
	}
	return out, nil
}

func binFunc(kind string) func(a, b float32) float32 {
	switch kind {
	case "Sub":
		return func(a, b float32) float32 { return a - b }
	case "Mul":
		return func(a, b float32) float32 { return a * b }
	case "Div":
		return func(a, b float32) float32 { return a / b }
	}
	return func(a, b float32) float32 { return a + b }
}

// ---- shape ops ----

// Reshape gives the input a new shape. Shape may hold 0 (copy the input's
// dimension, unless AllowZero) and one -1 (inferred). It also serves
// Flatten (Axis >= 0: [prod(:Axis), prod(Axis:)]), Squeeze and Unsqueeze.
type Reshape struct {
	Kind      string
	Shape     []int64
	AllowZero bool
	// FlattenAxis >= 0 makes this Flatten.
	FlattenAxis int
	// Axes for Squeeze/Unsqueeze (normalized at run time).
	Axes []int64
}

// Type returns the ONNX op name.
func (r *Reshape) Type() string { return r.Kind }

// OutShape computes the new shape.
func (r *Reshape) OutShape(in ...[]int) ([]int, error) {
	if len(in) != 1 {
		return nil, shapeErr(r.Kind, in, "want 1 input")
	}
	s := in[0]
	switch r.Kind {
	case "Flatten":
		ax := r.FlattenAxis
		if ax < 0 {
			ax += len(s)
		}
		if ax < 0 || ax > len(s) {
			return nil, shapeErr("Flatten", in, fmt.Sprintf("axis %d", r.FlattenAxis))
		}
		return []int{tensor.Numel(s[:ax]), tensor.Numel(s[ax:])}, nil
	case "Squeeze":
		drop := map[int]bool{}
		for _, a := range r.Axes {
			ax := int(a)
			if ax < 0 {
				ax += len(s)
			}
			if ax < 0 || ax >= len(s) || s[ax] != 1 {
				return nil, shapeErr("Squeeze", in, fmt.Sprintf("axis %d", a))
			}
			drop[ax] = true
		}
		var out []int
		for i, d := range s {
			if drop[i] || (len(r.Axes) == 0 && d == 1) {
				continue
			}
			out = append(out, d)
		}
		return out, nil
	case "Unsqueeze":
		n := len(s) + len(r.Axes)
		ins := map[int]bool{}
		for _, a := range r.Axes {
			ax := int(a)
			if ax < 0 {
				ax += n
			}
			if ax < 0 || ax >= n || ins[ax] {
				return nil, shapeErr("Unsqueeze", in, fmt.Sprintf("axes %v", r.Axes))
			}
			ins[ax] = true
		}
		out := make([]int, 0, n)
		k := 0
		for i := 0; i < n; i++ {
			if ins[i] {
				out = append(out, 1)
			} else {
				out = append(out, s[k])
				k++
			}
		}
		return out, nil
	}
	out := make([]int, len(r.Shape))
	infer := -1
	known := 1
	for i, d := range r.Shape {
		switch {
		case d == 0 && !r.AllowZero:
			if i >= len(s) {
				return nil, shapeErr("Reshape", in, fmt.Sprintf("shape %v copies missing dim %d", r.Shape, i))
			}
			out[i] = s[i]
		case d == -1:
			if infer >= 0 {
				return nil, shapeErr("Reshape", in, fmt.Sprintf("shape %v has two -1", r.Shape))
			}
			infer = i
			continue
		case d < 0 || d > math.MaxInt32:
			return nil, shapeErr("Reshape", in, fmt.Sprintf("shape %v", r.Shape))
		default:
			out[i] = int(d)
		}
		known *= out[i]
	}
	total := tensor.Numel(s)
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, shapeErr("Reshape", in, fmt.Sprintf("cannot infer -1 in %v", r.Shape))
		}
		out[infer] = total / known
		known *= out[infer]
	}
	if known != total {
		return nil, shapeErr("Reshape", in, fmt.Sprintf("shape %v has a different element count", r.Shape))
	}
	return out, nil
}

// Forward returns a view of the input with the new shape.
func (r *Reshape) Forward(e *nn.Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	s, err := r.OutShape(shapesOf(in)...)
	if err != nil {
		return nil, err
	}
	return &tensor.Tensor{Shape: s, Data: in[0].Data}, nil
}

// Transpose permutes axes (Perm; empty reverses them).
type Transpose struct{ Perm []int }

// Type returns "Transpose".
func (*Transpose) Type() string { return "Transpose" }

func (t *Transpose) perm(n int) ([]int, error) {
	p := t.Perm
	if len(p) == 0 {
		p = make([]int, n)
		for i := range p {
			p[i] = n - 1 - i
		}
	}
	if len(p) != n {
		return nil, fmt.Errorf("perm %v for rank %d", t.Perm, n)
	}
	seen := make([]bool, n)
	for _, a := range p {
		if a < 0 || a >= n || seen[a] {
			return nil, fmt.Errorf("bad perm %v", t.Perm)
		}
		seen[a] = true
	}
	return p, nil
}

// OutShape permutes the input shape.
func (t *Transpose) OutShape(in ...[]int) ([]int, error) {
	if len(in) != 1 {
		return nil, shapeErr("Transpose", in, "want 1 input")
	}
	p, err := t.perm(len(in[0]))
	if err != nil {
		return nil, shapeErr("Transpose", in, err.Error())
	}
	out := make([]int, len(p))
	for i, a := range p {
		out[i] = in[0][a]
	}
	return out, nil
}

// Forward permutes the data.
func (t *Transpose) Forward(e *nn.Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	os, err := t.OutShape(shapesOf(in)...)
	if err != nil {
		return nil, err
	}
	x := in[0]
	p, _ := t.perm(len(x.Shape))
	out := tensor.New(os...)
	n := len(os)
	istr := make([]int, n)
	acc := 1
	for i := n - 1; i >= 0; i-- {
		istr[i] = acc
		acc *= x.Shape[i]
	}
	st := make([]int, n) // input stride for each output axis
	for i, a := range p {
		st[i] = istr[a]
	}
	idx := make([]int, n)
	off := 0
	for i := range out.Data {
		out.Data[i] = x.Data[off]
		for d := n - 1; d >= 0; d-- {
			idx[d]++
			off += st[d]
			if idx[d] < os[d] {
				break
			}
			off -= st[d] * os[d]
			idx[d] = 0
		}
	}
	return out, nil
}

// Concat joins inputs along Axis. Consts (nil entries are the runtime
// inputs, in order) are constant operands folded in.
type Concat struct {
	Axis   int
	Consts []*tensor.Tensor
}

// Type returns "Concat".
func (*Concat) Type() string { return "Concat" }

func (c *Concat) all(in [][]int) [][]int {
	if c.Consts == nil {
		return in
	}
	out := make([][]int, 0, len(c.Consts))
	k := 0
	for _, t := range c.Consts {
		if t != nil {
			out = append(out, t.Shape)
		} else if k < len(in) {
			out = append(out, in[k])
			k++
		}
	}
	return out
}

// OutShape sums the axis.
func (c *Concat) OutShape(in ...[]int) ([]int, error) {
	all := c.all(in)
	if len(all) == 0 {
		return nil, shapeErr("Concat", in, "no inputs")
	}
	r := len(all[0])
	ax := c.Axis
	if ax < 0 {
		ax += r
	}
	if ax < 0 || ax >= r {
		return nil, shapeErr("Concat", all, fmt.Sprintf("axis %d", c.Axis))
	}
	out := append([]int(nil), all[0]...)
	for _, s := range all[1:] {
		if len(s) != r {
			return nil, shapeErr("Concat", all, "ranks differ")
		}
		for d := range s {
			if d != ax && s[d] != out[d] {
				return nil, shapeErr("Concat", all, "shapes differ off the axis")
			}
		}
		out[ax] += s[ax]
	}
	return out, nil
}

// Forward concatenates.
func (c *Concat) Forward(e *nn.Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	os, err := c.OutShape(shapesOf(in)...)
	if err != nil {
		return nil, err
	}
	var all []*tensor.Tensor
	if c.Consts == nil {
		all = in
	} else {
		k := 0
		for _, t := range c.Consts {
			if t != nil {
				all = append(all, t)
			} else {
				all = append(all, in[k])
				k++
			}
		}
	}
	ax := c.Axis
	if ax < 0 {
		ax += len(os)
	}
	outer := tensor.Numel(os[:ax])
	inner := tensor.Numel(os[ax+1:])
	out := tensor.New(os...)
	off := 0
	for o := 0; o < outer; o++ {
		for _, t := range all {
			n := t.Shape[ax] * inner
			copy(out.Data[off:off+n], t.Data[o*n:(o+1)*n])
			off += n
		}
	}
	return out, nil
}

// ---- Softmax ----

// Softmax normalizes exp(x) over Axis. Legacy (opset < 13) treats the
// input as 2-D [prod(:Axis), prod(Axis:)] and normalizes each row.
type Softmax struct {
	Axis   int
	Legacy bool
	Kind   string // Softmax or LogSoftmax
}

// Type returns "Softmax".
func (s *Softmax) Type() string { return s.Kind }

// OutShape returns the input shape.
func (s *Softmax) OutShape(in ...[]int) ([]int, error) {
	if len(in) != 1 {
		return nil, shapeErr(s.Kind, in, "want 1 input")
	}
	ax := s.Axis
	if ax < 0 {
		ax += len(in[0])
	}
	if ax < 0 || ax >= max(len(in[0]), 1) {
		return nil, shapeErr(s.Kind, in, fmt.Sprintf("axis %d", s.Axis))
	}
	return append([]int(nil), in[0]...), nil
}

// Forward computes the softmax in float64 accumulation.
func (s *Softmax) Forward(e *nn.Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	if _, err := s.OutShape(shapesOf(in)...); err != nil {
		return nil, err
	}
	x := in[0]
	ax := s.Axis
	if ax < 0 {
		ax += len(x.Shape)
	}
	outer, n, inner := tensor.Numel(x.Shape[:ax]), x.Shape[ax], tensor.Numel(x.Shape[ax+1:])
	if s.Legacy {
		n, inner = tensor.Numel(x.Shape[ax:]), 1
	}
	out := tensor.New(x.Shape...)
	for o := 0; o < outer; o++ {
		for p := 0; p < inner; p++ {
			base := o*n*inner + p
			mx := math.Inf(-1)
			for k := 0; k < n; k++ {
				mx = math.Max(mx, float64(x.Data[base+k*inner]))
			}
			var sum float64
			for k := 0; k < n; k++ {
				sum += math.Exp(float64(x.Data[base+k*inner]) - mx)
			}
			for k := 0; k < n; k++ {
				v := float64(x.Data[base+k*inner]) - mx
				if s.Kind == "LogSoftmax" {
					out.Data[base+k*inner] = float32(v - math.Log(sum))
				} else {
					out.Data[base+k*inner] = float32(math.Exp(v) / sum)
				}
			}
		}
	}
	return out, nil
}

// ---- Gemm / MatMul ----

// Gemm is Y = Alpha·op(A)·op(B) + Beta·C with A the runtime input and B,
// C constants (C broadcast to M×N, optional). If B is nil, B is the
// second runtime input.
type Gemm struct {
	TransA, TransB bool
	Alpha, Beta    float32
	B, C           *tensor.Tensor
}

// Type returns "Gemm".
func (*Gemm) Type() string { return "Gemm" }

// Params returns B and C.
func (g *Gemm) Params() []nn.Param {
	var p []nn.Param
	if g.B != nil {
		p = append(p, nn.Param{Name: "B", Tensor: g.B})
	}
	if g.C != nil {
		p = append(p, nn.Param{Name: "C", Tensor: g.C})
	}
	return p
}

func (g *Gemm) dims(in [][]int) (m, k, n int, err error) {
	var a, b []int
	switch {
	case g.B != nil && len(in) == 1:
		a, b = in[0], g.B.Shape
	case g.B == nil && len(in) == 2:
		a, b = in[0], in[1]
	default:
		return 0, 0, 0, shapeErr("Gemm", in, "wrong input count")
	}
	if len(a) != 2 || len(b) != 2 {
		return 0, 0, 0, shapeErr("Gemm", [][]int{a, b}, "want 2-D A and B")
	}
	m, k = a[0], a[1]
	if g.TransA {
		m, k = k, m
	}
	kb, n := b[0], b[1]
	if g.TransB {
		kb, n = n, kb
	}
	if k != kb {
		return 0, 0, 0, shapeErr("Gemm", [][]int{a, b}, "inner dimensions differ")
	}
	if g.C != nil {
		if _, ok := broadcastShape([]int{m, n}, g.C.Shape); !ok || len(g.C.Shape) > 2 {
			return 0, 0, 0, shapeErr("Gemm", [][]int{a, b, g.C.Shape}, "C does not broadcast to M×N")
		}
		if s, _ := broadcastShape([]int{m, n}, g.C.Shape); !tensor.SameShape(s, []int{m, n}) {
			return 0, 0, 0, shapeErr("Gemm", [][]int{a, b, g.C.Shape}, "C does not broadcast to M×N")
		}
	}
	return m, k, n, nil
}

// OutShape returns M×N.
func (g *Gemm) OutShape(in ...[]int) ([]int, error) {
	m, _, n, err := g.dims(in)
	if err != nil {
		return nil, err
	}
	return []int{m, n}, nil
}

// FLOPs returns 2·M·N·K.
func (g *Gemm) FLOPs(in ...[]int) int64 {
	m, k, n, err := g.dims(in)
	if err != nil {
		return 0
	}
	return 2 * int64(m) * int64(n) * int64(k)
}

// Forward computes the product.
func (g *Gemm) Forward(e *nn.Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	m, k, n, err := g.dims(shapesOf(in))
	if err != nil {
		return nil, err
	}
	b := g.B
	if b == nil {
		b = in[1]
	}
	a := in[0]
	out := tensor.New(m, n)
	beta := float32(0)
	if g.C != nil && g.Beta != 0 {
		cs := bstrides(g.C.Shape, []int{m, n})
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				out.Data[i*n+j] = g.C.Data[i*cs[0]+j*cs[1]]
			}
		}
		beta = g.Beta
	}
	gemm.SgemmParallel(threads(e), g.TransA, g.TransB, m, n, k, g.Alpha, a.Data, a.Shape[1], b.Data, b.Shape[1], beta, out.Data, n)
	return out, nil
}

func threads(e *nn.Exec) int {
	if e == nil || e.Threads < 1 {
		return 1
	}
	return e.Threads
}

// MatMul is numpy matmul: batch dimensions broadcast, 1-D operands are
// promoted. B is a constant, or nil for a second runtime input.
type MatMul struct{ B *tensor.Tensor }

// Type returns "MatMul".
func (*MatMul) Type() string { return "MatMul" }

// Params returns B.
func (mm *MatMul) Params() []nn.Param {
	if mm.B == nil {
		return nil
	}
	return []nn.Param{{Name: "B", Tensor: mm.B}}
}

func (mm *MatMul) shapes(in [][]int) (a, b []int, err error) {
	switch {
	case mm.B != nil && len(in) == 1:
		return in[0], mm.B.Shape, nil
	case mm.B == nil && len(in) == 2:
		return in[0], in[1], nil
	}
	return nil, nil, shapeErr("MatMul", in, "wrong input count")
}

// plan returns the output shape and matrix sizes.
func matmulPlan(a, b []int) (out, batch []int, m, k, n int, err error) {
	if len(a) == 0 || len(b) == 0 {
		return nil, nil, 0, 0, 0, fmt.Errorf("scalar operand")
	}
	a2, b2 := a, b
	if len(a) == 1 {
		a2 = []int{1, a[0]}
	}
	if len(b) == 1 {
		b2 = []int{b[0], 1}
	}
	m, k = a2[len(a2)-2], a2[len(a2)-1]
	kb, n := b2[len(b2)-2], b2[len(b2)-1]
	if k != kb {
		return nil, nil, 0, 0, 0, fmt.Errorf("inner dimensions %d and %d differ", k, kb)
	}
	batch, ok := broadcastShape(a2[:len(a2)-2], b2[:len(b2)-2])
	if !ok {
		return nil, nil, 0, 0, 0, fmt.Errorf("batch dimensions do not broadcast")
	}
	out = append([]int(nil), batch...)
	if len(a) > 1 {
		out = append(out, m)
	}
	if len(b) > 1 {
		out = append(out, n)
	}
	return out, batch, m, k, n, nil
}

// OutShape returns the matmul shape.
func (mm *MatMul) OutShape(in ...[]int) ([]int, error) {
	a, b, err := mm.shapes(in)
	if err != nil {
		return nil, err
	}
	out, _, _, _, _, err := matmulPlan(a, b)
	if err != nil {
		return nil, shapeErr("MatMul", [][]int{a, b}, err.Error())
	}
	return out, nil
}

// FLOPs returns 2·batch·M·N·K.
func (mm *MatMul) FLOPs(in ...[]int) int64 {
	a, b, err := mm.shapes(in)
	if err != nil {
		return 0
	}
	_, batch, m, k, n, err := matmulPlan(a, b)
	if err != nil {
		return 0
	}
	return 2 * int64(tensor.Numel(batch)) * int64(m) * int64(n) * int64(k)
}

// Forward computes the product.
func (mm *MatMul) Forward(e *nn.Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	a, b, err := mm.shapes(shapesOf(in))
	if err != nil {
		return nil, err
	}
	out, batch, m, k, n, err := matmulPlan(a, b)
	if err != nil {
		return nil, shapeErr("MatMul", [][]int{a, b}, err.Error())
	}
	bt := mm.B
	if bt == nil {
		bt = in[1]
	}
	at := in[0]
	res := tensor.New(out...)
	abatch := a[:max(len(a)-2, 0)]
	bbatch := b[:max(len(b)-2, 0)]
	sa, sb := bstrides(abatch, batch), bstrides(bbatch, batch)
	nb := tensor.Numel(batch)
	idx := make([]int, len(batch))
	for i := 0; i < nb; i++ {
		oa, ob := 0, 0
		for d := range idx {
			oa += idx[d] * sa[d]
			ob += idx[d] * sb[d]
		}
		gemm.SgemmParallel(threads(e), false, false, m, n, k, 1, at.Data[oa*m*k:], k, bt.Data[ob*k*n:], n, 0, res.Data[i*m*n:], n)
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < batch[d] {
				break
			}
			idx[d] = 0
		}
	}
	return res, nil
}

// ---- Pad ----

// Pad pads with a constant: Pads is [x1_begin, x2_begin, …, x1_end, …]
// (ONNX order). Negative pads crop.
type Pad struct {
	Pads  []int
	Value float32
}

// Type returns "Pad".
func (*Pad) Type() string { return "Pad" }

// OutShape adds the padding.
func (p *Pad) OutShape(in ...[]int) ([]int, error) {
	if len(in) != 1 || len(p.Pads) != 2*len(in[0]) {
		return nil, shapeErr("Pad", in, fmt.Sprintf("pads %v", p.Pads))
	}
	r := len(in[0])
	out := make([]int, r)
	for i := range out {
		out[i] = in[0][i] + p.Pads[i] + p.Pads[i+r]
		if out[i] < 0 {
			return nil, shapeErr("Pad", in, fmt.Sprintf("pads %v", p.Pads))
		}
	}
	return out, nil
}

// Forward pads.
func (p *Pad) Forward(e *nn.Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	os, err := p.OutShape(shapesOf(in)...)
	if err != nil {
		return nil, err
	}
	x := in[0]
	r := len(os)
	out := tensor.New(os...)
	if p.Value != 0 {
		for i := range out.Data {
			out.Data[i] = p.Value
		}
	}
	if x.Numel() == 0 {
		return out, nil
	}
	ostr := make([]int, r)
	acc := 1
	for i := r - 1; i >= 0; i-- {
		ostr[i] = acc
		acc *= os[i]
	}
	idx := make([]int, r)
	for i := range x.Data {
		o, ok := 0, true
		for d := 0; d < r; d++ {
			c := idx[d] + p.Pads[d]
			if c < 0 || c >= os[d] {
				ok = false
				break
			}
			o += c * ostr[d]
		}
		if ok {
			out.Data[o] = x.Data[i]
		}
		for d := r - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < x.Shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out, nil
}

// ---- Gather (constant indices) ----

// Gather takes Indices (constant, shape IndexShape) along Axis.
type Gather struct {
	Axis       int
	Indices    []int64
	IndexShape []int
}

// Type returns "Gather".
func (*Gather) Type() string { return "Gather" }

// OutShape is data[:axis] + indices + data[axis+1:].
func (g *Gather) OutShape(in ...[]int) ([]int, error) {
	if len(in) != 1 {
		return nil, shapeErr("Gather", in, "want 1 runtime input")
	}
	s := in[0]
	ax := g.Axis
	if ax < 0 {
		ax += len(s)
	}
	if ax < 0 || ax >= len(s) {
		return nil, shapeErr("Gather", in, fmt.Sprintf("axis %d", g.Axis))
	}
	for _, i := range g.Indices {
		if i < -int64(s[ax]) || i >= int64(s[ax]) {
			return nil, shapeErr("Gather", in, fmt.Sprintf("index %d out of range", i))
		}
	}
	out := append([]int(nil), s[:ax]...)
	out = append(out, g.IndexShape...)
	return append(out, s[ax+1:]...), nil
}

// Forward gathers.
func (g *Gather) Forward(e *nn.Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	os, err := g.OutShape(shapesOf(in)...)
	if err != nil {
		return nil, err
	}
	x := in[0]
	ax := g.Axis
	if ax < 0 {
		ax += len(x.Shape)
	}
	outer, n, inner := tensor.Numel(x.Shape[:ax]), x.Shape[ax], tensor.Numel(x.Shape[ax+1:])
	out := tensor.New(os...)
	off := 0
	for o := 0; o < outer; o++ {
		for _, i := range g.Indices {
			if i < 0 {
				i += int64(n)
			}
			copy(out.Data[off:off+inner], x.Data[(o*n+int(i))*inner:])
			off += inner
		}
	}
	return out, nil
}

// Const returns a constant; its one input (the graph input) is ignored.
type Const struct{ Value *tensor.Tensor }

// Type returns "Constant".
func (*Const) Type() string { return "Constant" }

// OutShape returns the constant's shape.
func (c *Const) OutShape(in ...[]int) ([]int, error) {
	return append([]int(nil), c.Value.Shape...), nil
}

// Forward returns the constant.
func (c *Const) Forward(e *nn.Exec, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	return c.Value, nil
}
