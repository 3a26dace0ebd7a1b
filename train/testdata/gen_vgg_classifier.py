#!/usr/bin/python3
"""PyTorch reference for the vgg-classifier preset (heavy test
TestVGGClassifierTorch in train/vgg_heavy_test.go). Usage:

    OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 gen_vgg_classifier.py OUTDIR

Writes OUTDIR/classifier.safetensors (torchvision vgg16().classifier state
dict with random init, seed 0, prefixed "classifier.", and the replacement
2-class last layer as classifier.6.*), written by hand with struct/json/numpy
(no safetensors package in Debian), and OUTDIR/expect.json with inputs X (8 x
25088, relu(randn), seed 1), labels, the eval-mode logits, and the losses of
5 SGD steps (lr 0.01, momentum 0.9) training only classifier.6 on the whole
batch in eval mode (dropout disabled).
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torchvision

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
torch.set_num_threads(2)
m = torchvision.models.vgg16().classifier
m[6] = torch.nn.Linear(4096, 2)
m.eval()
for p in m.parameters():
    p.requires_grad = False
for p in m[6].parameters():
    p.requires_grad = True

header, blobs, off = {}, [], 0
for k, v in m.state_dict().items():
    raw = v.detach().numpy().astype("<f4").tobytes()
    header["classifier." + k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [off, off + len(raw)]}
    blobs.append(raw)
    off += len(raw)
js = json.dumps(header).encode()
js += b" " * (-len(js) % 8)
with open(os.path.join(out, "classifier.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(js)))
    f.write(js)
    for b in blobs:
        f.write(b)

torch.manual_seed(1)
X = torch.relu(torch.randn(8, 25088))
Y = torch.tensor([0, 1, 1, 0, 1, 0, 0, 1])
with torch.no_grad():
    logits = m(X)
opt = torch.optim.SGD(m[6].parameters(), lr=0.01, momentum=0.9)
losses = []
for _ in range(5):
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(m(X), Y)
    loss.backward()
    opt.step()
    losses.append(loss.item())
json.dump({"X": X.reshape(-1).tolist(), "Y": Y.tolist(), "logits": logits.reshape(-1).tolist(), "losses": losses},
          open(os.path.join(out, "expect.json"), "w"))
