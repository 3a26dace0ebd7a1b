package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/extract"
	"github.com/preconv/preconv/imageset"
	"github.com/preconv/preconv/objstore"
	"github.com/preconv/preconv/remote"
	"github.com/preconv/preconv/storesync"
)

// With an s3:// Job.Out, workers need no shared filesystem: each shard runs
// in a worker-local working copy and is pushed to
// PREFIX/.preconv/shards/<i>-of-<N>/ when done (pulled first, so a retried
// or repeated shard finds its work); the merge step pulls the store and the
// shards, merges locally and pushes the store (package storesync; the same
// steps as 'preconv extract --shard i/N --out s3://…' and 'preconv store
// merge s3://…'). Credentials come from the workers' environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, AWS_REGION).

func isS3(ref string) bool { return strings.HasPrefix(strings.ToLower(ref), "s3://") }

// workDir is this worker's working copy of the remote store ref:
// $PRECONV_CACHE/stores/beam-<sha256(ref)[:16]> (else the temp directory).
func workDir(ref string) string {
	h := sha256.Sum256([]byte(remote.Redact(ref)))
	base := os.Getenv("PRECONV_CACHE")
	if base == "" {
		base = filepath.Join(os.TempDir(), "preconv-beam")
	}
	return filepath.Join(base, "stores", "beam-"+hex.EncodeToString(h[:])[:16])
}

func syncOptions() storesync.Options {
	return storesync.Options{CacheDir: storesync.DefaultCacheDir()}
}

// runShard runs shard cfg.Shard, through a working copy when cfg.Out is
// s3://.
func runShard(ctx context.Context, cfg extract.Config, b *backbone.Backbone, ds *imageset.Dataset) (*extract.Result, error) {
	if !isS3(cfg.Out) {
		return extract.Run(ctx, cfg, b, ds)
	}
	ref := cfg.Out
	bucket, err := objstore.Open(ref)
	if err != nil {
		return nil, err
	}
	cfg.Out = workDir(ref)
	shardDir := extract.ShardDir(cfg.Out, cfg.Shard)
	name := filepath.Base(shardDir)
	o := syncOptions()
	if _, err := storesync.PullWith(ctx, bucket, storesync.ShardsPrefix+"/"+name, shardDir, o); err != nil && !errors.Is(err, remote.ErrNotFound) {
		return nil, fmt.Errorf("pull shard %s of %s: %w", name, remote.Redact(ref), err)
	}
	res, err := extract.Run(ctx, cfg, b, ds)
	if err != nil {
		return res, err
	}
	if _, err := storesync.PushShard(ctx, shardDir, bucket, "", o); err != nil {
		return res, fmt.Errorf("push shard %s to %s: %w", name, remote.Redact(ref), err)
	}
	return res, nil
}

// merge runs extract.Merge on out, through a working copy when out is s3://.
func merge(ctx context.Context, out string, opts extract.MergeOptions) (*extract.MergeResult, error) {
	if !isS3(out) {
		return extract.Merge(ctx, out, opts)
	}
	bucket, err := objstore.Open(out)
	if err != nil {
		return nil, err
	}
	dir := workDir(out)
	o := syncOptions()
	if _, err := storesync.PullWith(ctx, bucket, "", dir, o); err != nil && !errors.Is(err, remote.ErrNotFound) {
		return nil, fmt.Errorf("pull %s: %w", remote.Redact(out), err)
	}
	if _, err := storesync.PullShards(ctx, bucket, "", dir, o); err != nil {
		return nil, fmt.Errorf("pull the shards of %s: %w", remote.Redact(out), err)
	}
	res, err := extract.Merge(ctx, dir, opts)
	if err != nil {
		return nil, err
	}
	if _, err := storesync.PushWith(ctx, dir, bucket, "", o); err != nil {
		return res, fmt.Errorf("push %s: %w", remote.Redact(out), err)
	}
	res.Store = remote.Redact(out)
	return res, nil
}
