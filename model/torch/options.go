package torch

import "fmt"

type options struct {
	maxPickle   int64
	maxElements int64
	maxTotal    int64
}

func (o *options) setDefault() {
	o.maxPickle = 64 << 20
	o.maxElements = 1 << 31
	o.maxTotal = 16 << 30
}

// Option configures Load and LoadReader.
type Option func(*options) error

// WithMaxPickleBytes bounds the size of the pickle stream (default 64 MiB;
// state dicts of the largest torchvision models need well under 1 MiB).
func WithMaxPickleBytes(n int64) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("torch: WithMaxPickleBytes(%d): must be positive", n)
		}
		o.maxPickle = n
		return nil
	}
}

// WithMaxTensorElements bounds the element count of any one tensor or
// storage (default 2³¹).
func WithMaxTensorElements(n int64) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("torch: WithMaxTensorElements(%d): must be positive", n)
		}
		o.maxElements = n
		return nil
	}
}

// WithMaxTotalBytes bounds the bytes of all storages together, as stored
// in the file, and (times two) the float32 bytes of all returned tensors
// (default 16 GiB; VGG19 needs 575 MB).
func WithMaxTotalBytes(n int64) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("torch: WithMaxTotalBytes(%d): must be positive", n)
		}
		o.maxTotal = n
		return nil
	}
}
