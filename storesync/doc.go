// Package storesync pushes a local feature store (package store) to an
// object-store bucket prefix (package objstore) and pulls it back, sending
// only what the other side lacks. It registers the "s3" scheme of package
// remote, so remote.Open("s3://bucket/prefix", cfg) works once this package
// is imported.
//
// # Remote layout
//
// The remote copy is exactly the local store layout under the prefix (plain
// Zarr v2: Python zarr + s3fs opens s3://bucket/prefix directly), plus one
// manifest object, .preconv/files.json: {"PATH": {"size": N, "sha256": HEX}}
// for every store file including .zattrs. Only store files move: .zgroup,
// .zattrs, .zmetadata, records.jsonl, shard.json (in a shard store),
// features/, labels/, keys/ and the chunk sidecars .preconv/chunks/*.json;
// never the writer lock, .preconv/old/, the shards of a sharded extraction
// (.preconv/shards/: PushShard and PullShards move those) or temporary files.
//
// # Push
//
// Push refuses a store without .zattrs (not committed). A features chunk is
// skipped when the remote has it with the same size and either the remote is
// in a committed state whose manifest records the same sha256, or the remote
// sidecar equals the local sidecar (the sidecar is deleted before its chunk
// is replaced and uploaded after it, so a present sidecar vouches for its
// chunk). Other files are skipped when the committed manifest records the
// same size and sha256.
//
// Uploads to keys the remote lacks go first and leave the remote's committed
// version readable. If existing keys must change, Push then deletes the
// remote .zattrs (the commit point, after checking that nobody else
// committed since Push looked: remote.ErrConflict) and the manifest, replaces
// those keys, and finally writes the manifest and .zattrs. Remote store files
// the new version lacks are deleted after the commit. So a Pull sees the old
// version or the new one, or — if a push died while replacing files — no
// committed store (remote.ErrNotFound), never a mixture. Rerunning an
// interrupted Push sends only what is still missing.
//
// # Pull
//
// Pull reads .zattrs and the manifest (checking that they belong together),
// keeps local files whose size and sha256 match, fetches the rest — features
// chunks through a content-addressed cache (CACHE/sha256/ab/HEX) so a chunk is
// downloaded once per machine — verifies every byte against the manifest
// (remote.ErrCorrupt naming the file), removes local store files the remote
// lacks and writes .zattrs last. An interrupted Pull leaves no committed store
// behind; rerunning it resumes.
package storesync
