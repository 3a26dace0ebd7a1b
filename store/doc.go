// Package store is preconv's feature store: a compressed, chunked,
// content-keyed, crash-safe cache of per-image CNN features, laid out as a
// Zarr v2 group that Python zarr (2.x, and 3.x reading format 2) opens
// directly.
//
// # Writing
//
// An extraction calls Prepare with the extraction Spec and the dataset's
// items (ItemRef: content key = sha256 of the image bytes, relative path,
// label, split). Prepare takes the writer lock, compares what is on disk with
// what is asked for, and returns a Plan: the item positions to compute
// (Plan.Todo) and sentences explaining why ("spec changed: tap features.23 →
// features; all 2000 items recomputed", "12 images changed, 40 added, 3
// removed; 1945 reused", "chunk 7 damaged (checksum mismatch)", "resuming: 5
// of 32 chunks missing"). Features are reused only when both the item key and
// Spec.Digest match; the writer copies reused features into the new layout
// itself. The caller computes the Todo items and hands them to Writer.Put (any
// order, any batch size) or Writer.Fail (image did not decode), then calls
// Commit and Close.
//
// # Crash safety
//
// Each features chunk is written to a temp file, fsync'd and renamed; then
// its index entry (.preconv/chunks/<c>.json: sha256 and size of the chunk
// file, spec digest, item keys, failed rows) is written the same way. Before
// anything changes, Prepare removes .zattrs (the commit point); Commit writes
// labels, keys, records and .zarray files, and .zattrs last. Chunks the new
// layout would overwrite but whose features are still wanted are first moved
// to .preconv/old/ (index entry written before the move) and removed at
// Commit. After a kill at any point, Prepare with the same inputs plans
// exactly the items of chunks without an intact file + index entry. Chunks
// whose bytes do not match their checksum are never served: Read fails with
// ErrDamaged naming the chunk, Verify lists them, and Prepare recomputes them.
// A reader checks a chunk's sha256 on its first load and the zstd frame's
// content checksum on every decode.
//
// One writer at a time: .preconv/lock holds {pid, host, since}, created
// atomically (hard link of a complete temp file). A lock of a dead process on
// the same host is taken over (Plan.Reasons says so); a live one gives
// ErrLocked naming the holder. Readers take no lock; Open refuses a store
// without committed metadata (ErrIncomplete).
//
// # Reading
//
// Open returns a *Store implementing train.Dataset and train.Orderer (Len,
// FeatureShape, Classes, Label, Read, EpochOrder) over the non-failed items;
// Split returns a view of one split with the same methods. Chunks are
// decompressed on demand into an LRU cache with a byte budget
// (WithCacheBytes), so stores larger than memory train fine. EpochOrder
// shuffles chunk order, then items within windows of 4 chunks, seeded by
// (seed, epoch); Prefetch registers an order so Read decompresses the next
// chunks on a worker pool ahead of use. ExportNPY and ExportSafetensors
// stream a view to a file; Stat summarises sizes and counts; OpenArray reads a
// plain Zarr v2 array written by anyone (e.g. Python zarr + numcodecs.Zstd).
//
// # Format
//
//	STORE/
//	  .zgroup            {"zarr_format": 2}
//	  .zattrs            {"preconv": Provenance, "classes": [...]}: spec (model,
//	                     weights digest, arch, tap, pool, preprocess, dtype,
//	                     feature shape), spec digest, preconv version, creation
//	                     time, counts per split, chunk rows, zstd level, layout
//	                     digest (sha256 over item keys in order)
//	  features/.zarray   shape (N, ...feature shape), chunks (C, ...feature
//	                     shape), dtype "<f4" or "<f2", compressor
//	                     {"id":"zstd","level":L}, fill_value 0, order "C",
//	                     filters null, dimension_separator "."
//	  features/c.0.0.0   chunk c: rows c*C..c*C+C-1, one zstd frame with the
//	                     content size (single segment: numcodecs 0.11 needs it)
//	                     and a content checksum; the last chunk is full-size,
//	                     zero-padded, as in zarr. Default C: 2 MiB of float32
//	                     per chunk (20 VGG16 pool5 maps), at most 1024 rows
//	  labels/.zarray, labels/0 ...   (N,) "<i8", -1 = unlabelled
//	  keys/.zarray, keys/0 ...       (N,) "|S64", sha256 hex of the image bytes
//	  records.jsonl      one JSON object per item in order:
//	                     {"i","path","key","label","split","failed"?,
//	                     "view"?,"image"?} (view and image key of the
//	                     rows of an augmented extraction; see ViewGroups)
//	  .preconv/          bookkeeping zarr ignores: lock, chunks/<c>.json
//	                     (chunk index entries), old/ (chunks kept for reuse)
//
// In Python:
//
//	g = zarr.open_group(STORE, mode="r")
//	x, y = g["features"], g["labels"][:]        # x is lazy, chunked
//	recs = [json.loads(l) for l in open(STORE + "/records.jsonl")]
//	ok = [r.get("failed") is None for r in recs]  # failed rows hold zeros
//
// Errors are the sentinel Err* values, wrapped with the file or chunk.
package store
