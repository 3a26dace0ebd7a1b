package server_test

import (
	"context"
	"fmt"
	"os"
	"time"

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
