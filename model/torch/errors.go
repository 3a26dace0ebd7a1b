package torch

import "errors"

// ErrFormat is returned (wrapped with the file and what is wrong) for
// truncated, corrupt or unsupported files.
var ErrFormat = errors.New("torch: bad .pth file")

// ErrForbidden is returned (wrapped, naming the global) when the pickle
// refers to anything beyond tensor reconstruction.
var ErrForbidden = errors.New("torch: forbidden pickle global")

// ErrLimit is returned (wrapped) when the file exceeds a configured limit
// on pickle size, tensor elements or total storage bytes.
var ErrLimit = errors.New("torch: limit exceeded")
