// Package openblas is an optional gemm.Backend that calls cblas_sgemm from a
// system OpenBLAS, loaded at run time with purego (no cgo: it builds and runs
// with CGO_ENABLED=0). Nothing else in preconv needs it, and a binary that
// imports it still works on machines without the library: Open returns
// ErrNotFound.
//
// It serves two purposes: a user may select it (PRECONV_BLAS=openblas, see
// FromEnv), and the GEMM benchmarks measure it beside the native kernels in
// the same run. For a fair comparison on CPUs that Debian's OpenBLAS
// misdetects, run with OPENBLAS_CORETYPE=SkylakeX (read by OpenBLAS itself
// when the library loads).
package openblas

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"unsafe"

	"github.com/preconv/preconv/gemm"
)

// ErrNotFound is returned by Open when no OpenBLAS shared library could be
// loaded, when it lacks the cblas_sgemm symbol, or on platforms where purego
// cannot load libraries (only linux and darwin on amd64/arm64 can).
var ErrNotFound = errors.New("openblas: library not found")

// ErrUnknownBackend is returned by FromEnv for an unknown PRECONV_BLAS value.
var ErrUnknownBackend = errors.New("unknown BLAS backend")

// DefaultPaths are tried in order by Open(""): Debian's pthread build first.
var DefaultPaths = []string{
	"/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
	"/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
	"/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
	"libopenblas.so.0",
	"libopenblas.so",
	"libopenblas.dylib",
}

// CBLAS enum values (cblas.h).
const (
	cblasRowMajor = 101
	cblasNoTrans  = 111
	cblasTrans    = 112
)

// Lib is a loaded OpenBLAS. It implements gemm.Backend. Its methods may be
// called from several goroutines, but OpenBLAS's thread count is a property
// of the library, not of a call: SgemmParallel sets it before calling, so
// concurrent calls with different thread counts race on that setting (the
// results stay correct).
type Lib struct {
	path       string
	mu         sync.Mutex // guards threads
	threads    int
	sgemm      func(order, transA, transB, m, n, k int32, alpha float32, a *float32, lda int32, b *float32, ldb int32, beta float32, c *float32, ldc int32)
	setThreads func(n int32)
	config     func() *byte
}

var _ gemm.Backend = (*Lib)(nil)

// Name returns "openblas" and the library's build configuration when it
// reports one (e.g. "openblas (OpenBLAS 0.3.21 DYNAMIC_ARCH ... SkylakeX MAX_THREADS=64)").
func (l *Lib) Name() string {
	if l.config == nil {
		return "openblas"
	}
	p := l.config()
	if p == nil {
		return "openblas"
	}
	var b []byte
	for i := 0; i < 256; i++ {
		c := *(*byte)(unsafe.Add(unsafe.Pointer(p), i))
		if c == 0 {
			break
		}
		b = append(b, c)
	}
	return "openblas (" + string(b) + ")"
}

// Path is the file the library was loaded from.
func (l *Lib) Path() string { return l.path }

// SetThreads sets OpenBLAS's own thread count (openblas_set_num_threads).
func (l *Lib) SetThreads(n int) {
	n = max(n, 1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.threads != n {
		l.setThreads(int32(n))
		l.threads = n
	}
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C with OpenBLAS on one thread.
// Arguments are checked as gemm.Sgemm checks them.
func (l *Lib) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	l.SgemmParallel(1, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmParallel is Sgemm with OpenBLAS set to threads threads.
func (l *Lib) SgemmParallel(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm.CheckArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	for _, v := range []int{m, n, k, lda, ldb, ldc} {
		if v > 1<<31-1 {
			panic("openblas: size exceeds 32-bit BLAS integer")
		}
	}
	l.SetThreads(threads)
	ta, tb := int32(cblasNoTrans), int32(cblasNoTrans)
	if transA {
		ta = cblasTrans
	}
	if transB {
		tb = cblasTrans
	}
	var dummy float32
	ap, bp := &dummy, &dummy
	if len(a) > 0 {
		ap = &a[0]
	}
	if len(b) > 0 {
		bp = &b[0]
	}
	l.sgemm(cblasRowMajor, ta, tb, int32(m), int32(n), int32(k), alpha, ap, int32(lda), bp, int32(ldb), beta, &c[0], int32(ldc))
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
}

// FromEnv returns the backend named by the PRECONV_BLAS environment
// variable: "" or "native" gives gemm.Native{}, "openblas" loads OpenBLAS
// (path from PRECONV_OPENBLAS, else DefaultPaths). Loading errors wrap
// ErrNotFound; other names give ErrUnknownBackend.
func FromEnv() (gemm.Backend, error) {
	return Select(os.Getenv("PRECONV_BLAS"), os.Getenv("PRECONV_OPENBLAS"))
}

// Select is FromEnv with explicit values.
func Select(name, path string) (gemm.Backend, error) {
	switch name {
	case "", "native":
		return gemm.Native{}, nil
	case "openblas":
		l, err := Open(path)
		if err != nil {
			return nil, err
		}
		return l, nil
	}
	return nil, fmt.Errorf("PRECONV_BLAS=%q: %w (want native or openblas)", name, ErrUnknownBackend)
}
