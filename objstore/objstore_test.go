package objstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/preconv/preconv/objstore"
	"github.com/preconv/preconv/objstore/objstoretest"
	"github.com/preconv/preconv/objstore/s3test"
)

func TestDir(t *testing.T) {
	objstoretest.Run(t, objstore.NewDir(t.TempDir()))
}

func TestS3(t *testing.T) {
	objstoretest.Run(t, s3test.NewBucket(t))
}

func TestOpen(t *testing.T) {
	for ref, want := range map[string]string{
		"s3://bkt/some/prefix/": "s3://bkt/some/prefix",
		"s3://bkt":              "s3://bkt",
		"/tmp/x":                "/tmp/x",
		"file:///tmp/y":         "/tmp/y",
		"rel/dir/":              "rel/dir",
	} {
		b, err := objstore.Open(ref)
		if err != nil {
			t.Errorf("Open(%q): %v", ref, err)
			continue
		}
		if b.String() != want {
			t.Errorf("Open(%q).String() = %q, want %q", ref, b.String(), want)
		}
	}
	for _, ref := range []string{"", "http://host/x", "s3:///nobucket", "s3://bkt/../up", "file://host/x"} {
		if _, err := objstore.Open(ref); !errors.Is(err, objstore.ErrBadRef) {
			t.Errorf("Open(%q): %v, want ErrBadRef", ref, err)
		}
	}
}

func TestNewS3Endpoint(t *testing.T) {
	for _, ep := range []string{"ftp://host", "http://", "http://host/path", "::"} {
		if _, err := objstore.NewS3(objstore.S3Config{Endpoint: ep, Bucket: "b"}); !errors.Is(err, objstore.ErrBadRef) {
			t.Errorf("endpoint %q: %v, want ErrBadRef", ep, err)
		}
	}
}

func TestSub(t *testing.T) {
	root := objstore.NewDir(t.TempDir())
	b, err := objstore.Sub(root, "/a/b/")
	if err != nil {
		t.Fatal(err)
	}
	objstoretest.Run(t, b)
	if l, err := root.List(t.Context(), ""); err != nil || len(l) == 0 || l[0].Key[:4] != "a/b/" {
		t.Fatalf("Sub wrote outside its prefix: %v, %v", l, err)
	}
	if _, err := objstore.Sub(root, "a/../x"); !errors.Is(err, objstore.ErrBadKey) {
		t.Fatalf("Sub with a dot segment: %v", err)
	}
}

func TestS3Auth(t *testing.T) {
	srv := s3test.StartServer(t)
	cfg := srv.Config("p")
	cfg.SecretKey += "-wrong"
	b, err := objstore.NewS3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Stat(t.Context(), "k")
	if !errors.Is(err, objstore.ErrAuth) {
		t.Fatalf("Stat with a wrong secret: %v, want ErrAuth", err)
	}
	if err := b.Put(t.Context(), "k", strings.NewReader("x"), 1); !errors.Is(err, objstore.ErrAuth) {
		t.Fatalf("Put with a wrong secret: %v, want ErrAuth", err)
	}
	cfg = srv.Config("p")
	cfg.Bucket = "nosuchbucket"
	b, _ = objstore.NewS3(cfg)
	if _, err := b.Get(t.Context(), "k"); !errors.Is(err, objstore.ErrNotExist) || !strings.Contains(err.Error(), "nosuchbucket") {
		t.Fatalf("Get from a missing bucket: %v, want ErrNotExist naming it", err)
	}
}

// TestDirPutWhileDeletePrunes: Delete prunes empty parent directories; a
// Put into the same directory chain at the same time must still succeed
// (it retries when a parent vanishes while it creates the chain).
func TestDirPutWhileDeletePrunes(t *testing.T) {
	b := objstore.NewDir(t.TempDir())
	ctx := context.Background()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			b.Put(ctx, "a/b/c/d/churn", strings.NewReader("x"), 1)
			b.Delete(ctx, "a/b/c/d/churn")
		}
	}()
	for i := 0; i < 500; i++ {
		key := fmt.Sprintf("a/b/c/d/k%d", i%2)
		if err := b.Put(ctx, key, strings.NewReader("y"), 1); err != nil {
			close(stop)
			<-done
			t.Fatalf("put %d: %v", i, err)
		}
		if err := b.Delete(ctx, key); err != nil {
			close(stop)
			<-done
			t.Fatalf("delete %d: %v", i, err)
		}
	}
	close(stop)
	<-done
}
