// Package server serves preconv feature stores over HTTP and receives
// pushed ones: `preconv serve`. Package server/client is the other end (an
// http/https remote.Location with Pull and Push).
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
//	                               works through fsspec; NAME@VERSION pins a
//	                               version of a pushed store
//	GET /static/index.js           the page's script (no data, no auth)
//
// The versioned API (the read routes above also answer under /api/v1):
//
//	GET  /api/v1/stores[/{name}]   as /api/stores, plus version, versions,
//	                               pushed_by, pushed_at for pushed stores
//	GET  /api/v1/search?…          as /api/search
//	GET  /api/v1/stats             blob count and bytes, logical bytes of all
//	                               kept versions, bytes saved by dedup
//	GET  /api/v1/stores/{ref}/manifest        Manifest: every file with sha256
//	                               and size (ref: NAME or NAME@VERSION)
//	GET  /api/v1/stores/{ref}/files/{path...} one manifest file, including the
//	                               chunk index entries .preconv/chunks/N.json
//	                               that /stores/ does not serve
//	POST /api/v1/blobs/missing     {"sha256":[…]} → {"missing":[…]}   (write)
//	PUT  /api/v1/blobs/{sha256}    upload one file body                (write)
//	POST /api/v1/stores/{name}/commit   Manifest → CommitResult        (write)
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
// Every read route needs ScopeRead; the push routes need ScopeWrite.
// Without a token the answer is 401 unless Config.AnonymousRead is set; a
// known token lacking the scope gets 403. Tokens are compared in constant
// time.
//
// Errors are JSON bodies {"error": "...", "status": N} produced by one
// function mapping the sentinel Err* values to status codes.
//
// # Push
//
// A push is content-addressed. The client lists the committed store's files
// (BuildManifest: every regular file except the lock, .preconv/old and temp
// files; the chunk index entries .preconv/chunks/N.json are included, as
// preconv's reader needs them), asks which sha256s the server lacks, uploads
// those with PUT /api/v1/blobs/SHA256 and commits the manifest.
//
// The server hashes each upload while writing it to a temp file and keeps it
// (read-only, as Root/.preconv-server/blobs/ab/SHA256) only if the hash
// matches the URL: else 400 (ErrDigestMismatch). Uploads over
// Config.MaxUploadBytes (default 256 MiB) get 413, checked on Content-Length
// before reading and enforced while streaming.
//
// A commit checks that every named blob exists with the stated size (else 400
// listing the missing ones), builds the version in a temp directory from hard
// links to the blobs, opens it as a store (committed .zattrs with provenance,
// metadata, records) and checks every chunk index entry's sha256 and size
// against the manifest (else 422, ErrInvalidStore). The directory is then
// renamed to Root/.preconv-server/stores/NAME/versions/VERSION and NAME is
// switched by writing current.json through a temp file and rename: the
// commit point. VERSION is VersionOf(files), a content address: pushing the
// same files again changes nothing. Files identical across versions and
// stores are stored once (hard links); BlobStats reports the bytes saved.
//
// Until its commit, a push is invisible (blobs alone are not a store), and
// an interrupted push is resumed by pushing again: only blobs still missing
// are sent.
//
// Concurrency: commits of one store are serialised by a per-store mutex
// (one server process per Root), and each is atomic, so concurrent pushes
// end in one consistent version: the last commit wins. A client that wants
// optimistic concurrency sends the version it expects to replace as
// "parent" (or an If-Match header); if it is not current, the commit fails
// with 409 (ErrConflict, remote.ErrConflict on the client). A reader of
// /stores/NAME gets each file whole from the version current at that
// request, named in the X-Preconv-Version response header; to read several
// files of one version, read the manifest (or one file) and use
// /stores/NAME@VERSION for the rest, as Pull does.
//
// A plain store directory under Root keeps being served as before and cannot
// be pushed to (409); its manifest is computed on request (cached until its
// .zattrs changes).
//
// # Old versions and garbage
//
// Each pushed store keeps its last Config.KeepVersions versions (default 5),
// readable as NAME@VERSION. A commit that drops older versions deletes their
// directories and then collects blobs whose only hard link is the blob store
// itself and which are older than Config.GCGrace (default 1 h, so blobs of a
// push not yet committed survive). CollectGarbage runs the same collection on
// demand (e.g. to remove uploads that were never committed). New removes
// temp uploads and half-built versions older than an hour that a crash left
// in Root/.preconv-server/tmp. Root/.preconv-server itself is never served
// or listed (names starting with "." are not stores).
//
// # Object storage
//
// Config.Root "s3://bucket/prefix" (S3 settings from the environment, as
// objstore.Open reads them) or Config.Bucket (any objstore.Bucket) keeps
// everything in a bucket instead of a directory, with the same routes, auth,
// page and semantics. New lists PREFIX/.preconv-server/stores/ once, so a
// missing bucket or refused credentials are an ErrConfig error at start.
//
// Stores that storesync wrote under the prefix (preconv push STORE
// s3://bucket/prefix/NAME, extract --out s3://…: the plain Zarr layout plus
// .preconv/files.json) are served as NAME, read-only, like plain
// directories: provenance comes from NAME/.zattrs (at most 16 MiB), sizes
// from files.json, which must record that .zattrs's sha256 (otherwise a push
// is replacing the store and it is not found until it commits). Only files
// that files.json lists are served (so never files.json itself, temp files
// or anything outside the store), streamed from NAME/PATH. Listing these
// stores (the page, /api/stores, /api/search) lists every key under the
// prefix, since the bucket interface has no delimiter listing; the result
// is reused for 5 s (commits through the server refresh it). A request for
// one store (/api/stores/NAME, /stores/NAME/…) finds it directly.
//
// Pushes store blobs as PREFIX/.preconv-server/blobs/ab/SHA256 (hashed into
// a temp file in the OS temp directory, $TMPDIR, while received; one Put
// once the hash matches; the temp file is removed at once), and
// commit by writing the version's manifest
// .preconv-server/stores/NAME/versions/V.json and then the current pointer
// .preconv-server/stores/NAME/current.json: one PUT, atomic in S3, the
// commit point. Versions are not materialised: the files other than
// features chunks are fetched into a local temp directory to validate the
// store as for a directory root (chunks are checked against their index
// entries by sha256 and size; their bytes were hashed on upload), and a file
// of NAME or NAME@VERSION is served by looking its path up in the version's
// manifest (immutable, cached) and streaming the blob. Responses carry the
// file's sha256 as ETag and X-Content-Sha256. Range requests work; the
// bucket interface has no ranged read, so the object is read from its start
// up to the range.
//
// Garbage: pruned versions lose their manifest objects, and blobs that no
// kept version of any pushed store names are deleted if stored before
// Config.GCGrace and not relied on by a push (a missing check, upload or
// commit) during it. S3 objects have no touchable mtime, so that last
// record lives in the server's memory: a restart forgets it, and a push
// whose missing check ran before the restart but whose commit comes more
// than the grace period after an old blob became unused may find that blob
// collected (the commit then lists it as missing, and server/client's Push
// uploads it and commits once more). Manifests of versions written by a commit that died before its
// pointer are left in place (small; never served).
//
// As with a directory root, commits of one store are serialised inside one
// server process: run one server per bucket prefix.
package server
