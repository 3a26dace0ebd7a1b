#!/usr/bin/python3
"""Writes imageset's bad-file corpus and good odd-format images, plus PIL's decoded pixels for the good ones.

Run with Debian's /usr/bin/python3 (python3-pil, python3-numpy) from anywhere:
  /usr/bin/python3 gen_corpus.py
Output: bad/broken/* (files that must fail with a per-file error), bad/good/* (odd formats that must decode),
corpus_ref.json (PIL 9.4 convert('RGB') pixels of each good file, exif_transpose applied for the EXIF one; for
gray16.png the reference is the high byte, preconv's documented choice, since PIL clips 16-bit gray to 255).
The unreadable case is a committed broken symlink (tests run as root, where chmod 000 does not stop reads).
"""
import io, json, os, shutil, struct, zlib
import numpy as np
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
BAD = os.path.join(HERE, 'bad', 'broken')
GOOD = os.path.join(HERE, 'bad', 'good')
shutil.rmtree(os.path.join(HERE, 'bad'), ignore_errors=True)
os.makedirs(BAD)
os.makedirs(GOOD)

src = Image.open('/usr/lib/python3/dist-packages/skimage/data/chelsea.png').convert('RGB').resize((40, 30), Image.BILINEAR)


def png_chunk(t, data):
    return struct.pack('>I', len(data)) + t + data + struct.pack('>I', zlib.crc32(t + data) & 0xffffffff)


def raw_png(w, h, depth, ctype, rows):
    raw = b''.join(b'\x00' + r for r in rows)
    return (b'\x89PNG\r\n\x1a\n' + png_chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, depth, ctype, 0, 0, 0)) +
            png_chunk(b'IDAT', zlib.compress(raw)) + png_chunk(b'IEND', b''))


# --- broken ---
open(os.path.join(BAD, 'zero.jpg'), 'wb').close()
b = io.BytesIO(); src.save(b, 'JPEG', quality=90); jpg = b.getvalue()
open(os.path.join(BAD, 'truncated.jpg'), 'wb').write(jpg[:len(jpg) // 2])
b = io.BytesIO(); src.save(b, 'PNG'); png = b.getvalue()
open(os.path.join(BAD, 'truncated.png'), 'wb').write(png[:len(png) // 2])
open(os.path.join(BAD, 'text.jpg'), 'w').write('this is a text file, not a JPEG\n')
# A valid PNG header claiming 100000x100000 RGB pixels with a tiny (incomplete) IDAT.
bomb = (b'\x89PNG\r\n\x1a\n' + png_chunk(b'IHDR', struct.pack('>IIBBBBB', 100000, 100000, 8, 2, 0, 0, 0)) +
        png_chunk(b'IDAT', zlib.compress(b'\x00' * 4096)) + png_chunk(b'IEND', b''))
open(os.path.join(BAD, 'bomb.png'), 'wb').write(bomb)
os.makedirs(os.path.join(BAD, 'dir.jpg'))
open(os.path.join(BAD, 'dir.jpg', 'README'), 'w').write('a directory named like an image\n')
os.symlink('does-not-exist.jpg', os.path.join(BAD, 'unreadable.jpg'))

# --- good ---
ref = {}
def keep(name, im_rgb):
    a = np.asarray(im_rgb.convert('RGB'), dtype=np.uint8)
    ref[name] = {'width': a.shape[1], 'height': a.shape[0], 'rgb': a.reshape(-1).tolist()}

src.convert('L').save(os.path.join(GOOD, 'gray.jpg'), quality=90)
src.convert('CMYK').save(os.path.join(GOOD, 'cmyk.jpg'), quality=90)
src.save(os.path.join(GOOD, 'progressive.jpg'), quality=90, progressive=True)
src.save(os.path.join(GOOD, 'baseline444.jpg'), quality=95, subsampling=0)
src.save(os.path.join(GOOD, 'palette.png'), optimize=False) if False else src.quantize(64).save(os.path.join(GOOD, 'palette.png'))
rgba = src.copy(); rgba.putalpha(Image.linear_gradient('L').resize((40, 30))); rgba.save(os.path.join(GOOD, 'rgba.png'))
src.save(os.path.join(GOOD, 'image.bmp'))
src.save(os.path.join(GOOD, 'lossless.webp'), lossless=True)
frames = [src, src.transpose(Image.FLIP_LEFT_RIGHT)]
frames[0].save(os.path.join(GOOD, 'anim.gif'), save_all=True, append_images=frames[1:])
exif = Image.Exif(); exif[0x0112] = 6
src.save(os.path.join(GOOD, 'exif6.jpg'), quality=90, exif=exif)
a16 = np.asarray(src, dtype=np.uint16) * 257 + np.arange(40, dtype=np.uint16).reshape(1, 40, 1)  # low byte varies
open(os.path.join(GOOD, 'rgb16.png'), 'wb').write(raw_png(40, 30, 16, 2, [r.astype('>u2').tobytes() for r in a16]))
g16 = a16[:, :, 1]
open(os.path.join(GOOD, 'gray16.png'), 'wb').write(raw_png(40, 30, 16, 0, [r.astype('>u2').tobytes() for r in g16]))

for f in sorted(os.listdir(GOOD)):
    p = os.path.join(GOOD, f)
    if f == 'gray16.png':
        keep(f, Image.fromarray((g16 >> 8).astype(np.uint8)))
    elif f == 'exif6.jpg':
        keep(f, ImageOps.exif_transpose(Image.open(p)))
    else:
        keep(f, Image.open(p))
json.dump({'source': 'gen_corpus.py, PIL %s convert("RGB")' % Image.__version__, 'images': ref},
          open(os.path.join(HERE, 'corpus_ref.json'), 'w'), separators=(',', ':'))
