#!/usr/bin/python3
"""Reference outputs of a real torchvision architecture with random weights (torch 1.13).

Usage: /usr/bin/python3 model/testdata/gen_torchvision_ref.py ARCH OUTDIR BATCH SIZE [TAP ...]
Writes OUTDIR/ARCH.pth (torch.save(model.state_dict()), zip format), OUTDIR/input.bin and
OUTDIR/<tap>.bin (little-endian float32) and OUTDIR/index.json ({tap: shape}).
TAPs are module names of the model ("features", "layer1", "avgpool", "fc", "classifier.4").
Used by model's TestTorchvisionParity (skips without torch) and the PRECONV_HEAVY VGG16 test.
"""
import json, os, sys
import torch
import torchvision

arch, out, batch, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
taps = sys.argv[5:]
torch.manual_seed(0)
m = getattr(torchvision.models, arch)().eval()
if arch.startswith("resnet"):
    # Non-trivial batch-norm statistics (torchvision initializes them to 0/1).
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean = torch.randn(mod.num_features) * 0.1
            mod.running_var = torch.rand(mod.num_features) + 0.5
            mod.weight.data = torch.rand(mod.num_features) + 0.5
            mod.bias.data = torch.randn(mod.num_features) * 0.1
torch.save(m.state_dict(), os.path.join(out, arch + ".pth"))
x = torch.randn(batch, 3, size, size)
got = {}
mods = dict(m.named_modules())
hooks = [mods[t].register_forward_hook(lambda mod, i, o, t=t: got.__setitem__(t, o.detach().clone())) for t in taps]
with torch.no_grad():
    m(x)
x.numpy().astype("<f4").tofile(os.path.join(out, "input.bin"))
index = {}
for t in taps:
    got[t].numpy().astype("<f4").tofile(os.path.join(out, t + ".bin"))
    index[t] = list(got[t].shape)
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump(index, f)
