package server_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/preconv/preconv/objstore"
	"github.com/preconv/preconv/server"
)

// Serve the stores under a directory on loopback until the context ends.
func Example() {
	root, _ := os.MkdirTemp("", "stores")
	defer os.RemoveAll(root)
	s, err := server.New(server.Config{Root: root, Tokens: map[string]server.Scope{"team-a-secret": server.ScopeRead}})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := s.Open("127.0.0.1:0"); err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	fmt.Println(s.Serve(ctx))
	// Output: <nil>
}

// Keep the stores in object storage: Root "s3://bucket/prefix" reads its
// S3 settings from the environment; Config.Bucket takes any
// objstore.Bucket (here a local directory standing in for a bucket).
func Example_bucketRoot() {
	dir, _ := os.MkdirTemp("", "bucket")
	defer os.RemoveAll(dir)
	s, err := server.New(server.Config{Bucket: objstore.NewDir(dir), Root: "stand-in bucket",
		Tokens: map[string]server.Scope{"team-a-secret": server.ScopeRead | server.ScopeWrite}})
	if err != nil {
		fmt.Println(err)
		return
	}
	stores, err := s.Stores()
	fmt.Println(len(stores), err)
	// Output: 0 <nil>
}
