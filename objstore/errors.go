package objstore

import "errors"

// Errors, wrapped with the bucket and key they concern.
var (
	// ErrNotExist: no object under the key (or the bucket does not exist).
	ErrNotExist = errors.New("objstore: no such object")
	// ErrBadKey: the key is not a clean relative path (see ValidKey).
	ErrBadKey = errors.New("objstore: invalid key")
	// ErrBadRef: Open could not make sense of a location string.
	ErrBadRef = errors.New("objstore: invalid location")
	// ErrAuth: the server refused the credentials or the request's signature.
	ErrAuth = errors.New("objstore: access denied")
	// ErrTooLarge: an object is larger than the caller's limit.
	ErrTooLarge = errors.New("objstore: object exceeds size limit")
	// ErrShort: Put's reader gave a different number of bytes than its size.
	ErrShort = errors.New("objstore: reader size mismatch")
)
