package storesync

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/preconv/preconv/objstore"
	"github.com/preconv/preconv/remote"
)

// ShardsPrefix is where the shard stores of a sharded extraction live under
// a store (package extract: STORE/.preconv/shards/<i>-of-<N>/). Push and
// Pull of the store itself never touch it; PushShard and PullShards move
// shards, so that the workers of a sharded extraction can each push their
// shard to one s3:// store location and the merge can pull them all.
const ShardsPrefix = ".preconv/shards"

// PushShard uploads the committed shard store shardDir (…/.preconv/shards/
// <name>, with its shard.json) to prefix/.preconv/shards/<name>.
func PushShard(ctx context.Context, shardDir string, b objstore.Bucket, prefix string, o Options) (remote.Stats, error) {
	name := filepath.Base(filepath.Clean(shardDir))
	if objstore.ValidKey(name) != nil || strings.Contains(name, "/") {
		return remote.Stats{}, fmt.Errorf("%s: not a shard directory: %w", shardDir, objstore.ErrBadKey)
	}
	return PushWith(ctx, shardDir, b, path.Join(prefix, ShardsPrefix, name), o)
}

// RemoteShards lists the shards ("0-of-4", …) committed under prefix.
func RemoteShards(ctx context.Context, b objstore.Bucket, prefix string) ([]string, error) {
	rb, err := objstore.Sub(b, prefix)
	if err != nil {
		return nil, err
	}
	l, err := rb.List(ctx, ShardsPrefix+"/")
	if err != nil {
		return nil, wrapErr(err)
	}
	var names []string
	for _, in := range l {
		rest := strings.TrimPrefix(in.Key, ShardsPrefix+"/")
		if name, file, ok := strings.Cut(rest, "/"); ok && file == zattrsKey {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names, nil
}

// PullShards pulls every shard committed under prefix into
// dir/.preconv/shards/<name>. A location without shards is not an error
// (Stats.Files is 0).
func PullShards(ctx context.Context, b objstore.Bucket, prefix, dir string, o Options) (remote.Stats, error) {
	names, err := RemoteShards(ctx, b, prefix)
	if err != nil {
		return remote.Stats{}, err
	}
	var total remote.Stats
	for _, name := range names {
		st, err := PullWith(ctx, b, path.Join(prefix, ShardsPrefix, name), filepath.Join(dir, filepath.FromSlash(ShardsPrefix), name), o)
		if errors.Is(err, remote.ErrNotFound) {
			continue // being rewritten by its worker right now
		}
		if err != nil {
			return total, fmt.Errorf("shard %s: %w", name, err)
		}
		total.Files += st.Files
		total.Transferred += st.Transferred
		total.Bytes += st.Bytes
		total.Skipped += st.Skipped
	}
	return total, nil
}

// DeleteShards removes the named shards ("0-of-4", …) under prefix: each
// shard's .zattrs first, so that an interrupted deletion leaves no shard
// that RemoteShards lists, then its other objects. It returns how many
// objects it deleted; shards already gone are not an error.
func DeleteShards(ctx context.Context, b objstore.Bucket, prefix string, names []string) (int, error) {
	rb, err := objstore.Sub(b, prefix)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		if objstore.ValidKey(name) != nil || strings.Contains(name, "/") {
			return n, fmt.Errorf("shard %q: %w", name, objstore.ErrBadKey)
		}
		dir := path.Join(ShardsPrefix, name)
		l, err := rb.List(ctx, dir+"/")
		if err != nil {
			return n, wrapErr(err)
		}
		sort.Slice(l, func(i, j int) bool {
			zi, zj := path.Base(l[i].Key) == zattrsKey, path.Base(l[j].Key) == zattrsKey
			if zi != zj {
				return zi
			}
			return l[i].Key < l[j].Key
		})
		for _, in := range l {
			if err := rb.Delete(ctx, in.Key); err != nil {
				return n, fmt.Errorf("shard %s: delete %s: %w", name, in.Key, wrapErr(err))
			}
			n++
		}
	}
	return n, nil
}
