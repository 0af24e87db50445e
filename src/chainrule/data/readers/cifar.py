"""CIFAR-10, binary version: 3073-byte records (one label byte, then 32x32 R, G, B planes)."""

import numpy as np

from ._files import find_files, read_bytes
from ._images import ImageDataset

__all__ = ["CIFAR10", "read_cifar_batch"]

_RECORD = 1 + 3 * 32 * 32


def read_cifar_batch(path):
    """(images uint8 (N, 3, 32, 32), labels uint8 (N,)) from one CIFAR-10 binary batch file."""
    data = read_bytes(path)
    records, extra = divmod(len(data), _RECORD)
    if records == 0 or extra:
        raise ValueError(
            f"{path}: truncated or corrupt: {len(data)} bytes is not a whole, non-zero number "
            f"of {_RECORD}-byte records (1 label byte + 3072 pixel bytes); download it again"
        )
    table = np.frombuffer(data, dtype=np.uint8).reshape(records, _RECORD)
    labels = table[:, 0]
    if labels.max() > 9:
        bad = int(np.argmax(labels > 9))
        raise ValueError(
            f"{path}: record {bad} has label {labels[bad]}, but CIFAR-10 labels are 0..9; "
            "is this the CIFAR-10 binary version (not CIFAR-100 or the Python pickles)?"
        )
    return table[:, 1:].reshape(records, 3, 32, 32), labels


class CIFAR10(ImageDataset):
    """CIFAR-10 from the binary files in ``root`` (or ``root/cifar-10-batches-bin``).

    Training reads ``data_batch_1.bin`` .. ``data_batch_5.bin``, testing ``test_batch.bin``.
    A sample is ``(image, label)``: a float32 tensor (3, 32, 32) in [0, 1] and an int.
    ``data`` is uint8 (N, 3, 32, 32), channels first (torchvision keeps (N, 32, 32, 3)).
    """

    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck"]
    _source = ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz (the binary version; "
               "extract it)")

    def __init__(self, root, train=True, transform=None, target_transform=None):
        names = ([f"data_batch_{i}.bin" for i in range(1, 6)] if train else ["test_batch.bin"])
        paths = find_files(root, names, ["cifar-10-batches-bin"], "CIFAR10", self._source)
        batches = [read_cifar_batch(path) for path in paths]
        images = np.concatenate([images for images, _ in batches])
        labels = np.concatenate([labels for _, labels in batches])
        super().__init__(images, labels, 255, transform, target_transform)
        self.root = root
        self.train = train
