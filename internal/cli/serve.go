package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/preconv/preconv/server"
)

func init() {
	c := &Command{Name: "serve", Short: "serve feature stores over HTTP (Zarr files, JSON API, web page)",
		Usage: `Usage: preconv serve --root DIR|s3://BUCKET/PREFIX [--addr :8080] [--tokens FILE] [--anonymous-read]
                     [--tls-cert FILE --tls-key FILE] [--max-upload BYTES]
                     [--keep-versions K] [--json]

Serves every committed store under DIR (plain store directories, and stores
pushed with 'preconv push STORE http://HOST/stores/NAME'):
  GET /                         web page listing the stores
  GET /api/v1/stores[/NAME]     provenance, counts, size, who pushed, when (JSON)
  GET /api/v1/search?weights_digest=&spec_digest=&tap=   matching stores
  GET /stores/NAME/...          the Zarr files (zarr.open_group over fsspec);
                                NAME@VERSION pins a pushed version
  POST /api/v1/blobs/missing, PUT /api/v1/blobs/SHA256,
  POST /api/v1/stores/NAME/commit   the push protocol (write scope)

Pushed files are kept once by sha256 under DIR/.preconv-server (identical
chunks of different stores and versions share storage); each push switches
NAME to the new version atomically, and the last --keep-versions versions
stay readable as NAME@VERSION.

--root s3://BUCKET/PREFIX keeps everything in object storage instead: the
stores under the prefix that 'preconv push STORE s3://BUCKET/PREFIX/NAME' or
'extract --out s3://…' wrote are served as NAME, and HTTP pushes are stored
under PREFIX/.preconv-server (blobs by sha256, version manifests, a current
pointer written last). S3 settings come from the environment:
AWS_ENDPOINT_URL (or PRECONV_S3_ENDPOINT), AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_REGION.

Requests need "Authorization: Bearer TOKEN" with the read scope (pushes: the
write scope); tokens come from a JSON file
{"tokens":[{"token":"…","scopes":["read","write"],"name":"team-a"}]}.
--anonymous-read lets requests without a token read. Stops on Ctrl-C.`}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, c)
		root := fs.String("root", "", "directory or s3://bucket/prefix holding the stores (required)")
		addr := fs.String("addr", ":8080", "listen address")
		tokens := fs.String("tokens", "", "token file (JSON)")
		anon := fs.Bool("anonymous-read", false, "allow reading without a token")
		cert := fs.String("tls-cert", "", "TLS certificate (PEM); with --tls-key serves HTTPS")
		key := fs.String("tls-key", "", "TLS private key (PEM)")
		maxBody := fs.Int64("max-body", 1<<20, "largest request body in bytes (read routes)")
		maxUpload := fs.Int64("max-upload", 256<<20, "largest pushed file (blob) in bytes")
		keep := fs.Int("keep-versions", 5, "versions kept per pushed store")
		asJSON := fs.Bool("json", false, "print the listening URL as JSON")
		pos, err := parseFlags(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 0 || *root == "" {
			return usageError("serve needs --root DIR (or s3://BUCKET/PREFIX) and no positional arguments (try 'preconv serve -h')")
		}
		if *maxUpload <= 0 || *keep <= 0 {
			return usageError("--max-upload and --keep-versions must be positive")
		}
		cfg := server.Config{Root: *root, AnonymousRead: *anon, MaxBodyBytes: *maxBody, TLSCert: *cert, TLSKey: *key,
			MaxUploadBytes: *maxUpload, KeepVersions: *keep}
		if *tokens != "" {
			if cfg.Tokens, err = server.LoadTokens(*tokens); err != nil {
				return err
			}
		}
		if len(cfg.Tokens) == 0 && !*anon {
			fmt.Fprintln(env.Stderr, "preconv serve: warning: no tokens and no --anonymous-read; every request will get 401")
		}
		s, err := server.New(cfg)
		if err != nil {
			return err
		}
		if err := s.Open(*addr); err != nil {
			return err
		}
		stores, err := s.Stores()
		if err != nil {
			return err
		}
		if *asJSON {
			if err := json.NewEncoder(env.Stdout).Encode(map[string]any{"url": s.URL(), "root": *root, "stores": len(stores)}); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(env.Stdout, "preconv serve: %d stores under %s at %s/\n", len(stores), *root, s.URL())
		}
		return s.Serve(ctx)
	}
	register(c)
}
