"""MNIST and Fashion-MNIST from their IDX files (raw or .gz) in a local directory."""

import struct

import numpy as np

from ._files import find_files, read_bytes
from ._images import ImageDataset

__all__ = ["read_idx", "MNIST", "FashionMNIST"]

# IDX type codes (third byte of the magic number) and the big-endian dtypes they name.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """The array in an IDX file (raw or gzipped), checking its magic number and length."""
    data = read_bytes(path)
    if len(data) < 4:
        raise ValueError(f"{path}: truncated: {len(data)} bytes, too short for an IDX header")
    if data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise ValueError(
            f"{path}: not an IDX file: magic number 0x{data[:4].hex()}, expected two zero "
            "bytes, a type code (0x08 for unsigned bytes) and the number of dimensions, "
            "e.g. 0x00000803 for images, 0x00000801 for labels"
        )
    dtype = np.dtype(_IDX_TYPES[data[2]])
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(
            f"{path}: truncated: the header needs {header} bytes for {ndim} dimensions, the "
            f"file has {len(data)}"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "corrupt (extra bytes at the end)"
        raise ValueError(
            f"{path}: {problem}: the header says shape {shape}, {expected} bytes in all, but "
            f"the file has {len(data)} bytes; download it again"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # native byte order, and a writable copy


def _read_typed(path, ndim, what):
    array = read_idx(path)
    if array.dtype != np.uint8 or array.ndim != ndim:
        raise ValueError(
            f"{path}: expected {what} (unsigned bytes, {ndim} dimensions, magic number "
            f"0x000008{ndim:02x}), found {array.dtype} with shape {array.shape}"
        )
    return array


class MNIST(ImageDataset):
    """The MNIST handwritten digits, read from the four IDX files in ``root``.

    Files may sit in ``root`` itself or in ``root/MNIST/raw`` (torchvision's layout), raw or
    gzipped. A sample is ``(image, label)``: a float32 tensor (1, 28, 28) in [0, 1] and an int.
    ``data`` is uint8 (N, 1, 28, 28), with a channel axis (torchvision's is (N, 28, 28)).
    """

    classes = [f"{digit} - {name}" for digit, name in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])]
    _folder = "MNIST"
    _source = ("http://yann.lecun.com/exdb/mnist/ (or the mirror "
               "https://ossci-datasets.s3.amazonaws.com/mnist/)")

    def __init__(self, root, train=True, transform=None, target_transform=None):
        prefix = "train" if train else "t10k"
        names = [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]
        folders = [f"{self._folder}/raw", self._folder]
        image_path, label_path = find_files(root, names, folders, type(self).__name__,
                                            self._source)
        images = _read_typed(image_path, 3, "images")
        labels = _read_typed(label_path, 1, "labels")
        if images.shape[1:] != (28, 28):
            raise ValueError(f"{image_path}: expected 28x28 images, found {images.shape[1:]}")
        if len(images) != len(labels):
            raise ValueError(
                f"{type(self).__name__}: {image_path} holds {len(images)} images but "
                f"{label_path} holds {len(labels)} labels; the two files must match"
            )
        if labels.size and labels.max() >= len(self.classes):
            raise ValueError(
                f"{label_path}: label {labels.max()} is out of range 0..{len(self.classes) - 1}"
            )
        super().__init__(images[:, None], labels, 255, transform, target_transform)
        self.root = root
        self.train = train


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: MNIST's file format and sizes, ten kinds of clothing."""

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
    _folder = "FashionMNIST"
    _source = "https://github.com/zalandoresearch/fashion-mnist"
