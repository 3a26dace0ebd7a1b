package torch

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"sort"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
	"github.com/preconv/preconv/tensor"
)

// Load reads the state dict saved by torch.save at path (zip or legacy
// format) and returns its tensors by name, converted to float32.
func Load(path string, opts ...Option) (map[string]*tensor.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	sd, err := LoadReader(f, st.Size(), opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sd, nil
}

// LoadReader is Load for size bytes read from r.
func LoadReader(r io.ReaderAt, size int64, opts ...Option) (map[string]*tensor.Tensor, error) {
	var o options
	o.setDefault()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if size < 4 {
		return nil, fmt.Errorf("file of %d bytes: %w", size, ErrFormat)
	}
	magic := make([]byte, 4)
	if _, err := r.ReadAt(magic, 0); err != nil {
		return nil, fmt.Errorf("reading header: %w: %v", ErrFormat, err)
	}
	l := &loader{o: o, storages: map[string]*storage{}}
	if string(magic) == "PK\x03\x04" {
		return l.loadZip(r, size)
	}
	if magic[0] == 0x80 {
		return l.loadLegacy(r, size)
	}
	return nil, fmt.Errorf("neither a zip nor a legacy pickle .pth (starts with %q): %w", magic, ErrFormat)
}

// dtype of a storage.
type dtype struct {
	name string
	size int
}

var storageTypes = map[string]dtype{
	"FloatStorage": {"float32", 4}, "HalfStorage": {"float16", 2}, "BFloat16Storage": {"bfloat16", 2},
	"DoubleStorage": {"float64", 8}, "LongStorage": {"int64", 8}, "IntStorage": {"int32", 4},
	"ShortStorage": {"int16", 2}, "CharStorage": {"int8", 1}, "ByteStorage": {"uint8", 1}, "BoolStorage": {"bool", 1},
}

// storageClass is what the whitelisted torch.*Storage globals resolve to.
type storageClass struct{ dt dtype }

// storage is one persistent storage: its key, type, element count and
// (once read) its raw little-endian bytes.
type storage struct {
	key   string
	dt    dtype
	numel int64
	data  []byte
}

// tensorRef is the result of _rebuild_tensor_v2: a view into a storage.
type tensorRef struct {
	st     *storage
	offset int64
	size   []int64
	stride []int64
}

type rebuildTensor struct{ l *loader }
type rebuildParameter struct{}

type loader struct {
	o        options
	storages map[string]*storage
	total    int64
	legacy   bool
}

func (l *loader) findClass(module, name string) (interface{}, error) {
	if !allowedGlobals[module+" "+name] {
		return nil, fmt.Errorf("pickle global %s.%s refused (only tensor reconstruction is allowed): %w", module, name, ErrForbidden)
	}
	switch {
	case module == "torch._utils" && (name == "_rebuild_tensor_v2" || name == "_rebuild_tensor"):
		return &rebuildTensor{l}, nil
	case module == "torch._utils" && name == "_rebuild_parameter":
		return &rebuildParameter{}, nil
	case module == "torch":
		return &storageClass{storageTypes[name]}, nil
	case module == "collections":
		return &types.OrderedDictClass{}, nil
	}
	return nil, fmt.Errorf("pickle global %s.%s refused: %w", module, name, ErrForbidden)
}

func toInt64(v interface{}) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case *big.Int:
		if x.IsInt64() {
			return x.Int64(), true
		}
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func toInts(v interface{}) ([]int64, bool) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, false
	}
	if t.Len() > 16 {
		return nil, false
	}
	r := make([]int64, t.Len())
	for i := range r {
		if r[i], ok = toInt64(t.Get(i)); !ok {
			return nil, false
		}
	}
	return r, true
}

// persistentLoad resolves ('storage', class, key, location, numel[, view]).
func (l *loader) persistentLoad(pid interface{}) (interface{}, error) {
	t, ok := pid.(*types.Tuple)
	if !ok || t.Len() < 5 {
		return nil, fmt.Errorf("persistent id %s is not a storage tuple: %w", brief(pid), ErrFormat)
	}
	if s, _ := t.Get(0).(string); s != "storage" {
		return nil, fmt.Errorf("persistent id kind %s, want storage: %w", brief(t.Get(0)), ErrFormat)
	}
	cls, ok := t.Get(1).(*storageClass)
	if !ok {
		return nil, fmt.Errorf("storage type %s is not a torch storage class: %w", brief(t.Get(1)), ErrFormat)
	}
	key, ok := t.Get(2).(string)
	if !ok {
		return nil, fmt.Errorf("storage key %s is not a string: %w", brief(t.Get(2)), ErrFormat)
	}
	numel, ok := toInt64(t.Get(4))
	if !ok || numel < 0 || numel > l.o.maxElements {
		return nil, fmt.Errorf("storage %q: %s elements (limit %d): %w", key, brief(t.Get(4)), l.o.maxElements, ErrLimit)
	}
	if t.Len() > 5 && t.Get(5) != nil {
		return nil, fmt.Errorf("storage %q: legacy storage views are not supported: %w", key, ErrFormat)
	}
	if s, ok := l.storages[key]; ok {
		if s.dt != cls.dt || s.numel != numel {
			return nil, fmt.Errorf("storage %q referenced with different types or sizes: %w", key, ErrFormat)
		}
		return s, nil
	}
	l.total += numel * int64(cls.dt.size)
	if l.total > l.o.maxTotal {
		return nil, fmt.Errorf("storages exceed %d bytes: %w", l.o.maxTotal, ErrLimit)
	}
	s := &storage{key: key, dt: cls.dt, numel: numel}
	l.storages[key] = s
	return s, nil
}

// Call implements _rebuild_tensor_v2(storage, offset, size, stride, ...)
// (and the older _rebuild_tensor with the same first four arguments).
func (r *rebuildTensor) Call(args ...interface{}) (interface{}, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor with %d arguments: %w", len(args), ErrFormat)
	}
	st, ok := args[0].(*storage)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor: first argument %T is not a storage: %w", args[0], ErrFormat)
	}
	off, ok1 := toInt64(args[1])
	size, ok2 := toInts(args[2])
	stride, ok3 := toInts(args[3])
	if !ok1 || !ok2 || !ok3 || len(size) != len(stride) {
		return nil, fmt.Errorf("_rebuild_tensor: bad offset/size/stride %s %s %s: %w", brief(args[1]), brief(args[2]), brief(args[3]), ErrFormat)
	}
	n := int64(1)
	last := off
	for i := range size {
		if size[i] < 0 || stride[i] < 0 {
			return nil, fmt.Errorf("storage %q: negative size or stride %v %v: %w", st.key, size, stride, ErrFormat)
		}
		if size[i] != 0 && n > r.l.o.maxElements/size[i] {
			return nil, fmt.Errorf("storage %q: view of size %v exceeds %d elements: %w", st.key, size, r.l.o.maxElements, ErrLimit)
		}
		n *= size[i]
		if size[i] > 0 {
			if stride[i] > 0 && size[i]-1 > (1<<62)/stride[i] {
				return nil, fmt.Errorf("storage %q: stride %v overflows: %w", st.key, stride, ErrFormat)
			}
			last += (size[i] - 1) * stride[i]
		}
	}
	if off < 0 || (n > 0 && last >= st.numel) {
		return nil, fmt.Errorf("storage %q of %d elements: view offset %d size %v stride %v reaches element %d: %w",
			st.key, st.numel, off, size, stride, last, ErrFormat)
	}
	return &tensorRef{st: st, offset: off, size: size, stride: stride}, nil
}

// Call implements _rebuild_parameter(data, requires_grad, hooks): the
// parameter is its data.
func (rebuildParameter) Call(args ...interface{}) (interface{}, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("_rebuild_parameter without data: %w", ErrFormat)
	}
	if _, ok := args[0].(*tensorRef); !ok {
		return nil, fmt.Errorf("_rebuild_parameter of %T: %w", args[0], ErrFormat)
	}
	return args[0], nil
}

// unpickle scans and evaluates one pickle at the start of p; it returns the
// value and the pickle's length.
func (l *loader) unpickle(p []byte) (res interface{}, n int, err error) {
	n, err = scanPickle(p)
	if err != nil {
		return nil, 0, err
	}
	defer func() {
		if r := recover(); r != nil {
			msg := fmt.Sprint(r)
			if len(msg) > 200 {
				msg = msg[:200] + "…"
			}
			res, err = nil, fmt.Errorf("malformed pickle (%s): %w", msg, ErrFormat)
		}
	}()
	u := pickle.NewUnpickler(bytes.NewReader(p[:n]))
	u.FindClass = l.findClass
	u.PersistentLoad = l.persistentLoad
	u.GetExtension = func(code int) (interface{}, error) {
		return nil, fmt.Errorf("pickle extension %d refused: %w", code, ErrForbidden)
	}
	v, err := u.Load()
	if err != nil {
		return nil, 0, fmt.Errorf("unpickling: %w", wrapFormat(truncErr(err)))
	}
	return v, n, nil
}

// brief describes an unpickled value for an error message without
// formatting its contents: pickles can build cyclic or exponentially
// shared structures whose String methods would never return.
func brief(v interface{}) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case int, int64, bool, float64:
		return fmt.Sprint(x)
	case *big.Int:
		if x.BitLen() <= 128 {
			return x.String()
		}
		return "(big int)"
	case string:
		if len(x) > 64 {
			x = x[:64] + "…"
		}
		return fmt.Sprintf("%q", x)
	case *types.Tuple:
		return fmt.Sprintf("(tuple of %d)", x.Len())
	}
	return fmt.Sprintf("(%T)", v)
}

func wrapFormat(err error) error {
	if isOurs(err) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrFormat, err)
}

// truncErr shortens gopickle's messages, which may embed %#v dumps of
// attacker-built values.
func truncErr(err error) error {
	if m := err.Error(); len(m) > 300 && !isOurs(err) {
		return errors.New(m[:300] + "…")
	}
	return err
}

func isOurs(err error) bool {
	for _, e := range []error{ErrFormat, ErrForbidden, ErrLimit} {
		if errors.Is(err, e) || strings.Contains(err.Error(), e.Error()) {
			return true
		}
	}
	return false
}

func readAll(r io.Reader, limit int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w: %v", what, ErrFormat, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s exceeds %d bytes: %w", what, limit, ErrLimit)
	}
	return b, nil
}

func (l *loader) loadZip(r io.ReaderAt, size int64) (map[string]*tensor.Tensor, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("zip: %w: %v", ErrFormat, err)
	}
	var pkl *zip.File
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
		if strings.HasSuffix(f.Name, "/data.pkl") && strings.Count(f.Name, "/") == 1 {
			if pkl != nil {
				return nil, fmt.Errorf("zip has two data.pkl records: %w", ErrFormat)
			}
			pkl = f
		}
	}
	if pkl == nil {
		return nil, fmt.Errorf("zip has no <archive>/data.pkl: %w", ErrFormat)
	}
	prefix := strings.TrimSuffix(pkl.Name, "data.pkl")
	if bo, ok := files[prefix+"byteorder"]; ok {
		rc, err := bo.Open()
		if err != nil {
			return nil, fmt.Errorf("byteorder: %w: %v", ErrFormat, err)
		}
		b, err := readAll(rc, 16, "byteorder")
		rc.Close()
		if err != nil {
			return nil, err
		}
		if string(b) != "little" {
			return nil, fmt.Errorf("byteorder %q: only little-endian checkpoints are supported: %w", b, ErrFormat)
		}
	}
	if pkl.UncompressedSize64 > uint64(l.o.maxPickle) {
		return nil, fmt.Errorf("data.pkl of %d bytes exceeds %d: %w", pkl.UncompressedSize64, l.o.maxPickle, ErrLimit)
	}
	rc, err := pkl.Open()
	if err != nil {
		return nil, fmt.Errorf("data.pkl: %w: %v", ErrFormat, err)
	}
	p, err := readAll(rc, l.o.maxPickle, "data.pkl")
	rc.Close()
	if err != nil {
		return nil, err
	}
	v, _, err := l.unpickle(p)
	if err != nil {
		return nil, err
	}
	keys := l.storageKeys()
	for _, k := range keys {
		s := l.storages[k]
		f, ok := files[prefix+"data/"+k]
		if !ok {
			return nil, fmt.Errorf("storage %q: no record %sdata/%s: %w", k, prefix, k, ErrFormat)
		}
		want := s.numel * int64(s.dt.size)
		if f.UncompressedSize64 < uint64(want) {
			return nil, fmt.Errorf("storage %q: record has %d bytes, %d elements of %s need %d: %w",
				k, f.UncompressedSize64, s.numel, s.dt.name, want, ErrFormat)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("storage %q: %w: %v", k, ErrFormat, err)
		}
		s.data = make([]byte, want)
		_, err = io.ReadFull(rc, s.data)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("storage %q: reading %d bytes: %w: %v", k, want, ErrFormat, err)
		}
	}
	return l.build(v)
}

func (l *loader) storageKeys() []string {
	keys := make([]string, 0, len(l.storages))
	for k := range l.storages {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// loadLegacy reads torch.save(..., _use_new_zipfile_serialization=False):
// pickles of the magic number, protocol version, system info, the object,
// and the list of storage keys, then per key an int64 element count and the
// raw bytes.
func (l *loader) loadLegacy(r io.ReaderAt, size int64) (map[string]*tensor.Tensor, error) {
	l.legacy = true
	head := min(size, l.o.maxPickle)
	p := make([]byte, head)
	if _, err := r.ReadAt(p, 0); err != nil && err != io.EOF {
		return nil, fmt.Errorf("reading: %w: %v", ErrFormat, err)
	}
	var vals [5]interface{}
	off := 0
	for i := range vals {
		v, n, err := l.unpickle(p[off:])
		if err != nil {
			return nil, fmt.Errorf("legacy pickle %d at byte %d: %w", i, off, err)
		}
		vals[i] = v
		off += n
	}
	if m, ok := vals[0].(*big.Int); !ok || m.Text(16) != "1950a86a20f9469cfc6c" {
		return nil, fmt.Errorf("legacy magic number %s: %w", brief(vals[0]), ErrFormat)
	}
	if v, ok := toInt64(vals[1]); !ok || v != 1001 {
		return nil, fmt.Errorf("legacy protocol version %s, want 1001: %w", brief(vals[1]), ErrFormat)
	}
	list, ok := vals[4].(*types.List)
	if !ok {
		return nil, fmt.Errorf("legacy storage key list is %T: %w", vals[4], ErrFormat)
	}
	pos := int64(off)
	for _, kv := range *list {
		k, ok := kv.(string)
		if !ok {
			return nil, fmt.Errorf("legacy storage key %s is not a string: %w", brief(kv), ErrFormat)
		}
		s, ok := l.storages[k]
		if !ok {
			return nil, fmt.Errorf("legacy storage %q listed but not referenced: %w", k, ErrFormat)
		}
		var nb [8]byte
		if pos+8 > size {
			return nil, fmt.Errorf("storage %q: truncated at byte %d: %w", k, pos, ErrFormat)
		}
		if _, err := r.ReadAt(nb[:], pos); err != nil {
			return nil, fmt.Errorf("storage %q: %w: %v", k, ErrFormat, err)
		}
		if n := int64(binary.LittleEndian.Uint64(nb[:])); n != s.numel {
			return nil, fmt.Errorf("storage %q: %d elements in data, %d in pickle: %w", k, n, s.numel, ErrFormat)
		}
		pos += 8
		want := s.numel * int64(s.dt.size)
		if pos+want > size {
			return nil, fmt.Errorf("storage %q: needs %d bytes at %d, file has %d: %w", k, want, pos, size, ErrFormat)
		}
		s.data = make([]byte, want)
		if _, err := r.ReadAt(s.data, pos); err != nil && !(err == io.EOF && pos+want == size) {
			return nil, fmt.Errorf("storage %q: %w: %v", k, ErrFormat, err)
		}
		pos += want
	}
	return l.build(vals[3])
}

// build converts the unpickled state dict to tensors. The float32 output
// of all entries together is bounded by twice WithMaxTotalBytes (float16
// storages double in size), so many entries viewing one large storage
// cannot amplify memory use.
func (l *loader) build(v interface{}) (map[string]*tensor.Tensor, error) {
	out := map[string]*tensor.Tensor{}
	var outBytes int64
	add := func(k, val interface{}) error {
		name, ok := k.(string)
		if !ok {
			return fmt.Errorf("state dict key %s is not a string: %w", brief(k), ErrFormat)
		}
		ref, ok := val.(*tensorRef)
		if !ok {
			return fmt.Errorf("state dict entry %q is %T, not a tensor: %w", name, val, ErrFormat)
		}
		n := int64(1)
		for _, d := range ref.size {
			n *= d // bounded by maxElements in rebuildTensor.Call
		}
		if outBytes += 4 * n; outBytes > 2*l.o.maxTotal {
			return fmt.Errorf("tensor %q: tensors exceed %d bytes as float32: %w", name, 2*l.o.maxTotal, ErrLimit)
		}
		t, err := ref.materialize()
		if err != nil {
			return fmt.Errorf("tensor %q: %w", name, err)
		}
		out[name] = t
		return nil
	}
	switch d := v.(type) {
	case *types.OrderedDict:
		for e := d.List.Front(); e != nil; e = e.Next() {
			k := e.Value.(*types.OrderedDictEntry)
			if err := add(k.Key, k.Value); err != nil {
				return nil, err
			}
		}
	case *types.Dict:
		for _, k := range *d {
			if err := add(k.Key, k.Value); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("top-level object is %T, not a state dict: %w", v, ErrFormat)
	}
	return out, nil
}

// materialize copies the view into a dense float32 tensor.
func (t *tensorRef) materialize() (*tensor.Tensor, error) {
	if t.st.data == nil && t.st.numel > 0 {
		return nil, fmt.Errorf("storage %q has no data: %w", t.st.key, ErrFormat)
	}
	shape := make([]int, len(t.size))
	for i, s := range t.size {
		shape[i] = int(s)
	}
	out := tensor.New(shape...)
	conv := converter(t.st.dt.name)
	if conv == nil {
		return nil, fmt.Errorf("storage %q: unsupported type %s: %w", t.st.key, t.st.dt.name, ErrFormat)
	}
	es := t.st.dt.size
	data := t.st.data
	// Fast path: contiguous row-major view.
	contiguous := true
	exp := int64(1)
	for i := len(t.size) - 1; i >= 0; i-- {
		if t.size[i] != 1 && t.stride[i] != exp {
			contiguous = false
			break
		}
		exp *= t.size[i]
	}
	if contiguous {
		base := int(t.offset) * es
		for i := range out.Data {
			out.Data[i] = conv(data[base+i*es:])
		}
		return out, nil
	}
	idx := make([]int64, len(t.size))
	for i := range out.Data {
		pos := t.offset
		for d := range idx {
			pos += idx[d] * t.stride[d]
		}
		out.Data[i] = conv(data[int(pos)*es:])
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < t.size[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out, nil
}
