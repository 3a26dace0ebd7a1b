package imageset

import "errors"

var (
	// ErrEmpty means an image file has zero bytes.
	ErrEmpty = errors.New("empty file")
	// ErrNotFile means a path that should be an image is a directory or
	// another non-regular file.
	ErrNotFile = errors.New("not a regular file")
	// ErrFormat means the bytes are not an image in a supported format
	// (JPEG, PNG, GIF, BMP, WebP) or the header is malformed.
	ErrFormat = errors.New("unsupported or unrecognized image format")
	// ErrCorrupt means the header was valid but decoding the pixels failed
	// (truncated or damaged data).
	ErrCorrupt = errors.New("corrupt image data")
	// ErrTooLarge means the header announces more pixels than the configured
	// limit (a decompression bomb, or an image too large to process), or the
	// file exceeds the byte limit. It is detected before any pixel is decoded.
	ErrTooLarge = errors.New("image too large")
	// ErrManifest means a CSV/JSONL manifest line is malformed.
	ErrManifest = errors.New("bad manifest")
	// ErrNoClasses means a dataset root has no class directories or no
	// images.
	ErrNoClasses = errors.New("no classes found")
	// ErrPreprocess means a Preprocess value is invalid or an unknown preset
	// name was asked for.
	ErrPreprocess = errors.New("bad preprocessing spec")
	// ErrIDX means an idx (MNIST-style) file is malformed.
	ErrIDX = errors.New("bad idx file")
)

// ItemError is the failure of one item; the loader reports it and keeps
// going. Error() is "path: reason".
type ItemError struct {
	Path string
	Err  error
}

func (e *ItemError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *ItemError) Unwrap() error { return e.Err }
