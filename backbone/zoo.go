package backbone

import (
	"context"
	"fmt"
)

// openZoo loads a torchvision architecture by name from the official
// checkpoint, fetched and verified into the cache.
func openZoo(ctx context.Context, arch string, opts Options) (*Backbone, error) {
	return nil, fmt.Errorf("%w: %s: fetching official checkpoints is not wired yet; pass the .pth path with --arch %s", ErrModel, arch, arch)
}
