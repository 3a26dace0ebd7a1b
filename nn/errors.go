package nn

import "errors"

// ErrShape is returned (wrapped, with the op and the shapes involved) when
// input shapes do not fit an op or its weights.
var ErrShape = errors.New("nn: shape mismatch")

// ErrConfig is returned (wrapped) when an op's settings are invalid, e.g. a
// zero stride or channels not divisible by groups.
var ErrConfig = errors.New("nn: invalid op configuration")
