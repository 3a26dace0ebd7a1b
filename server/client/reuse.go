package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/preconv/preconv/remote"
	"github.com/preconv/preconv/store"
)

// ReuseResult says what Reuse did.
type ReuseResult struct {
	// Dir is the local copy of the shared store, when Matched.
	Dir string `json:"dir,omitempty"`
	// Matched: the shared store has the wanted spec and was pulled; pass
	// Dir to extract.Config.Sources.
	Matched bool `json:"matched"`
	// Reason explains a non-match in a sentence for the user.
	Reason string       `json:"reason,omitempty"`
	Stats  remote.Stats `json:"stats"`
}

// WorkDir is the local directory that mirrors the remote store ref:
// $PRECONV_CACHE/stores/<first 16 hex of sha256(ref without credentials)>
// (default cache: the user cache dir's preconv/).
func WorkDir(ref string) string {
	h := sha256.Sum256([]byte(remote.Redact(ref)))
	base := os.Getenv("PRECONV_CACHE")
	if base == "" {
		if d, err := os.UserCacheDir(); err == nil {
			base = filepath.Join(d, "preconv")
		} else {
			base = filepath.Join(os.TempDir(), "preconv-cache")
		}
	}
	return filepath.Join(base, "stores", hex.EncodeToString(h[:])[:16])
}

// Reuse prepares the shared store at ref as a source of features for an
// extraction whose spec digest is specDigest ("" = do not check). For a
// preconv server it first asks the server for the store's spec digest
// (GET /api/v1/stores/NAME) and pulls nothing when it differs; other schemes
// (s3://) are pulled and then checked. The copy goes to dir (WorkDir(ref)
// when ""). A missing store or a different spec is not an error: Matched is
// false and Reason says why, so the caller extracts everything. Refused
// credentials and transfer failures are errors.
func Reuse(ctx context.Context, ref string, cfg remote.Config, dir, specDigest string) (*ReuseResult, error) {
	if dir == "" {
		dir = WorkDir(ref)
	}
	loc, err := remote.Open(ref, cfg)
	if err != nil {
		return nil, err
	}
	res := &ReuseResult{}
	if hl, ok := loc.(*Location); ok && specDigest != "" {
		in, err := hl.Info(ctx)
		if errors.Is(err, remote.ErrNotFound) {
			res.Reason = fmt.Sprintf("no store at %s yet; extracting everything", loc)
			return res, nil
		}
		if err != nil {
			return nil, err
		}
		if in.SpecDigest != specDigest {
			res.Reason = fmt.Sprintf("%s has other features (model %s, tap %s, pool %q, dtype %s, spec %.12s; this extraction: spec %.12s); extracting everything",
				loc, in.Spec.Model, in.Spec.Tap, in.Spec.Pool, in.Spec.DType, in.SpecDigest, specDigest)
			return res, nil
		}
	}
	st, err := loc.Pull(ctx, dir)
	res.Stats = st
	if errors.Is(err, remote.ErrNotFound) {
		res.Reason = fmt.Sprintf("no store at %s yet; extracting everything", loc)
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	if specDigest != "" {
		s, err := store.Open(dir, store.WithWorkers(0), store.WithCacheBytes(0))
		if err != nil {
			return nil, fmt.Errorf("pulled %s into %s: %w", loc, dir, err)
		}
		if d := s.Provenance().SpecDigest; d != specDigest {
			res.Reason = fmt.Sprintf("%s has other features (spec %.12s; this extraction: spec %.12s); extracting everything", loc, d, specDigest)
			return res, nil
		}
	}
	res.Dir, res.Matched = dir, true
	return res, nil
}
