package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/preconv/preconv/server"
)

func init() {
	c := &Command{Name: "serve", Short: "serve feature stores over HTTP (Zarr files, JSON API, web page)",
		Usage: `Usage: preconv serve --root DIR [--addr :8080] [--tokens FILE] [--anonymous-read]
                     [--tls-cert FILE --tls-key FILE] [--json]

Serves every committed store under DIR, read-only:
  GET /                         web page listing the stores
  GET /api/stores[/NAME]        provenance, counts, size (JSON)
  GET /api/search?weights_digest=&spec_digest=&tap=   matching stores
  GET /stores/NAME/...          the Zarr files (zarr.open_group over fsspec)

Requests need "Authorization: Bearer TOKEN" with the read scope; tokens come
from a JSON file {"tokens":[{"token":"…","scopes":["read"],"name":"team-a"}]}.
--anonymous-read lets requests without a token read. Stops on Ctrl-C.`}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, c)
		root := fs.String("root", "", "directory holding the stores (required)")
		addr := fs.String("addr", ":8080", "listen address")
		tokens := fs.String("tokens", "", "token file (JSON)")
		anon := fs.Bool("anonymous-read", false, "allow reading without a token")
		cert := fs.String("tls-cert", "", "TLS certificate (PEM); with --tls-key serves HTTPS")
		key := fs.String("tls-key", "", "TLS private key (PEM)")
		maxBody := fs.Int64("max-body", 1<<20, "largest request body in bytes")
		asJSON := fs.Bool("json", false, "print the listening URL as JSON")
		pos, err := parseFlags(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 0 || *root == "" {
			return usageError("serve needs --root DIR and no positional arguments (try 'preconv serve -h')")
		}
		cfg := server.Config{Root: *root, AnonymousRead: *anon, MaxBodyBytes: *maxBody, TLSCert: *cert, TLSKey: *key}
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
