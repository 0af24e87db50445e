"""The built-in 8x8 handwritten digits (UCI optical digits, CC BY 4.0), shipped in the package."""

import io

import numpy as np

from ._files import shipped_file
from ._images import ImageDataset

__all__ = ["Digits", "load_digits"]

NUM_SAMPLES = 1797
TEST_SIZE = 360  # the last 360 samples (about 20%): a fixed split, the same on every machine
_SPLITS = ("train", "test", "all")


def _raw_digits():
    with np.load(io.BytesIO(shipped_file("digits.npz"))) as archive:
        return archive["images"], archive["labels"]


def load_digits(split="all"):
    """The digits as arrays: images float32 (N, 1, 8, 8) in [0, 1], labels int64 (N,).

    ``split`` is "all" (1,797 samples), "train" (the first 1,437) or "test" (the last 360).
    """
    images, labels = _select(*_raw_digits(), split)
    return images.astype(np.float32) / np.float32(16), labels.astype(np.int64)


def _select(images, labels, split):
    if split not in _SPLITS:
        raise ValueError(f"digits: split must be one of {_SPLITS}, got {split!r}")
    if split == "train":
        part = slice(0, NUM_SAMPLES - TEST_SIZE)
    elif split == "test":
        part = slice(NUM_SAMPLES - TEST_SIZE, NUM_SAMPLES)
    else:
        part = slice(None)
    return images[part, None], labels[part]


class Digits(ImageDataset):
    """1,797 handwritten digits, 8x8 pixels, shipped with chainrule (no download).

    A sample is ``(image, label)``: a float32 tensor (1, 8, 8) with pixels in [0, 1] (the
    original 0..16 divided by 16) and an int 0..9. The split is fixed: the first 1,437 samples
    train, the last 360 test (both have every class in nearly equal numbers); ``split="all"``
    gives all 1,797 and overrides ``train``.

    Source: UCI Machine Learning Repository, Optical Recognition of Handwritten Digits
    (Alpaydin & Kaynak, 1998), CC BY 4.0.

    >>> loader = DataLoader(Digits(train=True), batch_size=64, shuffle=True)
    """

    classes = [str(digit) for digit in range(10)]

    def __init__(self, train=True, *, split=None, transform=None, target_transform=None):
        split = split if split is not None else ("train" if train else "test")
        images, labels = _select(*_raw_digits(), split)
        super().__init__(np.ascontiguousarray(images), labels, 16, transform, target_transform)
        self.split = split
        self.train = split == "train"
