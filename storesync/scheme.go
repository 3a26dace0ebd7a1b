package storesync

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/preconv/preconv/objstore"
	"github.com/preconv/preconv/remote"
)

func init() {
	remote.Register("s3", openS3)
}

// Location is a remote.Location over a bucket prefix.
type Location struct {
	Bucket objstore.Bucket // keys relative to the store
	Name   string          // as the user wrote it, without credentials
	Opts   Options
}

var _ remote.Location = (*Location)(nil)

// openS3 makes the Location of "s3://bucket/prefix", configured from the
// environment (objstore.S3ConfigFromEnv).
func openS3(u *url.URL, cfg remote.Config) (remote.Location, error) {
	if u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("%s: credentials and options come from the environment (AWS_*), not the URL: %w", remote.Redact(u.String()), remote.ErrUnsupported)
	}
	sc := objstore.S3ConfigFromEnv()
	sc.Bucket = u.Host
	sc.Prefix = strings.Trim(u.Path, "/")
	b, err := objstore.NewS3(sc)
	if err != nil {
		return nil, fmt.Errorf("%w (%w)", err, remote.ErrUnsupported)
	}
	return &Location{Bucket: b, Name: b.String(), Opts: Options{CacheDir: cfg.CacheDir, Progress: cfg.Progress}}, nil
}

// Pull makes dir a copy of the location's committed store.
func (l *Location) Pull(ctx context.Context, dir string) (remote.Stats, error) {
	return PullWith(ctx, l.Bucket, "", dir, l.Opts)
}

// Push uploads the committed store at dir.
func (l *Location) Push(ctx context.Context, dir string) (remote.Stats, error) {
	return PushWith(ctx, dir, l.Bucket, "", l.Opts)
}

// String is the location.
func (l *Location) String() string { return l.Name }
