package cli

import (
	"context"
	"fmt"

	"github.com/preconv/preconv/remote"
)

func init() {
	push := &Command{Name: "push", Short: "upload a feature store to S3 or a preconv server",
		Usage: `Usage: preconv push STORE DEST [--json]

Uploads the committed feature store STORE (a local directory) to DEST:
s3://BUCKET/PREFIX (an S3-compatible object store, configured by
AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION) or
http(s)://HOST/stores/NAME (preconv serve; token in $PRECONV_TOKEN). Only
files DEST lacks are sent; readers of DEST see the old store or the new one,
never a mixture. An interrupted push is resumed by running it again.`}
	push.Run = func(ctx context.Context, env *Env, args []string) error {
		return runTransfer(ctx, env, push, args, true)
	}
	register(push)
	pull := &Command{Name: "pull", Short: "download a feature store from S3 or a preconv server",
		Usage: `Usage: preconv pull SRC DIR [--json]

Makes DIR a verified copy of the feature store committed at SRC
(s3://BUCKET/PREFIX or http(s)://HOST/stores/NAME; see 'preconv push -h').
Files DIR already has and chunks in the chunk cache ($PRECONV_CACHE/chunks)
are not downloaded again; every byte is checked against its sha256. DIR is
committed last, so an interrupted pull leaves no half store behind.`}
	pull.Run = func(ctx context.Context, env *Env, args []string) error {
		return runTransfer(ctx, env, pull, args, false)
	}
	register(pull)
}

func runTransfer(ctx context.Context, env *Env, c *Command, args []string, isPush bool) error {
	fs := newFlags(env, c)
	asJSON := fs.Bool("json", false, "print the transfer statistics as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError("%s needs two arguments (see 'preconv %s -h')", c.Name, c.Name)
	}
	dir, ref := pos[0], pos[1]
	if !isPush {
		dir, ref = pos[1], pos[0]
	}
	if !remote.IsRemote(ref) {
		return usageError("%q is not a remote store (want s3://BUCKET/PREFIX or http(s)://HOST/stores/NAME; schemes: %v)", ref, remote.Schemes())
	}
	loc, err := remote.Open(ref, remoteConfig())
	if err != nil {
		return err
	}
	var st remote.Stats
	if isPush {
		st, err = loc.Push(ctx, dir)
	} else {
		st, err = loc.Pull(ctx, dir)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(env.Stdout, st)
	}
	verb, other := "pushed "+dir+" to "+loc.String(), "already there"
	if !isPush {
		verb, other = "pulled "+loc.String()+" into "+dir, "already present or cached"
	}
	fmt.Fprintf(env.Stdout, "%s: %d files, %d transferred (%s), %d %s", verb, st.Files, st.Transferred, humanBytes(st.Bytes), st.Skipped, other)
	if st.Version != "" {
		fmt.Fprintf(env.Stdout, "; version %.12s", st.Version)
	}
	fmt.Fprintln(env.Stdout)
	return nil
}
