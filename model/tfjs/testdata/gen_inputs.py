#!/usr/bin/python3
"""Prepare the committed test inputs for the nsfwjs parity test.

Each darknet sample photo (Debian package darknet, /usr/share/darknet/data)
is decoded with PIL, converted to RGB and resized (whole image, no crop)
with PIL bilinear to SIZE×SIZE, then stored as raw uint8 HWC, images back
to back, gzip-compressed: inputs_SIZE.u8.gz. Both gen_reference.js (TF.js)
and the Go test read these bytes and divide by 255, so the comparison does
not depend on any image decoder or resizer.

Run: /usr/bin/python3 gen_inputs.py   (writes into this directory)
"""
import gzip, os
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = "/usr/share/darknet/data"
SETS = {
    224: ["dog", "eagle", "giraffe", "horses", "kite", "person", "scream"],
    299: ["dog", "eagle", "horses", "person"],
}
for size, names in SETS.items():
    buf = bytearray()
    for n in names:
        im = Image.open(os.path.join(SRC, n + ".jpg")).convert("RGB").resize((size, size), Image.BILINEAR)
        buf += im.tobytes()
    with gzip.GzipFile(os.path.join(HERE, "inputs_%d.u8.gz" % size), "wb", mtime=0) as f:
        f.write(bytes(buf))
    with open(os.path.join(HERE, "inputs_%d.txt" % size), "w") as f:
        f.write("\n".join(names) + "\n")
