package client

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/preconv/preconv/server"
)

// TestWebPageInChromium pushes a store, opens / in headless Chromium
// (Debian chromium) and checks the DOM after the page's script has
// re-rendered the table from the JSON API: the store's name, model, tap,
// item count, classes, size, who pushed and when, and its version.
// Skips when chromium is missing, except under CI (env CI set).
func TestWebPageInChromium(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium not found under CI (apt-get install chromium): %v", err)
		}
		t.Skipf("skipping: chromium not found (apt-get install chromium): %v", err)
	}
	root, work := t.TempDir(), t.TempDir()
	s, err := server.New(server.Config{Root: root, AnonymousRead: true,
		Tokens: map[string]server.Scope{writeTok: server.ScopeRead | server.ScopeWrite}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	src := filepath.Join(work, "src")
	makeStore(t, src, testSpec("w"), 0, 11, 4)
	loc := open(t, ts.URL+"/stores/team-a-feats", writeTok, t.TempDir())
	loc.cfg.Who = "alice@team-a"
	if _, err := loc.Push(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	in, err := loc.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=5000", "--dump-dom", ts.URL+"/")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("chromium: %v\n%s", err, stderr)
	}
	dom := string(out)
	if !strings.Contains(dom, `data-api="ok"`) {
		t.Fatalf("the page script did not render from the API:\n%s", dom)
	}
	row := regexp.MustCompile(`(?s)<tr class="store">.*?</tr>`).FindString(dom)
	// Expected values: makeStore wrote 11 items with classes cat, dog; the
	// size and times are the server's own StoreInfo, formatted as the page does.
	want := map[string]string{
		"name":      "team-a-feats",
		"model":     "tiny",
		"tap":       "features",
		"items":     "11",
		"classes":   "cat, dog",
		"size":      jsBytes(in.DiskBytes),
		"pushed-by": "alice@team-a",
		"pushed-at": in.PushedAt.UTC().Format("2006-01-02 15:04:05") + "Z",
		"version":   in.Version,
	}
	for cls, v := range want {
		re := regexp.MustCompile(`<td class="` + cls + `">(?:<a [^>]*>)?([^<]*)`)
		m := re.FindStringSubmatch(row)
		if m == nil || m[1] != v {
			t.Errorf("cell %s = %v, want %q", cls, m, v)
		}
	}
	if t.Failed() {
		t.Logf("row: %s", row)
	}
}

// jsBytes mirrors fmtBytes in the page script.
func jsBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	f, i := float64(n), 0
	for f >= 1024 && i < 4 {
		f /= 1024
		i++
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + " " + []string{"", "KiB", "MiB", "GiB", "TiB"}[i]
}
