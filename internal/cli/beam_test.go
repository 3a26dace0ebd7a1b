package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBeamExtract: without preconv-beam on PATH the command says how to
// build it; with one, it runs 'preconv-beam extract ARGS…' and passes its
// output and exit code through.
func TestBeamExtract(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("PATH", empty)
	var o, e bytes.Buffer
	err := Run(context.Background(), []string{"beam", "extract", "--shards", "2"}, strings.NewReader(""), &o, &e)
	if err == nil || !strings.Contains(err.Error(), "preconv-beam is not on PATH") || !strings.Contains(err.Error(), "go build") {
		t.Errorf("without preconv-beam: %v", err)
	}

	bin := t.TempDir()
	script := "#!/bin/sh\necho \"args: $*\"\nexit 3\n"
	if err := os.WriteFile(filepath.Join(bin, "preconv-beam"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+"/bin:/usr/bin")
	o.Reset()
	err = Run(context.Background(), []string{"beam", "extract", "--shards", "2", "--out", "s"}, strings.NewReader(""), &o, &e)
	if got := o.String(); got != "args: extract --shards 2 --out s\n" {
		t.Errorf("preconv-beam saw %q", got)
	}
	if ExitCode(err) != 3 {
		t.Errorf("exit code %d (%v), want preconv-beam's 3", ExitCode(err), err)
	}
}
