package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors. Handlers wrap them with %w; writeError maps them to HTTP
// status codes.
var (
	// ErrNotFound: no such store or file (404).
	ErrNotFound = errors.New("server: not found")
	// ErrBadPath: a file path that is absolute, contains "..", ".", empty
	// segments, backslashes or NUL, or resolves outside the root (400).
	ErrBadPath = errors.New("server: bad path")
	// ErrBadRequest: malformed query or request (400).
	ErrBadRequest = errors.New("server: bad request")
	// ErrUnauthorized: no (or an unknown) bearer token and anonymous read is
	// off (401).
	ErrUnauthorized = errors.New("server: unauthorized")
	// ErrForbidden: the token lacks the scope the route needs (403).
	ErrForbidden = errors.New("server: forbidden")
	// ErrTooLarge: the request body exceeds Config.MaxBodyBytes (413).
	ErrTooLarge = errors.New("server: request too large")
	// ErrConfig: invalid Config or token file.
	ErrConfig = errors.New("server: invalid configuration")
	// ErrDigestMismatch: an uploaded blob's bytes do not hash to the sha256
	// in its URL (400); the upload is discarded.
	ErrDigestMismatch = errors.New("server: content does not match its sha256")
	// ErrMissingBlobs: a commit names blobs the server does not have (400);
	// the error body lists them under "missing".
	ErrMissingBlobs = errors.New("server: commit names blobs that were not uploaded")
	// ErrInvalidStore: a commit whose files do not form a valid preconv
	// store: no provenance, unreadable metadata, or chunk index entries
	// whose sha256 or size disagree with the manifest (422).
	ErrInvalidStore = errors.New("server: not a valid preconv store")
	// ErrConflict: a commit's parent version is not the current one, or the
	// name is taken by a plain directory (409). It wraps remote.ErrConflict
	// on the client side.
	ErrConflict = errors.New("server: store changed concurrently")
)

// MissingBlobsError is the ErrMissingBlobs error of one commit.
type MissingBlobsError struct {
	Store   string
	Missing []string // sha256 hex, sorted
}

func (e *MissingBlobsError) Error() string {
	return fmt.Sprintf("store %q: commit names %d blobs that were not uploaded (first %s): %v", e.Store, len(e.Missing), e.Missing[0], ErrMissingBlobs)
}

// Unwrap makes errors.Is(err, ErrMissingBlobs) hold.
func (e *MissingBlobsError) Unwrap() error { return ErrMissingBlobs }

// statusOf maps an error to its HTTP status code.
func statusOf(err error) int {
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrBadPath), errors.Is(err, ErrBadRequest), errors.Is(err, ErrDigestMismatch), errors.Is(err, ErrMissingBlobs):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, ErrTooLarge), errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrConflict):
		return http.StatusConflict
	case errors.Is(err, ErrInvalidStore):
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error   string   `json:"error"`
	Status  int      `json:"status"`
	Missing []string `json:"missing,omitempty"` // ErrMissingBlobs: the absent sha256s
}

// writeError writes err as a JSON error response. Internal errors (500) are
// logged and their text is not sent, so server paths do not leak.
func (s *Server) writeError(w http.ResponseWriter, err error) {
	code := statusOf(err)
	msg := err.Error()
	if code == http.StatusInternalServerError {
		s.logf("preconv serve: %v", err)
		msg = "internal error"
	}
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="preconv"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	body := errorBody{Error: msg, Status: code}
	var mb *MissingBlobsError
	if errors.As(err, &mb) {
		body.Missing = mb.Missing
	}
	json.NewEncoder(w).Encode(body)
}
