// Package torch reads PyTorch state dicts saved with torch.save — the
// zip+pickle format (PyTorch ≥ 1.6, what torchvision's checkpoints use) and
// the legacy format (_use_new_zipfile_serialization=False) — into float32
// tensors by name.
//
// # Security
//
// A .pth file is a Python pickle, which can call any Python function on
// load. This package never executes anything: the pickle is first scanned
// (every opcode, every length checked against the bytes present, every
// GLOBAL checked against a whitelist) and then evaluated by gopickle with a
// class resolver that only knows collections.OrderedDict, the torch tensor
// rebuild functions (torch._utils._rebuild_tensor_v2, _rebuild_tensor,
// _rebuild_parameter) and the torch.*Storage types. Any other global (for
// example os.system, builtins.eval, subprocess.Popen) is refused with an
// error wrapping ErrForbidden that names it.
//
// # Limits
//
// No allocation is sized by a header number without a bound: pickles are
// limited to WithMaxPickleBytes, tensors to WithMaxTensorElements and all
// storages together to WithMaxTotalBytes. Storage offsets, sizes and strides
// are validated against the storage they index.
//
// # Types
//
// float32, float16, bfloat16, float64 and integer/bool storages are
// converted to float32 (integers such as num_batches_tracked exactly when
// they fit). Contiguous and strided views are supported; the result is
// always a dense row-major copy.
package torch
