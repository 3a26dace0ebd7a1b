#!/usr/bin/python3
"""Writes testdata/fixture.safetensors following the safetensors spec by hand
(struct + json + numpy; no safetensors package is available in Debian), as an
independent implementation of the format for safetensors_test.go.

Layout as the reference writer does it: 8-byte little-endian header length,
JSON header padded with spaces to a multiple of 8, data back to back.

Values (asserted in safetensors_test.go):
  w_f32  F32  shape (2,3)  = arange(6)*0.5 - 1
  h_f16  F16  shape (4,)   = [1.0, -2.5, 0.333251953125, 65504]
  b_bf16 BF16 shape (2,)   = [1.5, -0.15625]
  lab    I64  shape (3,)   = [0, 7, -1]
  i32    I32  shape (2,2)  = [[1,2],[3,-4]]
  s      F32  shape ()     = 3.25
  metadata {"format": "pt", "note": "hand-written"}
"""
import json
import struct
import sys

import numpy as np

tensors = [
    ("w_f32", "F32", (2, 3), (np.arange(6, dtype=np.float32) * 0.5 - 1).reshape(2, 3).tobytes()),
    ("h_f16", "F16", (4,), np.array([1.0, -2.5, 0.333251953125, 65504], dtype="<f2").tobytes()),
    # bfloat16: upper 16 bits of the float32 (both values exact in bf16)
    ("b_bf16", "BF16", (2,), (np.array([1.5, -0.15625], dtype="<f4").view("<u4") >> 16).astype("<u2").tobytes()),
    ("lab", "I64", (3,), np.array([0, 7, -1], dtype="<i8").tobytes()),
    ("i32", "I32", (2, 2), np.array([[1, 2], [3, -4]], dtype="<i4").tobytes()),
    ("s", "F32", (), np.array(3.25, dtype="<f4").tobytes()),
]
header = {"__metadata__": {"format": "pt", "note": "hand-written"}}
data = b""
for name, dt, shape, raw in tensors:
    header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [len(data), len(data) + len(raw)]}
    data += raw
js = json.dumps(header, separators=(",", ":")).encode()
js += b" " * (-len(js) % 8)
out = sys.argv[1] if len(sys.argv) > 1 else "testdata/fixture.safetensors"
with open(out, "wb") as f:
    f.write(struct.pack("<Q", len(js)))
    f.write(js)
    f.write(data)
