package head

import "errors"

var (
	// ErrSpec is returned for an invalid head spec (unknown preset, bad
	// sizes, train layers that do not exist, backbone weights missing or of
	// the wrong shape).
	ErrSpec = errors.New("head: invalid spec")
	// ErrCheckpoint is returned by Load for a missing or inconsistent head
	// checkpoint (metadata, tensor names or shapes that do not match).
	ErrCheckpoint = errors.New("head: bad checkpoint")
)
