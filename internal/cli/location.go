package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/preconv/preconv/internal/npmfetch"
	"github.com/preconv/preconv/remote"

	_ "github.com/preconv/preconv/server/client" // registers http:// and https:// (preconv serve)
	_ "github.com/preconv/preconv/storesync"     // registers s3://
)

// remoteConfig is the remote.Config of every command: chunks are cached in
// $PRECONV_CACHE/chunks (default ~/.cache/preconv/chunks).
func remoteConfig() remote.Config {
	return remote.Config{CacheDir: filepath.Join(npmfetch.CacheDir(), "chunks")}
}

// workingCopy is the local directory that mirrors the remote store ref:
// $PRECONV_CACHE/stores/<sha256(ref)[:16]>.
func workingCopy(ref string) string {
	h := sha256.Sum256([]byte(remote.Redact(ref)))
	return filepath.Join(npmfetch.CacheDir(), "stores", hex.EncodeToString(h[:])[:16])
}

// openStoreRef resolves a store argument. A local path is returned as is
// (finish does nothing). A remote URL (s3://bucket/prefix, http(s)://host/
// stores/NAME) is pulled into a local working copy under the cache, which is
// returned; with write, a location without a committed store is fine (the
// command creates it) and finish(true) pushes the working copy back.
// finish(false) leaves the remote untouched.
func openStoreRef(ctx context.Context, env *Env, ref string, write bool) (dir string, finish func(commit bool) error, err error) {
	if ref == "" || !remote.IsRemote(ref) {
		return ref, func(bool) error { return nil }, nil
	}
	loc, err := remote.Open(ref, remoteConfig())
	if err != nil {
		return "", nil, err
	}
	dir = workingCopy(ref)
	st, err := loc.Pull(ctx, dir)
	switch {
	case err == nil:
		if st.Transferred > 0 {
			fmt.Fprintf(env.Stderr, "pulled %s: %d of %d files fetched (%s) into %s\n", loc, st.Transferred, st.Files, humanBytes(st.Bytes), dir)
		}
	case write && errors.Is(err, remote.ErrNotFound):
		// A new store: the command writes it, finish pushes it.
	default:
		return "", nil, fmt.Errorf("%s: %w", loc, err)
	}
	finish = func(commit bool) error {
		if !write || !commit {
			return nil
		}
		st, err := loc.Push(ctx, dir)
		if err != nil {
			return fmt.Errorf("push %s to %s: %w (the local copy %s is kept; rerun to resume)", dir, loc, err, dir)
		}
		fmt.Fprintf(env.Stderr, "pushed to %s: %d of %d files sent (%s)\n", loc, st.Transferred, st.Files, humanBytes(st.Bytes))
		return nil
	}
	return dir, finish, nil
}
