package tfjs

import "errors"

// Sentinel errors. Returned errors wrap one of these with %w and name the
// file, layer or weight concerned; test with errors.Is.
var (
	// ErrFormat means model.json, a weight shard or an npm JS module is
	// malformed (bad JSON, missing fields, bad base64, unparsable literal).
	ErrFormat = errors.New("tfjs: malformed model")
	// ErrUnsupported means the model uses a layer type, dtype or option the
	// importer does not implement. The message lists every offending layer.
	ErrUnsupported = errors.New("tfjs: unsupported")
	// ErrShards means the weight shards disagree with the manifest: a shard
	// is missing or its size differs from what the manifest's weights need.
	ErrShards = errors.New("tfjs: weight shards do not match the manifest")
	// ErrWeights means a layer's weights are missing or have the wrong shape.
	ErrWeights = errors.New("tfjs: weight mismatch")
	// ErrGraph means the layer graph is inconsistent: unknown inbound layer,
	// cycle, or shapes that do not fit.
	ErrGraph = errors.New("tfjs: bad layer graph")
	// ErrLimit means the model exceeds a size limit (Options.MaxBytes).
	ErrLimit = errors.New("tfjs: size limit exceeded")
)
