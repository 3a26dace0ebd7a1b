package nn

import (
	"sync"
	"unsafe"

	"github.com/preconv/preconv/tensor"
)

// Arena recycles the activation buffers of forward passes: a graph run
// hands an intermediate tensor's buffer back as soon as no later node needs
// it, and the next op (or the next batch) asking for that many floats gets
// it without a fresh allocation, page faults and zeroing (which otherwise
// cost 15–20 % of a VGG16 pass and run on one thread).
//
// Only buffers the arena handed out are ever taken back (Release ignores
// others: a weight or the caller's input is never recycled), and an op gets
// a recycled buffer only through Exec.Output, whose callers write every
// element. Safe for concurrent use; it keeps at most MaxBytes of free
// buffers (default 1 GiB).
type Arena struct {
	// MaxBytes bounds the free buffers kept (0: 1 GiB).
	MaxBytes int64

	mu    sync.Mutex
	free  map[int][][]float32
	bytes int64
	out   map[uintptr]int // buffers handed out, by key, to their length
}

// NewArena returns an empty arena.
func NewArena() *Arena { return &Arena{} }

// key identifies a buffer's backing array (the address of its last
// element; sub-slices share it).
func key(b []float32) uintptr {
	if cap(b) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(&b[:cap(b)][cap(b)-1]))
}

// get returns a buffer of exactly n floats, recycled when one is free;
// recycled buffers hold old values.
func (a *Arena) get(n int) []float32 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.out == nil {
		a.out, a.free = map[uintptr]int{}, map[int][][]float32{}
	}
	var b []float32
	if l := a.free[n]; len(l) > 0 {
		b = l[len(l)-1]
		a.free[n] = l[:len(l)-1]
		a.bytes -= int64(n) * 4
	} else {
		b = make([]float32, n)
	}
	if n > 0 {
		a.out[key(b)] = n
	}
	return b
}

// Owns reports whether t's buffer was handed out by the arena and not yet
// released or disowned.
func (a *Arena) Owns(t *tensor.Tensor) bool {
	if a == nil || t == nil {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.out[key(t.Data)]
	return ok
}

// Release takes t's buffer back for reuse when the arena handed it out;
// the caller must hold no other reference to it.
func (a *Arena) Release(t *tensor.Tensor) {
	if a == nil || t == nil {
		return
	}
	k := key(t.Data)
	a.mu.Lock()
	defer a.mu.Unlock()
	n, ok := a.out[k]
	if !ok {
		return
	}
	delete(a.out, k)
	max := a.MaxBytes
	if max <= 0 {
		max = 1 << 30
	}
	if a.bytes+int64(n)*4 > max {
		return // let the GC have it
	}
	a.free[n] = append(a.free[n], t.Data[:n:n])
	a.bytes += int64(n) * 4
}

// Disown forgets t's buffer: it now belongs to the caller and is never
// recycled.
func (a *Arena) Disown(t *tensor.Tensor) {
	if a == nil || t == nil {
		return
	}
	a.mu.Lock()
	delete(a.out, key(t.Data))
	a.mu.Unlock()
}

// Output returns a tensor of the given shape for an op's result. With an
// Arena the buffer may be recycled and hold old values: the op must write
// every element. Without one it is a fresh zeroed tensor.
func (e *Exec) Output(shape ...int) *tensor.Tensor {
	if e == nil || e.Arena == nil {
		return tensor.New(shape...)
	}
	return &tensor.Tensor{Shape: append([]int(nil), shape...), Data: e.Arena.get(tensor.Numel(shape))}
}
