package server

import (
	"encoding/json"
	"errors"
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
)

// statusOf maps an error to its HTTP status code.
func statusOf(err error) int {
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrBadPath), errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, ErrTooLarge), errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error  string `json:"error"`
	Status int    `json:"status"`
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
	json.NewEncoder(w).Encode(errorBody{Error: msg, Status: code})
}
