package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/preconv/preconv/extract"
	"github.com/preconv/preconv/internal/npmfetch"
	"github.com/preconv/preconv/objstore"
	"github.com/preconv/preconv/remote"
	"github.com/preconv/preconv/storesync" // registers s3://

	_ "github.com/preconv/preconv/server/client" // registers http:// and https:// (preconv serve)
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
	if write && unfinished(dir) {
		// An extraction into the working copy was interrupted: resume it
		// rather than pulling over its chunks; finish pushes the result.
		fmt.Fprintf(env.Stderr, "resuming the unfinished extraction in %s (for %s)\n", dir, loc)
		return dir, pushBack(ctx, env, loc, dir), nil
	}
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
	if !write {
		return dir, func(bool) error { return nil }, nil
	}
	return dir, pushBack(ctx, env, loc, dir), nil
}

// pushBack is the finish function of a written working copy.
func pushBack(ctx context.Context, env *Env, loc remote.Location, dir string) func(commit bool) error {
	return func(commit bool) error {
		if !commit {
			return nil
		}
		st, err := loc.Push(ctx, dir)
		if err != nil {
			return fmt.Errorf("push %s to %s: %w (the local copy %s is kept; rerun to resume)", dir, loc, err, dir)
		}
		fmt.Fprintf(env.Stderr, "pushed to %s: %d of %d files sent (%s)\n", loc, st.Transferred, st.Files, humanBytes(st.Bytes))
		return nil
	}
}

// unfinished reports whether dir holds an uncommitted store (chunks written,
// no .zattrs): an interrupted extraction.
func unfinished(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, ".zattrs")); err == nil {
		return false
	}
	ents, err := os.ReadDir(filepath.Join(dir, ".preconv", "chunks"))
	return err == nil && len(ents) > 0
}

// s3Ref opens an s3:// ref as a bucket for the shard helpers (a preconv
// server location has no shard API).
func s3Ref(ref string) (objstore.Bucket, error) {
	if !strings.HasPrefix(strings.ToLower(ref), "s3://") {
		return nil, usageError("%s: sharded extraction against a remote store needs an s3:// location", remote.Redact(ref))
	}
	return objstore.Open(ref)
}

// openShardRef is openStoreRef for 'extract --shard': with an s3:// ref,
// the shard's store (ref/.preconv/shards/<i>-of-<N>) is pulled into the
// working copy (so a rerun on any machine resumes or finds it done), and
// finish(true) pushes just that shard. It returns the store root.
func openShardRef(ctx context.Context, env *Env, ref string, sh extract.Shard) (dir string, finish func(commit bool) error, err error) {
	if ref == "" || !remote.IsRemote(ref) {
		return ref, func(bool) error { return nil }, nil
	}
	b, err := s3Ref(ref)
	if err != nil {
		return "", nil, err
	}
	dir = workingCopy(ref)
	shardDir := extract.ShardDir(dir, sh)
	name := filepath.Base(shardDir)
	o := storesync.Options{CacheDir: remoteConfig().CacheDir}
	if _, err := storesync.PullWith(ctx, b, storesync.ShardsPrefix+"/"+name, shardDir, o); err != nil && !errors.Is(err, remote.ErrNotFound) {
		return "", nil, err
	}
	finish = func(commit bool) error {
		if !commit {
			return nil
		}
		st, err := storesync.PushShard(ctx, shardDir, b, "", o)
		if err != nil {
			return fmt.Errorf("push shard %s to %s: %w (rerun to resume)", name, b, err)
		}
		fmt.Fprintf(env.Stderr, "pushed shard %s to %s: %d of %d files sent (%s)\n", name, b, st.Transferred, st.Files, humanBytes(st.Bytes))
		return nil
	}
	return dir, finish, nil
}

// openMergeRef is openStoreRef for 'store merge': with an s3:// ref, the
// store (if any) and every shard pushed there are pulled into the working
// copy, and finish(true) pushes the merged store.
func openMergeRef(ctx context.Context, env *Env, ref string) (dir string, finish func(commit bool) error, clean func(names []string) error, err error) {
	if ref == "" || !remote.IsRemote(ref) {
		return ref, func(bool) error { return nil }, func([]string) error { return nil }, nil
	}
	b, err := s3Ref(ref)
	if err != nil {
		return "", nil, nil, err
	}
	dir, finish, err = openStoreRef(ctx, env, ref, true)
	if err != nil {
		return "", nil, nil, err
	}
	st, err := storesync.PullShards(ctx, b, "", dir, storesync.Options{CacheDir: remoteConfig().CacheDir})
	if err != nil {
		return "", nil, nil, err
	}
	fmt.Fprintf(env.Stderr, "pulled the shards of %s: %d files, %d fetched (%s)\n", b, st.Files, st.Transferred, humanBytes(st.Bytes))
	clean = func(names []string) error {
		n, err := storesync.DeleteShards(ctx, b, "", names)
		if err != nil {
			return fmt.Errorf("%s: removing merged shards: %w", b, err)
		}
		fmt.Fprintf(env.Stderr, "removed %d merged shards from %s (%d objects)\n", len(names), b, n)
		return nil
	}
	return dir, finish, clean, nil
}
