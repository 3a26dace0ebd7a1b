#!/usr/bin/python3
"""Reference outputs of PIL 9.4 + torchvision 0.14 preprocessing for imageset's parity tests.

Run with Debian's /usr/bin/python3 (python3-torchvision, python3-pil, python3-numpy):

  /usr/bin/python3 gen_preprocess_ref.py            # writes preprocess_ref.json.gz (committed, default tier)
  /usr/bin/python3 gen_preprocess_ref.py --full DIR # writes DIR/<name>.{tv,bicubic,nearest}.f32 and .rgb.u8
                                                    # (heavy tier, at test time)

For every photo: the torchvision pipeline Resize(256) -> CenterCrop(224) -> ToTensor -> Normalize(ImageNet)
summarised by per-channel per-row means and 4096 sampled values (numpy seed 0); 2048 sampled pixels of PIL's
decoded RGB (decode-only comparison); and the keras-tf ([-1,1]), unit ([0,1]) and keras-caffe (BGR minus mean)
presets as numpy formulas on PIL's bilinear resize to 224x224, 1024 sampled values each.
"""
import gzip, json, os, sys
import numpy as np
from PIL import Image
import torch
from torchvision import transforms as T

PHOTOS = sorted(
    [os.path.join('/usr/share/darknet/data', f) for f in os.listdir('/usr/share/darknet/data') if f.endswith('.jpg')]
) + [
    '/usr/lib/python3/dist-packages/sklearn/datasets/images/china.jpg',
    '/usr/lib/python3/dist-packages/sklearn/datasets/images/flower.jpg',
    '/usr/lib/python3/dist-packages/skimage/data/chelsea.png',
    '/usr/lib/python3/dist-packages/skimage/data/coffee.png',
    '/usr/lib/python3/dist-packages/skimage/data/astronaut.png',
]

TV = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])


def name(p):
    return os.path.splitext(os.path.basename(p))[0]


def presets(im):
    r = np.asarray(im.resize((224, 224), Image.BILINEAR), dtype=np.float64).transpose(2, 0, 1)  # CHW RGB
    return {
        'keras-tf': r / 127.5 - 1.0,
        'unit': r / 255.0,
        'keras-caffe': r[::-1] - np.array([103.939, 116.779, 123.68]).reshape(3, 1, 1),
    }


def main():
    if len(sys.argv) == 3 and sys.argv[1] == '--full':
        out = sys.argv[2]
        os.makedirs(out, exist_ok=True)
        for p in PHOTOS:
            im = Image.open(p).convert('RGB')
            TV(im).numpy().astype('<f4').tofile(os.path.join(out, name(p) + '.tv.f32'))
            for interp, mode in (('bicubic', T.InterpolationMode.BICUBIC), ('nearest', T.InterpolationMode.NEAREST)):
                tf = T.Compose([T.Resize(256, interpolation=mode), T.CenterCrop(224), T.ToTensor(),
                                T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
                tf(im).numpy().astype('<f4').tofile(os.path.join(out, name(p) + '.' + interp + '.f32'))
            np.asarray(im, dtype=np.uint8).tofile(os.path.join(out, name(p) + '.rgb.u8'))
        return
    rng = np.random.default_rng(0)
    ref = {'source': 'gen_preprocess_ref.py, PIL %s, torchvision %s' % (Image.__version__, __import__('torchvision').__version__),
           'images': []}
    for p in PHOTOS:
        im = Image.open(p).convert('RGB')
        w, h = im.size
        x = TV(im).numpy()
        rgb = np.asarray(im)
        n = 4096
        c, yy, xx = rng.integers(0, 3, n), rng.integers(0, 224, n), rng.integers(0, 224, n)
        dy, dx = rng.integers(0, h, 2048), rng.integers(0, w, 2048)
        e = {'path': p, 'name': name(p), 'width': w, 'height': h,
             'tv_row_means': np.round(x.mean(axis=2), 6).tolist(),
             'tv_samples': [[int(a), int(b), int(d), round(float(x[a, b, d]), 6)] for a, b, d in zip(c, yy, xx)],
             'decode_samples': [[int(a), int(b)] + [int(v) for v in rgb[a, b]] for a, b in zip(dy, dx)]}
        for k, v in presets(im).items():
            c, yy, xx = rng.integers(0, 3, 1024), rng.integers(0, 224, 1024), rng.integers(0, 224, 1024)
            e[k] = [[int(a), int(b), int(d), round(float(v[a, b, d]), 5)] for a, b, d in zip(c, yy, xx)]
        ref['images'].append(e)
    with gzip.GzipFile(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'preprocess_ref.json.gz'), 'wb', mtime=0) as g:
        g.write(json.dumps(ref, separators=(',', ':')).encode())


if __name__ == '__main__':
    main()
