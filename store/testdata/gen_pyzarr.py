#!/usr/bin/python3
"""Write Zarr v2 arrays with Python zarr + numcodecs.Zstd for store's interop test.

Usage: /usr/bin/python3 gen_pyzarr.py OUTDIR
Writes OUTDIR/{f32,f16,flat}/ (zarr arrays) and OUTDIR/expected.json (the
values as float64 lists, as numpy computed them). Committed output in
testdata/pyzarr was made with Debian python3-zarr 2.13.6, numcodecs 0.11.0.
"""
import json, os, sys
import numpy as np
import zarr
from numcodecs import Zstd

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
x = np.maximum(np.sin(np.arange(10 * 3 * 4, dtype=np.float64) * 0.37) * 5.0, 0.0).reshape(10, 3, 4)
flat = (np.arange(7 * 5, dtype=np.float64) / 8.0 - 1.5).reshape(7, 5)
expected = {}
for name, arr, dtype, chunks in [("f32", x, "<f4", (4, 3, 4)), ("f16", x, "<f2", (4, 3, 4)), ("flat", flat, "<f4", (3, 5))]:
    z = zarr.open_array(os.path.join(out, name), mode="w", shape=arr.shape, chunks=chunks,
                        dtype=dtype, compressor=Zstd(level=3), fill_value=0)
    z[:] = arr.astype(dtype)
    expected[name] = {"shape": list(arr.shape), "values": arr.astype(dtype).astype(np.float64).ravel().tolist()}
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f)
print("zarr", zarr.__version__, "numcodecs", __import__("numcodecs").__version__)
