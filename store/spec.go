package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Spec is the extraction spec: everything that makes two feature vectors of
// the same image comparable. Features are reused only when the item's content
// key and the Spec digest both match.
type Spec struct {
	// Model is a human name ("vgg16"); it is shown but not part of the digest.
	Model string `json:"model"`
	// WeightsDigest is the sha256 hex of the weights file(s).
	WeightsDigest string `json:"weights_digest"`
	// Arch names the architecture ("vgg16", "mobilenet_v2").
	Arch string `json:"arch"`
	// Tap is the layer whose output is stored ("features", "block_13_expand_relu").
	Tap string `json:"tap"`
	// Pool is "", "avg" or "max" (global pooling applied after the tap).
	Pool string `json:"pool"`
	// Preprocess is the canonical JSON of the image preprocessing spec
	// (package imageset). It is opaque here but diffed field by field.
	Preprocess json.RawMessage `json:"preprocess,omitempty"`
	// DType is the stored dtype: "f32" or "f16".
	DType string `json:"dtype"`
	// FeatureShape is the per-item feature shape, e.g. [512 7 7] or [1280].
	FeatureShape []int `json:"feature_shape"`
	// Augment describes augmentation views (placeholder for a later issue);
	// opaque JSON, part of the digest.
	Augment json.RawMessage `json:"augment,omitempty"`
}

// Validate checks the fields that the store depends on.
func (s Spec) Validate() error {
	if s.DType != "f32" && s.DType != "f16" {
		return fmt.Errorf("spec dtype %q, want f32 or f16: %w", s.DType, ErrBadInput)
	}
	switch s.Pool {
	case "", "avg", "max":
	default:
		return fmt.Errorf("spec pool %q, want \"\", avg or max: %w", s.Pool, ErrBadInput)
	}
	if len(s.FeatureShape) == 0 || len(s.FeatureShape) > maxDims-1 {
		return fmt.Errorf("spec feature shape %v: need 1..%d dimensions: %w", s.FeatureShape, maxDims-1, ErrBadInput)
	}
	n := 1
	for _, d := range s.FeatureShape {
		if d <= 0 || n > maxChunkBytes/d {
			return fmt.Errorf("spec feature shape %v: %w", s.FeatureShape, ErrBadInput)
		}
		n *= d
	}
	for _, raw := range []json.RawMessage{s.Preprocess, s.Augment} {
		if len(raw) > 0 && !json.Valid(raw) {
			return fmt.Errorf("spec preprocess/augment is not valid JSON: %w", ErrBadInput)
		}
	}
	return nil
}

// canonicalJSON re-encodes raw with sorted object keys and no insignificant
// whitespace; numbers keep their literal text. Empty input gives "null".
func canonicalJSON(raw json.RawMessage) json.RawMessage {
	v, ok := decodeJSON(raw)
	if !ok {
		return raw
	}
	b, _ := json.Marshal(v)
	return b
}

func decodeJSON(raw json.RawMessage) (any, bool) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, true
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

// identity is the digest-relevant part of a Spec.
type identity struct {
	WeightsDigest string          `json:"weights_digest"`
	Arch          string          `json:"arch"`
	Tap           string          `json:"tap"`
	Pool          string          `json:"pool"`
	Preprocess    json.RawMessage `json:"preprocess"`
	DType         string          `json:"dtype"`
	FeatureShape  []int           `json:"feature_shape"`
	Augment       json.RawMessage `json:"augment"`
}

// Digest is the sha256 hex of the canonical JSON of every field except
// Model (a display name). Equal digests mean comparable features.
func (s Spec) Digest() string {
	id := identity{s.WeightsDigest, s.Arch, s.Tap, s.Pool, canonicalJSON(s.Preprocess),
		s.DType, s.FeatureShape, canonicalJSON(s.Augment)}
	b, _ := json.Marshal(id)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Diff explains, one human-readable reason per changed field, how s differs
// from old: "weights digest changed (ab12… → cd34…)", "tap features.23 →
// features", "preprocess.crop 224→256", "dtype f32 → f16". It is empty when
// nothing differs. A reason containing "(name only)" does not change Digest.
func (s Spec) Diff(old Spec) []string {
	var r []string
	if s.WeightsDigest != old.WeightsDigest {
		r = append(r, fmt.Sprintf("weights digest changed (%s → %s)", short(old.WeightsDigest), short(s.WeightsDigest)))
	}
	str := func(name, o, n string) {
		if o != n {
			r = append(r, fmt.Sprintf("%s %s → %s", name, orNone(o), orNone(n)))
		}
	}
	str("arch", old.Arch, s.Arch)
	str("tap", old.Tap, s.Tap)
	str("pool", old.Pool, s.Pool)
	r = append(r, diffJSON("preprocess", old.Preprocess, s.Preprocess)...)
	str("dtype", old.DType, s.DType)
	if fmt.Sprint(old.FeatureShape) != fmt.Sprint(s.FeatureShape) {
		r = append(r, fmt.Sprintf("feature shape %v → %v", old.FeatureShape, s.FeatureShape))
	}
	r = append(r, diffJSON("augment", old.Augment, s.Augment)...)
	if old.Model != s.Model {
		r = append(r, fmt.Sprintf("model %s → %s (name only)", orNone(old.Model), orNone(s.Model)))
	}
	return r
}

func short(h string) string {
	if len(h) > 8 {
		return h[:8] + "…"
	}
	return orNone(h)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// diffJSON compares two JSON documents leaf by leaf (dotted paths).
func diffJSON(prefix string, oldRaw, newRaw json.RawMessage) []string {
	ov, ok1 := decodeJSON(oldRaw)
	nv, ok2 := decodeJSON(newRaw)
	if !ok1 || !ok2 {
		if !bytes.Equal(oldRaw, newRaw) {
			return []string{prefix + " changed"}
		}
		return nil
	}
	om, nm := map[string]string{}, map[string]string{}
	flatten(prefix, ov, om)
	flatten(prefix, nv, nm)
	keys := map[string]bool{}
	for k := range om {
		keys[k] = true
	}
	for k := range nm {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	var r []string
	for _, k := range sorted {
		o, inO := om[k]
		n, inN := nm[k]
		switch {
		case inO && inN && o != n:
			r = append(r, fmt.Sprintf("%s %s→%s", k, o, n))
		case inO && !inN:
			r = append(r, fmt.Sprintf("%s removed (was %s)", k, o))
		case !inO && inN:
			r = append(r, fmt.Sprintf("%s added (%s)", k, n))
		}
	}
	return r
}

func flatten(path string, v any, out map[string]string) {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 {
			out[path] = "{}"
		}
		for k, x := range t {
			flatten(path+"."+k, x, out)
		}
	case nil:
		// absent and null are the same
	default:
		b, _ := json.Marshal(t)
		out[path] = strings.TrimSpace(string(b))
	}
}

// ItemRef is one input item of an extraction, in dataset order.
type ItemRef struct {
	// Key is the sha256 hex (64 lowercase hex digits) of the image file bytes.
	Key string `json:"key"`
	// Path is the image path relative to the dataset root.
	Path string `json:"path"`
	// Label indexes the classes; -1 means unlabelled.
	Label int `json:"label"`
	// Split names the split ("train", "valid", "test", or "").
	Split string `json:"split"`
	// View is the augmentation view of the row (0: un-augmented) and Image
	// the content key of its image when the row is a view (""
	// otherwise: the row is the image, Key). See package extract's views.
	View  int    `json:"view,omitempty"`
	Image string `json:"image,omitempty"`
}

func validKey(k string) bool {
	if len(k) != 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
