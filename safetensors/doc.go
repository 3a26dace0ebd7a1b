// Package safetensors reads and writes the safetensors tensor file format:
//
//	[8 bytes: little-endian uint64 N] [N bytes: JSON header] [data bytes]
//
// The JSON header maps each tensor name to {"dtype", "shape", "data_offsets":
// [begin, end]} (offsets relative to the start of the data bytes) and may
// carry a "__metadata__" object of string → string.
//
// Floating-point tensors (F64, F32, F16, BF16) are read as float32; integer
// tensors (I64, I32, I16, I8, U8, BOOL) as int64. Writing supports F32, F16
// and I64/I32.
//
// Reading is defensive: the header length is bounded (MaxHeaderLen), every
// tensor's byte range must lie inside the file, ranges may not overlap, and
// dtype × shape must equal the byte length. Allocation is therefore bounded
// by the file size. Every error wraps one of the sentinel errors below.
package safetensors
