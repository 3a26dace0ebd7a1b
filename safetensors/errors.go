package safetensors

import "errors"

var (
	// ErrHeader is returned when the 8-byte length prefix or the JSON header
	// is missing, too long, or not valid JSON of the expected form.
	ErrHeader = errors.New("safetensors: bad header")
	// ErrDType is returned for an unknown dtype, or when a tensor is asked for
	// as float but holds integers (or vice versa).
	ErrDType = errors.New("safetensors: unsupported dtype")
	// ErrOffsets is returned when a tensor's data_offsets are out of range,
	// overlap another tensor, or do not match dtype × shape.
	ErrOffsets = errors.New("safetensors: bad data offsets")
	// ErrNotFound is returned by File.Tensor and File.Ints for a missing name.
	ErrNotFound = errors.New("safetensors: no such tensor")
)
