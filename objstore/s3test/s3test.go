// Package s3test starts a real S3-compatible server (versitygw, Apache-2.0)
// on a loopback port for tests.
//
// The binary is looked up on PATH, then in $(go env GOPATH)/bin (install it
// with: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0). When it
// is missing the test is skipped, except when $CI is set: then it fails,
// because CI must exercise S3. Setting PRECONV_S3_TEST_ENDPOINT (with
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and optionally
// PRECONV_S3_TEST_BUCKET, default "preconv-test", which must exist) uses an
// already running server instead.
package s3test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/preconv/preconv/objstore"
)

// Server is a running S3 endpoint with one bucket.
type Server struct {
	Endpoint, Access, Secret, Bucket string
}

// Start starts versitygw on a free loopback port, serving a fresh directory
// under tb.TempDir() with one empty bucket, and stops it when the test ends.
func Start(tb testing.TB) (endpoint, access, secret, bucket string) {
	s := StartServer(tb)
	return s.Endpoint, s.Access, s.Secret, s.Bucket
}

// StartServer is Start returning a Server.
func StartServer(tb testing.TB) *Server {
	tb.Helper()
	if ep := os.Getenv("PRECONV_S3_TEST_ENDPOINT"); ep != "" {
		b := os.Getenv("PRECONV_S3_TEST_BUCKET")
		if b == "" {
			b = "preconv-test"
		}
		return &Server{Endpoint: ep, Access: os.Getenv("AWS_ACCESS_KEY_ID"), Secret: os.Getenv("AWS_SECRET_ACCESS_KEY"), Bucket: b}
	}
	bin := findBinary()
	if bin == "" {
		msg := "versitygw not found on PATH or in $(go env GOPATH)/bin; install it with: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"
		if os.Getenv("CI") != "" {
			tb.Fatal(msg + " (CI is set: S3 tests must run)")
		}
		tb.Skip(msg)
	}
	root := tb.TempDir()
	s := &Server{Access: "preconvtest", Secret: "preconvtestsecret" + randHex(4), Bucket: "bucket"}
	if err := os.Mkdir(filepath.Join(root, s.Bucket), 0o755); err != nil {
		tb.Fatal(err)
	}
	var lastErr string
	for try := 0; try < 3; try++ {
		addr := freeAddr(tb)
		var logs bytes.Buffer
		cmd := exec.Command(bin, "--port", addr, "--access", s.Access, "--secret", s.Secret, "posix", root)
		cmd.Stdout, cmd.Stderr = &logs, &logs
		cmd.Env = append(os.Environ(), "VGW_PORT=", "VGW_WEBUI_PORT=")
		if err := cmd.Start(); err != nil {
			tb.Fatalf("s3test: start %s: %v", bin, err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		if waitListening(addr, done) {
			tb.Cleanup(func() {
				cmd.Process.Kill()
				<-done
			})
			s.Endpoint = "http://" + addr
			return s
		}
		cmd.Process.Kill()
		<-done
		lastErr = logs.String()
	}
	tb.Fatalf("s3test: versitygw did not start listening: %s", lastErr)
	return nil
}

// NewBucket starts a server (StartServer) and returns a Bucket over a fresh
// random prefix in its bucket.
func NewBucket(tb testing.TB) objstore.Bucket {
	tb.Helper()
	return StartServer(tb).Open(tb, "t-"+randHex(6))
}

// Open returns a Bucket over prefix in the server's bucket.
func (s *Server) Open(tb testing.TB, prefix string) objstore.Bucket {
	tb.Helper()
	b, err := objstore.NewS3(s.Config(prefix))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Config is the S3Config for prefix in the server's bucket.
func (s *Server) Config(prefix string) objstore.S3Config {
	return objstore.S3Config{Endpoint: s.Endpoint, AccessKey: s.Access, SecretKey: s.Secret, Bucket: s.Bucket, Prefix: prefix}
}

// Setenv points the AWS environment variables at the server for the test
// (for code that configures itself with objstore.S3ConfigFromEnv).
func (s *Server) Setenv(t interface{ Setenv(k, v string) }) {
	t.Setenv("AWS_ENDPOINT_URL", s.Endpoint)
	t.Setenv("PRECONV_S3_ENDPOINT", "")
	t.Setenv("AWS_ACCESS_KEY_ID", s.Access)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.Secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
}

func findBinary() string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	var dirs []string
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, d := range filepath.SplitList(strings.TrimSpace(string(out))) {
			dirs = append(dirs, filepath.Join(d, "bin"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

func freeAddr(tb testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitListening(addr string, exited <-chan struct{}) bool {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
