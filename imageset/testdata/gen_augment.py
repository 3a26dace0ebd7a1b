# Generates augment_ref.json: torchvision reference outputs for the
# augmentation ops of imageset/augment.go, on a fixed random 8-bit image.
# Run: OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 imageset/testdata/gen_augment.py
# (torch 1.13, torchvision 0.14 from Debian python3-torch/python3-torchvision).
import json, os
import numpy as np
import torch, torchvision
import torchvision.transforms.functional as F
from PIL import Image

rs = np.random.RandomState(0)
h, w = 9, 13
img = rs.randint(0, 256, size=(h, w, 3)).astype(np.uint8)
t = torch.from_numpy(img).permute(2, 0, 1).contiguous()  # uint8 CHW tensor

def hwc(x):
    return x.permute(1, 2, 0).contiguous().numpy().reshape(-1).tolist()

out = {"source": "torch %s torchvision %s, imageset/testdata/gen_augment.py" % (torch.__version__, torchvision.__version__),
       "h": h, "w": w, "image": img.reshape(-1).tolist(), "cases": []}
for f in [0.0, 0.37, 0.8, 1.0, 1.45, 2.3]:
    out["cases"].append({"op": "brightness", "f": f, "out": hwc(F.adjust_brightness(t, f))})
    out["cases"].append({"op": "contrast", "f": f, "out": hwc(F.adjust_contrast(t, f))})
    out["cases"].append({"op": "saturation", "f": f, "out": hwc(F.adjust_saturation(t, f))})
pil = Image.fromarray(img)
for a in [90.0, -90.0, 17.0, -8.5, 33.3]:
    r = F.rotate(pil, a, interpolation=F.InterpolationMode.NEAREST)
    out["cases"].append({"op": "rotate", "f": a, "out": np.asarray(r).reshape(-1).tolist()})
json.dump(out, open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "augment_ref.json"), "w"))
