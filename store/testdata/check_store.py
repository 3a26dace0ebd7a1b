#!/usr/bin/python3
"""Read a preconv store with Python zarr and dump what it sees as JSON.

Usage: /usr/bin/python3 check_store.py STORE OUT.json
Used by store's TestPythonReadsGoStore: Go compares the dump with the values
it meant to write, so the check is Python's reading, not Go's.
"""
import json, os, sys
import numpy as np
import zarr

store, out = sys.argv[1], sys.argv[2]
g = zarr.open_group(store, mode="r")
f = g["features"]
feats = f[:]
recs = [json.loads(l) for l in open(os.path.join(store, "records.jsonl"))]
json.dump({
    "zarr": zarr.__version__,
    "dtype": str(f.dtype), "shape": list(f.shape), "chunks": list(f.chunks),
    "features": feats.astype(np.float64).ravel().tolist(),
    "labels": g["labels"][:].tolist(),
    "keys": [k.decode() for k in g["keys"][:]],
    "records": recs,
    "classes": g.attrs["classes"],
    "spec_digest": g.attrs["preconv"]["spec_digest"],
}, open(out, "w"))
