#!/usr/bin/python3
"""Reads a safetensors file written by Go with struct/json/numpy (independent
of the Go reader) and prints {name: {dtype, shape, values}} plus metadata as JSON."""
import json
import struct
import sys

import numpy as np

NP = {"F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4"}
with open(sys.argv[1], "rb") as f:
    buf = f.read()
(n,) = struct.unpack("<Q", buf[:8])
hdr = json.loads(buf[8:8 + n])
data = buf[8 + n:]
out = {"__metadata__": hdr.pop("__metadata__", {})}
for name, h in hdr.items():
    b, e = h["data_offsets"]
    arr = np.frombuffer(data[b:e], dtype=NP[h["dtype"]]).reshape(h["shape"])
    out[name] = {"dtype": h["dtype"], "shape": h["shape"], "values": arr.astype(np.float64).ravel().tolist()}
print(json.dumps(out))
