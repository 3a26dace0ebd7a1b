package cli

import (
	"context"
	"fmt"

	"github.com/preconv/preconv/backbone"
	"github.com/preconv/preconv/extract"
	"github.com/preconv/preconv/remote"
	"github.com/preconv/preconv/server/client"
)

// sharing is the --json output of extract when --from or --push is given:
// the extraction result plus what was reused and pushed.
type sharing struct {
	*extract.Result
	FromURL  string              `json:"from_url,omitempty"`
	From     *client.ReuseResult `json:"from,omitempty"`
	PushedTo string              `json:"pushed_to,omitempty"`
	Pushed   *remote.Stats       `json:"pushed,omitempty"`
}

// reuseFrom implements extract --from: when the shared store at ref has
// this extraction's spec, it is pulled into the local cache and named in
// cfg.Sources (store.WithSources copies the features of the images it
// holds). A different spec or a missing store prints why and leaves cfg
// alone (a normal full extraction).
func reuseFrom(ctx context.Context, env *Env, ref string, cfg *extract.Config, b *backbone.Backbone, quiet bool) (*sharing, error) {
	digest := ""
	if cfg.Augment == "" && cfg.Views <= 1 { // views have their own spec; the store filters by digest anyway
		pre, err := extract.Preprocessing(*cfg, b)
		if err != nil {
			return nil, err
		}
		spec, err := extract.Spec(b, pre, cfg.DType)
		if err != nil {
			return nil, err
		}
		digest = spec.Digest()
	}
	res, err := client.Reuse(ctx, ref, remote.Config{}, "", digest)
	if err != nil {
		return nil, fmt.Errorf("--from %s: %w", remote.Redact(ref), err)
	}
	sh := &sharing{FromURL: remote.Redact(ref), From: res}
	if !res.Matched {
		fmt.Fprintf(env.Stderr, "preconv extract: --from: %s\n", res.Reason)
		return sh, nil
	}
	if !quiet {
		fmt.Fprintf(env.Stderr, "preconv extract: pulled %s (%d of %d files fetched, %s) into %s\n",
			sh.FromURL, res.Stats.Transferred, res.Stats.Files, humanBytes(res.Stats.Bytes), res.Dir)
	}
	cfg.Sources = append(cfg.Sources, res.Dir)
	return sh, nil
}

// pushStore implements extract --push.
func pushStore(ctx context.Context, env *Env, dir, ref string, quiet bool) (string, *remote.Stats, error) {
	loc, err := remote.Open(ref, remote.Config{})
	if err != nil {
		return "", nil, fmt.Errorf("--push: %w", err)
	}
	st, err := loc.Push(ctx, dir)
	if err != nil {
		return "", nil, fmt.Errorf("--push: %w (the store %s is complete; rerun 'preconv extract' with the same flags to retry the push)", err, dir)
	}
	if !quiet {
		fmt.Fprintf(env.Stderr, "preconv extract: pushed %s to %s: %d of %d files sent (%s), version %s\n",
			dir, loc, st.Transferred, st.Files, humanBytes(st.Bytes), st.Version)
	}
	return loc.String(), &st, nil
}
