package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/preconv/preconv/internal/buildinfo"
)

func init() {
	c := &Command{Name: "version", Short: "print the preconv version",
		Usage: "Usage: preconv version [--json]"}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags(env, c)
		asJSON := fs.Bool("json", false, "print JSON")
		if _, err := parseFlags(fs, args); err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(env.Stdout).Encode(map[string]string{
				"version": buildinfo.Version, "go": runtime.Version(), "arch": runtime.GOARCH})
		}
		fmt.Fprintf(env.Stdout, "preconv %s (%s %s/%s)\n", buildinfo.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return nil
	}
	register(c)
}
