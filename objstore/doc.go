// Package objstore is a small object-storage interface (Bucket) with two
// implementations: a local directory (NewDir) and an S3-compatible bucket
// prefix (NewS3, through the minio-go client). Package storesync moves
// feature stores between a local store directory and a Bucket.
//
// # Keys
//
// Keys are slash-separated paths relative to the bucket's root (the
// directory, or the S3 prefix): "features/c.0.0.0", ".preconv/chunks/3.json".
// ValidKey refuses anything that could escape the root or alias another key:
// empty keys, a leading or trailing "/", empty, "." or ".." segments,
// backslashes, NUL and other control characters, invalid UTF-8, and keys
// longer than MaxKeyLen. Every method checks its key first and returns
// ErrBadKey.
//
// # Semantics
//
// Put publishes an object whole or not at all: readers see the previous
// object (or none) or the complete new one, never a prefix of the new bytes;
// of concurrent Puts of one key, one wins entirely. A failed Put may still
// have published (S3 commits before the client reads the answer). List is recursive and sorted
// by key. Delete of an absent key is not an error. Get streams: callers bound
// what they read (ReadAll takes a limit).
//
// # S3 configuration
//
// Open("s3://bucket/prefix") and S3ConfigFromEnv read the usual variables:
// AWS_ENDPOINT_URL (or PRECONV_S3_ENDPOINT), e.g. http://127.0.0.1:7070
// (default https://s3.amazonaws.com); AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (else the shared credentials file);
// AWS_REGION or AWS_DEFAULT_REGION (default us-east-1). Requests use path-style
// addressing (http://host/bucket/key), which every S3-compatible server
// accepts.
//
// # Helpers
//
// Sub scopes a Bucket to a key prefix; ReadAll reads a whole object under a
// size limit; FS is a read-only io/fs view (directories synthesised from
// keys, seekable files) for code written against fs.FS or http.FS. Package
// objstoretest is the conformance suite every implementation runs, and
// s3test starts a real S3 server (versitygw) on loopback for tests.
//
// Errors are the sentinel Err* values wrapped with the bucket and key.
package objstore
