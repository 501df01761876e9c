"""Write the JPEG fixtures of src/data/images.test.ts and PIL's decoding of them.

Usage: python3 scripts/reference/jpeg_golden.py [OUT_DIR] (default test/fixtures/jpeg). Needs numpy
and PIL (Debian: python3-numpy python3-pil; PIL decodes JPEGs with libjpeg-turbo).

Writes OUT_DIR/images/{a..e}.jpg (24 x 16 pixels, a width and height that are not multiples of
the 16-pixel chroma blocks): baseline 4:2:0 at quality 75, 4:2:2 at 95, 4:4:4 at 90, progressive
4:2:0 at 85, and a greyscale one; OUT_DIR/golden.npy, uint8 [5, 16, 24, 3], the pixels of
`Image.open(f).convert('RGB')` of each, in file order (what pytorch-fid and torch-fidelity read);
and OUT_DIR/cmyk.jpg, a CMYK JPEG, which Refinery refuses. It also checks that PIL decodes a.jpg
with an extraneous byte before its end marker (a libjpeg warning) to a.jpg's pixels. The pictures are smooth gradients
with noise, so the chroma upsampling and the IDCT both show in the pixels.
"""
import os
import sys

import numpy as np
from PIL import Image

out = sys.argv[1] if len(sys.argv) > 1 else "test/fixtures/jpeg"
os.makedirs(f"{out}/images", exist_ok=True)
rng = np.random.default_rng(7)
h, w = 16, 24
yy, xx = np.mgrid[0:h, 0:w]


def picture(k):
    r = 128 + 90 * np.sin(xx / 4 + k) + rng.normal(0, 12, (h, w))
    g = 128 + 90 * np.cos(yy / 3 - k) + rng.normal(0, 12, (h, w))
    b = (xx * 9 + yy * 5 + 40 * k) % 256 + rng.normal(0, 12, (h, w))
    return Image.fromarray(np.clip(np.stack([r, g, b], -1), 0, 255).astype(np.uint8))


settings = [
    ("a", dict(quality=75, subsampling=2)),
    ("b", dict(quality=95, subsampling=1)),
    ("c", dict(quality=90, subsampling=0)),
    ("d", dict(quality=85, subsampling=2, progressive=True)),
]
for k, (name, kw) in enumerate(settings):
    picture(k).save(f"{out}/images/{name}.jpg", **kw)
picture(4).convert("L").save(f"{out}/images/e.jpg", quality=85)
golden = np.stack([np.asarray(Image.open(f"{out}/images/{n}.jpg").convert("RGB")) for n in "abcde"])
np.save(f"{out}/golden.npy", golden)
picture(5).convert("CMYK").save(f"{out}/cmyk.jpg", quality=90)
# PIL lets libjpeg's warnings other than a truncated file pass: a.jpg with one extraneous byte
# before its end marker decodes to a.jpg's pixels (the test builds that file from a.jpg).
data = open(f"{out}/images/a.jpg", "rb").read()
assert data[-2:] == b"\xff\xd9"
with open(f"{out}/extraneous.tmp.jpg", "wb") as f:
    f.write(data[:-2] + b"\x12" + data[-2:])
assert (np.asarray(Image.open(f"{out}/extraneous.tmp.jpg").convert("RGB")) == golden[0]).all()
os.remove(f"{out}/extraneous.tmp.jpg")
print(golden.shape, golden.dtype)
