#!/usr/bin/python3
"""Writes jpegdec's fixtures: small JPEGs of every layout the decoder handles or must decline, and PIL's
decoded RGB pixels of each (as lossless PNG), the reference the Go tests compare with bit for bit.

Run with Debian's /usr/bin/python3 (python3-pil 9.4 over libjpeg-turbo 2.1.5) and libjpeg-turbo-progs
(cjpeg, jpegtran) installed:  /usr/bin/python3 gen_fixtures.py
"""
import os, subprocess, tempfile
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
# A sequential (not progressive) scan script coding each component in its own scan.
SCANS = os.path.join(tempfile.gettempdir(), 'jpegdec-sequential.scans')
with open(SCANS, 'w') as f:
    f.write('0: 0 63 0 0;\n1: 0 63 0 0;\n2: 0 63 0 0;\n')
src = Image.open('/usr/lib/python3/dist-packages/skimage/data/chelsea.png').convert('RGB')

def ppm(w, h, box=None):
    im = src.crop(box) if box else src
    return im.resize((w, h), Image.BILINEAR)

# name: (size, cjpeg arguments, decoded by jpegdec?)
cases = {
    'q90_420_61x45':   ((61, 45), ['-quality', '90', '-sample', '2x2'], True),
    'q90_422_61x45':   ((61, 45), ['-quality', '90', '-sample', '2x1'], True),
    'q90_440_61x45':   ((61, 45), ['-quality', '90', '-sample', '1x2'], True),
    'q90_444_61x45':   ((61, 45), ['-quality', '90', '-sample', '1x1'], True),
    'gray_61x45':      ((61, 45), ['-quality', '85', '-grayscale'], True),
    'q100_420_40x33':  ((40, 33), ['-quality', '100', '-sample', '2x2'], True),
    'q10_420_40x33':   ((40, 33), ['-quality', '10', '-sample', '2x2'], True),
    'q3_sof1_40x33':   ((40, 33), ['-quality', '3', '-sample', '2x2'], True),   # 16-bit tables, SOF1
    'optimized_61x45': ((61, 45), ['-quality', '90', '-optimize'], True),
    'restart_rows':    ((61, 45), ['-quality', '90', '-restart', '1'], True),
    'restart_3blocks': ((61, 45), ['-quality', '90', '-sample', '1x1', '-restart', '3B'], True),
    'gray_restart':    ((33, 17), ['-quality', '90', '-grayscale', '-restart', '2B'], True),
    'tiny_1x1':        ((1, 1), ['-quality', '90'], True),
    'wide_300x3':      ((300, 3), ['-quality', '90'], True),
    'tall_5x150':      ((5, 150), ['-quality', '90', '-sample', '2x2'], True),
    'progressive':     ((61, 45), ['-quality', '90', '-progressive'], True),
    'progressive_opt_422': ((61, 45), ['-quality', '90', '-progressive', '-optimize', '-sample', '2x1'], True),
    'progressive_gray':    ((61, 45), ['-quality', '90', '-progressive', '-grayscale'], True),
    'progressive_restart': ((61, 45), ['-quality', '95', '-progressive', '-sample', '1x1', '-restart', '2B'], True),
    'progressive_440':     ((37, 50), ['-quality', '75', '-progressive', '-sample', '1x2'], True),
    'progressive_tiny':    ((1, 1), ['-quality', '90', '-progressive'], True),
    'sequential_scans':    ((61, 45), ['-quality', '90', '-scans', SCANS], True),  # one component per scan
    'arithmetic':      ((61, 45), ['-quality', '90', '-arithmetic'], False),
    'rgb':             ((61, 45), ['-quality', '90', '-rgb'], False),
}
with tempfile.TemporaryDirectory() as tmp:
    for name, ((w, h), args, ok) in sorted(cases.items()):
        p = os.path.join(tmp, name + '.ppm')
        ppm(w, h, (100, 50, 400, 280)).save(p)
        out = os.path.join(HERE, name + '.jpg')
        subprocess.run(['cjpeg'] + args + ['-outfile', out, p], check=True)
        Image.open(out).convert('RGB').save(os.path.join(HERE, name + '.png'))
        print(name, os.path.getsize(out), 'decoded' if ok else 'declined')
