#!/usr/bin/python3
"""VGG parity fixtures from torchvision's own VGG / make_layers (torch 1.13).

Run from the repository root:
    OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 model/testdata/gen_vgg_parity.py

For cfg [8,'M',16,'M',32,32,'M'] with batch_norm False ("vggs") and True
("vggs_bn"), 3x32x32 input, classifier hidden width 16 and 10 classes, it
writes into model/testdata/:
    <name>.pth          torch.save(state_dict) (zip format)
    <name>_legacy.pth   torch.save(..., _use_new_zipfile_serialization=False)
    <name>_io.bin       little-endian float32: the input, then each tap's output
    <name>_io.json      {input: {shape, offset}, taps: {name: {shape, offset}}} (offsets in floats)
"""
import json, os
import numpy as np
import torch
import torch.nn as nn
from torchvision.models.vgg import VGG, make_layers

HERE = os.path.dirname(os.path.abspath(__file__))
CFG = [8, "M", 16, "M", 32, 32, "M"]
HIDDEN, CLASSES = 16, 10


def build(bn, seed):
    torch.manual_seed(seed)
    m = VGG(make_layers(CFG, batch_norm=bn), num_classes=CLASSES, init_weights=True)
    # torchvision's VGG hard-codes Linear(512*7*7, 4096); swap in a narrow
    # classifier with the same module layout (indices 0..6).
    m.classifier = nn.Sequential(
        nn.Linear(32 * 7 * 7, HIDDEN), nn.ReLU(True), nn.Dropout(),
        nn.Linear(HIDDEN, HIDDEN), nn.ReLU(True), nn.Dropout(),
        nn.Linear(HIDDEN, CLASSES))
    for mod in m.modules():
        if isinstance(mod, nn.Conv2d):
            nn.init.normal_(mod.bias, 0, 0.1)
        if isinstance(mod, nn.BatchNorm2d):
            # Non-trivial inference statistics.
            mod.weight.data = torch.rand(mod.num_features) + 0.5
            mod.bias.data = torch.randn(mod.num_features) * 0.1
            mod.running_mean = torch.randn(mod.num_features) * 0.1
            mod.running_var = torch.rand(mod.num_features) + 0.5
    return m.eval()


def taps(m, x):
    out = {}
    h = x
    for i, layer in enumerate(m.features):
        h = layer(h.clone())  # clone: inplace ReLU must not alter earlier taps
        out["features.%d" % i] = h.clone()
    out["features"] = h.clone()
    h = m.avgpool(h)
    out["avgpool"] = h.clone()
    h = torch.flatten(h, 1)
    for i, layer in enumerate(m.classifier):
        h = layer(h.clone())
        out["classifier.%d" % i] = h.clone()
    out["classifier"] = h.clone()
    assert torch.allclose(h, m(x), atol=1e-6)
    return out


def main():
    for name, bn, seed in [("vggs", False, 1), ("vggs_bn", True, 2)]:
        m = build(bn, seed)
        sd = m.state_dict()
        torch.save(sd, os.path.join(HERE, name + ".pth"))
        torch.save(sd, os.path.join(HERE, name + "_legacy.pth"), _use_new_zipfile_serialization=False)
        torch.manual_seed(100 + seed)
        x = torch.randn(2, 3, 32, 32)
        with torch.no_grad():
            t = taps(m, x)
        keep = ["features.0", "features.1", "features.2", "features.3", "features", "avgpool",
                "classifier.0", "classifier.1", "classifier.4", "classifier"]
        index = {"generator": "model/testdata/gen_vgg_parity.py", "torch": torch.__version__,
                 "cfg": CFG, "batch_norm": bn, "hidden": HIDDEN, "classes": CLASSES, "taps": {}}
        chunks, off = [x], x.numel()
        index["input"] = {"shape": list(x.shape), "offset": 0}
        for k in keep:
            index["taps"][k] = {"shape": list(t[k].shape), "offset": off}
            chunks.append(t[k])
            off += t[k].numel()
        with open(os.path.join(HERE, name + "_io.bin"), "wb") as f:
            for c in chunks:
                f.write(c.detach().numpy().astype("<f4").tobytes())
        with open(os.path.join(HERE, name + "_io.json"), "w") as f:
            json.dump(index, f, indent=1)
        print("wrote", name)


if __name__ == "__main__":
    main()
