package train

import "errors"

var (
	// ErrConfig is returned for an invalid Config (unknown optimizer or
	// schedule, non-positive batch size, ...).
	ErrConfig = errors.New("train: invalid config")
	// ErrData is returned for bad training data: an empty dataset, a label
	// outside the class list, NaN/Inf features, mismatched class lists or
	// feature shapes between splits.
	ErrData = errors.New("train: bad data")
	// ErrCheckpoint is returned when a checkpoint cannot be resumed: missing
	// or corrupt files, or optimizer state that does not fit the head.
	ErrCheckpoint = errors.New("train: bad checkpoint")
	// ErrProvenance is returned when resuming from a checkpoint whose store
	// provenance differs from the one passed in the Config.
	ErrProvenance = errors.New("train: checkpoint is from a different store")
)
