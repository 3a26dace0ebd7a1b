#!/usr/bin/python3
"""Write VGG16 `features` maps (N,512,7,7) of real photos to a .npy for
store's benchmarks (STORE_BENCH_FEATURES=out.npy).

Usage: OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 gen_bench_vgg16.py OUT.npy [WEIGHTS.pth] PHOTOS...
Without WEIGHTS (a torchvision vgg16 state_dict), VGG16 has torchvision's
random init: the sparsity is realistic, the statistics are not those of
ImageNet weights. 8 crops/flips per photo, Resize 256 / crop 224, ImageNet
normalisation (torchvision transforms).
"""
import sys
import numpy as np
import torch, torchvision
from PIL import Image
import torchvision.transforms as T

out, args = sys.argv[1], sys.argv[2:]
torch.manual_seed(0)
m = torchvision.models.vgg16()
if args and args[0].endswith(".pth"):
    m.load_state_dict(torch.load(args.pop(0), map_location="cpu"))
m = m.features.eval()
norm = T.Compose([T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
views = [T.Compose([T.Resize(256), T.CenterCrop(224)]), T.Compose([T.Resize(288), T.CenterCrop(224)]),
         T.Compose([T.Resize(224), T.CenterCrop(224)]), T.Compose([T.Resize(320), T.CenterCrop(224)])]
xs = []
for p in args:
    img = Image.open(p).convert("RGB")
    for v in views:
        im = v(img)
        xs.append(norm(im))
        xs.append(norm(im.transpose(Image.FLIP_LEFT_RIGHT)))
feats = []
with torch.no_grad():
    for i in range(0, len(xs), 8):
        feats.append(m(torch.stack(xs[i:i + 8])).numpy())
a = np.concatenate(feats).astype("<f4")
np.save(out, a)
print(out, a.shape, "zeros %.3f" % (a == 0).mean())
