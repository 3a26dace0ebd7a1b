package storesync_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/preconv/preconv/objstore"
	"github.com/preconv/preconv/storesync"
)

// Push a store to a bucket prefix and pull it elsewhere. The bucket here is
// a local directory; objstore.Open("s3://bucket/prefix") gives an S3 one.
func Example() {
	tmp, _ := os.MkdirTemp("", "storesync-example")
	defer os.RemoveAll(tmp)
	src := filepath.Join(tmp, "store")
	makeStore(nopTB{}, src, items(10, nil))

	bucket := objstore.NewDir(filepath.Join(tmp, "bucket"))
	ctx := context.Background()
	st, err := storesync.Push(ctx, src, bucket, "stores/cats")
	fmt.Println("push:", st.Transferred, "of", st.Files, "files sent", err)
	st, err = storesync.Push(ctx, src, bucket, "stores/cats")
	fmt.Println("again:", st.Transferred, "sent", err)
	st, err = storesync.Pull(ctx, bucket, "stores/cats", filepath.Join(tmp, "copy"), filepath.Join(tmp, "cache"))
	fmt.Println("pull:", st.Transferred, "of", st.Files, "files fetched", err)
	// Output:
	// push: 14 of 14 files sent <nil>
	// again: 0 sent <nil>
	// pull: 14 of 14 files fetched <nil>
}
