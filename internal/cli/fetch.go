package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/preconv/preconv/model/zoo"
)

func init() {
	c := &Command{Name: "fetch", Short: "download an official torchvision checkpoint into the cache",
		Usage: `Usage: preconv fetch ARCH... [--json] [--cache DIR] [--base-url URL]

Downloads the official torchvision ImageNet checkpoint of each ARCH
(` + strings.Join(zoo.Archs(), ", ") + `),
verifies the SHA-256 prefix in its file name and caches it under
DIR/torchvision/ (default $PRECONV_CACHE or ~/.cache/preconv). A cached
checkpoint is not downloaded again.`}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, c)
		asJSON := fs.Bool("json", false, "print JSON (one object per line)")
		cache := fs.String("cache", "", "cache directory (default $PRECONV_CACHE or ~/.cache/preconv)")
		base := fs.String("base-url", zoo.DefaultBaseURL, "URL prefix of the checkpoint files")
		pos, err := parseFlags(fs, args)
		if err != nil {
			return err
		}
		if len(pos) == 0 {
			return usageError("fetch needs an architecture, e.g. 'preconv fetch vgg16' (known: %s)", strings.Join(zoo.Archs(), ", "))
		}
		for _, a := range pos {
			if _, err := zoo.FileName(a); err != nil {
				return usageError("%v", err)
			}
		}
		f := &zoo.Fetcher{BaseURL: *base, CacheDir: *cache}
		for _, a := range pos {
			if !*asJSON {
				fmt.Fprintf(env.Stderr, "fetching %s …\n", a)
			}
			res, err := f.Fetch(ctx, a)
			if err != nil {
				return err
			}
			if *asJSON {
				if err := json.NewEncoder(env.Stdout).Encode(res); err != nil {
					return err
				}
				continue
			}
			state := "downloaded and verified"
			if res.Cached {
				state = "already cached"
			}
			fmt.Fprintf(env.Stdout, "%s: %s (%d bytes, %s)\n", a, res.Path, res.Bytes, state)
		}
		return nil
	}
	register(c)
}
