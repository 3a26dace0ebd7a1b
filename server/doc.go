// Package server serves preconv feature stores over HTTP, read-only (the
// first half of issue 8; push/write comes later).
//
// # Routes
//
// All routes are registered in one place (Server.routes) with Go 1.22
// method+path patterns:
//
//	GET /                          HTML page listing the stores
//	GET /api/stores                JSON list of committed stores (StoreInfo)
//	GET /api/stores/{name}         one store's StoreInfo; 404 if absent
//	GET /api/search?weights_digest=&spec_digest=&tap=&model=&arch=&pool=&dtype=
//	                               stores whose provenance matches every
//	                               given parameter exactly
//	GET /stores/{name}/{path...}   the store's Zarr files byte for byte, so
//	                               zarr.open_group("http://HOST/stores/NAME")
//	                               works through fsspec
//
// GET patterns also answer HEAD. File responses carry Content-Length, ETag and
// Last-Modified and honour Range and conditional requests (http.ServeContent).
// Absent keys give 404, which zarr relies on when it probes .zarray, .zgroup,
// .zattrs and .zmetadata.
//
// # Safety
//
// A store is a direct subdirectory of Root whose name does not start with "."
// and which holds a committed preconv store (.zattrs with provenance). File
// paths are refused (ErrBadPath, 400) when they are absolute, contain empty,
// "." or ".." segments, backslashes or NUL, whatever their encoding (the
// decoded path value is checked, so %2e%2e and %2f are caught too). The
// bookkeeping folder .preconv/ and writers' temporary files (.tmp-*) are
// never served (404). The requested file is resolved with
// filepath.EvalSymlinks and must lie inside the resolved Root; symlinks that
// stay inside Root are followed. Directories are not listed (404).
//
// # Auth
//
// Requests carry "Authorization: Bearer TOKEN". Tokens and their scopes come
// from a JSON file read by LoadTokens:
//
//	{"tokens":[{"token":"…","scopes":["read"],"name":"team-a"}]}
//
// Every read route needs ScopeRead; ScopeWrite is reserved for the push API.
// Without a token the answer is 401 unless Config.AnonymousRead is set; a
// known token lacking the scope gets 403. Tokens are compared in constant
// time.
//
// Errors are JSON bodies {"error": "...", "status": N} produced by one
// function mapping the sentinel Err* values to status codes.
package server
