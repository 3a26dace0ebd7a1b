// Package tensor holds dense float32 tensors in row-major order (NCHW for
// images and feature maps) and the few helpers every other package needs.
//
// A Tensor owns its Data slice unless it was made with FromData, in which
// case it aliases the caller's slice. Nothing in this package is safe for
// concurrent mutation; concurrent reads are fine.
package tensor

import (
	"fmt"
	"math"
)

// Tensor is a dense row-major float32 array of the given shape.
type Tensor struct {
	Shape []int
	Data  []float32
}

// Numel returns the product of the dimensions of shape (1 for a scalar).
// It panics if any dimension is negative.
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("tensor: negative dimension in shape %v", shape))
		}
		n *= d
	}
	return n
}

// CheckedNumel is Numel for shapes that come from files or the network: it
// returns an error instead of panicking on negative dimensions or when the
// element count exceeds limit (limit <= 0 means math.MaxInt32 elements).
func CheckedNumel(shape []int, limit int64) (int, error) {
	if limit <= 0 {
		limit = math.MaxInt32
	}
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("tensor: negative dimension in shape %v", shape)
		}
		if d != 0 && n > limit/int64(d) {
			return 0, fmt.Errorf("tensor: shape %v has more than %d elements", shape, limit)
		}
		n *= int64(d)
	}
	if n > limit {
		return 0, fmt.Errorf("tensor: shape %v has more than %d elements", shape, limit)
	}
	return int(n), nil
}

// New returns a zero tensor of the given shape.
func New(shape ...int) *Tensor {
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, Numel(shape))}
}

// FromData wraps data (not copied) as a tensor of the given shape. It panics
// if len(data) does not match the shape.
func FromData(data []float32, shape ...int) *Tensor {
	if len(data) != Numel(shape) {
		panic(fmt.Sprintf("tensor: %d values for shape %v", len(data), shape))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}
}

// Numel returns the number of elements.
func (t *Tensor) Numel() int { return len(t.Data) }

// Dims returns the number of dimensions.
func (t *Tensor) Dims() int { return len(t.Shape) }

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// Reshape returns a tensor sharing t's data with a new shape. One dimension
// may be -1 and is inferred. It panics if the element count differs.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	shape = append([]int(nil), shape...)
	infer, n := -1, 1
	for i, d := range shape {
		if d == -1 && infer < 0 {
			infer = i
			continue
		}
		if d < 0 {
			panic(fmt.Sprintf("tensor: cannot reshape %v to %v: at most one -1 and no other negative size", t.Shape, shape))
		}
		n *= d
	}
	if infer >= 0 && n > 0 {
		shape[infer] = len(t.Data) / n
		n *= shape[infer]
	}
	if n != len(t.Data) {
		panic(fmt.Sprintf("tensor: cannot reshape %v to %v", t.Shape, shape))
	}
	return &Tensor{Shape: shape, Data: t.Data}
}

// Item returns the i-th slice along the first dimension, sharing data.
func (t *Tensor) Item(i int) *Tensor {
	per := Numel(t.Shape[1:])
	return &Tensor{Shape: append([]int(nil), t.Shape[1:]...), Data: t.Data[i*per : (i+1)*per]}
}

// SameShape reports whether a and b have identical shapes.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// String describes the tensor briefly (shape only).
func (t *Tensor) String() string { return fmt.Sprintf("Tensor%v", t.Shape) }
