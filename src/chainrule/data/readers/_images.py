"""The shared shape of the image readers: uint8 images in memory, float tensors out."""

import numpy as np

from ...tensor import Tensor
from ..dataset import Dataset

_wrap = Tensor._from_array


class ImageDataset(Dataset):
    """Labelled images kept as integers; a sample is ``(image, label)``.

    ``image`` is a float32 tensor of shape (C, H, W) scaled to [0, 1] (pixel / ``max_value``),
    ``label`` a Python int; ``transform`` and ``target_transform`` are applied to them when
    given. ``data`` holds the raw pixels as a uint8 tensor (N, C, H, W) and ``targets`` the
    labels as int64.
    """

    def __init__(self, images, labels, max_value, transform=None, target_transform=None):
        self._images = images  # uint8 (N, C, H, W)
        self._labels = labels.astype(np.int64)
        self._scale = np.float32(max_value)
        self.transform = transform
        self.target_transform = target_transform

    @property
    def data(self):
        return _wrap(self._images)

    @property
    def targets(self):
        return _wrap(self._labels)

    def _to_float(self, pixels):
        return pixels.astype(np.float32) / self._scale

    def __getitem__(self, index):
        image = _wrap(self._to_float(self._images[index]))
        label = int(self._labels[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def __len__(self):
        return len(self._labels)

    def _collated_batch(self, indices):
        """The DataLoader's fast path: the batch default_collate would build, or None."""
        if self.transform is not None or self.target_transform is not None:
            return None
        index_array = np.asarray(indices, dtype=np.int64)
        return [_wrap(self._to_float(self._images[index_array])), _wrap(self._labels[index_array])]

    def __repr__(self):
        shape = tuple(self._images.shape[1:])
        return f"{type(self).__name__}({len(self)} images of shape {shape})"
