package backbone

import (
	"context"
	"fmt"

	"github.com/preconv/preconv/model/zoo"
)

// openZoo loads a torchvision architecture by name from the official
// checkpoint, fetched (once) and SHA-256-verified into the cache.
func openZoo(ctx context.Context, arch string, opts Options) (*Backbone, error) {
	f := &zoo.Fetcher{CacheDir: opts.CacheDir}
	res, err := f.Fetch(ctx, arch)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w (download it elsewhere and pass the .pth path with --arch %s)", ErrModel, arch, err, arch)
	}
	b, err := openStateDict(res.Path, arch)
	if err != nil {
		return nil, err
	}
	b.Name = arch
	return b, nil
}
