"""Write the built-in digits as PNG files, one folder per class, for `chainrule train --data
images` (the image-folder reader's end-to-end check on real data).

    python bench/digits_png.py /tmp/digits_png
    chainrule train --data images --data-path /tmp/digits_png
"""

import sys
from pathlib import Path

import numpy as np
from PIL import Image

from chainrule.data import load_digits


def write_digits(root):
    images, labels = load_digits("all")
    root = Path(root)
    for index, (image, label) in enumerate(zip(images, labels)):
        folder = root / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        pixels = np.round(image[0] * 255).astype(np.uint8)  # 0..16 scaled to 0..255
        Image.fromarray(pixels, mode="L").save(folder / f"{index:04d}.png")
    return len(images)


if __name__ == "__main__":
    print(f"wrote {write_digits(sys.argv[1] if len(sys.argv) > 1 else 'digits_png')} PNG files")
