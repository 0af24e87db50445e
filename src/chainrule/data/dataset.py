"""Datasets: the map-style and iterable protocols, and ways to combine and split them."""

import bisect
import itertools
import math
import warnings

import numpy as np

from ..random import default_generator, numpy_generator
from ..tensor import Tensor

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "StackDataset",
    "Subset",
    "ConcatDataset",
    "ChainDataset",
    "random_split",
]

_wrap = Tensor._from_array


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(index)`` and usually ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError(
            f"{type(self).__name__} must define __getitem__(index) to be a map-style Dataset"
        )

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset read as a stream: subclasses define ``__iter__``; no indexing, no sampler."""

    def __iter__(self):
        raise NotImplementedError(
            f"{type(self).__name__} must define __iter__() to be an IterableDataset"
        )

    def __add__(self, other):
        return ChainDataset([self, other])


class StackDataset(Dataset):
    """Samples of several datasets of one length, side by side: ``StackDataset(a, b)[i]`` is
    ``(a[i], b[i])``; with keywords, ``StackDataset(image=a, text=b)[i]`` is a dict.

    >>> from chainrule.utils.data import StackDataset
    >>> StackDataset([1, 2], [3, 4])[1]
    (2, 4)
    >>> StackDataset(image=[1, 2], label=[3, 4])[0]
    {'image': 1, 'label': 3}
    """

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                             "``kwargs``) like input/output, but both types are given.")
        datasets = args or tuple(kwargs.values())
        if not datasets:
            raise ValueError("At least one dataset should be passed")
        lengths = {len(d) for d in datasets}
        if len(lengths) != 1:
            raise ValueError("Size mismatch between datasets")
        self._length = lengths.pop()
        self.datasets = args if args else dict(kwargs)

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {key: dataset[index] for key, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __len__(self):
        return self._length


class TensorDataset(Dataset):
    """Samples are the rows of tensors that share their first dimension.

    >>> ds = TensorDataset(chainrule.randn(100, 3), chainrule.arange(100))
    >>> x, y = ds[0]
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor, e.g. TensorDataset(x, y)")
        for position, tensor in enumerate(tensors):
            if not isinstance(tensor, Tensor):
                raise TypeError(
                    f"TensorDataset takes tensors, argument {position} is a "
                    f"{type(tensor).__name__}; wrap arrays with chainrule.from_numpy(array)"
                )
            if tensor.ndim == 0:
                raise ValueError(
                    f"TensorDataset: argument {position} is a 0-d tensor; every tensor needs a "
                    "first dimension that indexes the samples"
                )
        sizes = [tensor.shape[0] for tensor in tensors]
        if len(set(sizes)) != 1:
            shapes = ", ".join(str(tuple(tensor.shape)) for tensor in tensors)
            raise ValueError(
                f"TensorDataset: every tensor must have the same first dimension (the number of "
                f"samples), got shapes {shapes}"
            )
        self.tensors = tensors

    def __getitem__(self, index):
        # Indexing the arrays is much faster than going through the graph; tensors that require
        # grad keep theirs by indexing as tensors.
        return tuple(
            tensor[index] if tensor.requires_grad else _wrap(np.asarray(tensor._data[index]))
            for tensor in self.tensors
        )

    def __len__(self):
        return self.tensors[0].shape[0]

    def _collated_batch(self, indices):
        """``default_collate([self[i] for i in indices])`` in one indexing per tensor, or None.

        The DataLoader's fast path; None when a subclass changes ``__getitem__`` or a tensor
        requires grad, since then per-sample loading is the only faithful answer.
        """
        if type(self).__getitem__ is not TensorDataset.__getitem__:
            return None
        if any(tensor.requires_grad for tensor in self.tensors):
            return None
        index_array = np.asarray(indices, dtype=np.int64)
        return [_wrap(tensor._data[index_array]) for tensor in self.tensors]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices):
        inner = [self.indices[i] for i in indices]
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__(inner)
        return [self.dataset[i] for i in inner]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several map-style datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for dataset in self.datasets:
            if isinstance(dataset, IterableDataset):
                raise TypeError(
                    "ConcatDataset does not support IterableDataset; use ChainDataset to "
                    "chain iterable datasets"
                )
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise IndexError(
                    f"index {index} is out of range for a ConcatDataset of length {len(self)}"
                )
            index += len(self)
        if index >= len(self):
            raise IndexError(
                f"index {index} is out of range for a ConcatDataset of length {len(self)}"
            )
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - start]


class ChainDataset(IterableDataset):
    """Several iterable datasets read one after the other."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise TypeError("ChainDataset only chains IterableDataset instances")
            yield from dataset

    def __len__(self):
        return sum(len(dataset) for dataset in self.datasets)


def random_split(dataset, lengths, generator=default_generator):
    """Split ``dataset`` into non-overlapping random subsets of the given lengths.

    ``lengths`` are counts summing to ``len(dataset)``, or fractions summing to 1 (each subset
    gets ``floor(fraction * n)`` and the remainder is dealt out one by one from the first).

    >>> train, val = random_split(range(10), [0.8, 0.2], generator=chainrule.Generator().manual_seed(0))
    """  # noqa: E501
    total = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for position, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"random_split: fraction at index {position} is not in [0, 1]")
            counts.append(int(math.floor(total * fraction)))
        for step in range(total - sum(counts)):
            counts[step % len(counts)] += 1
        for position, count in enumerate(counts):
            if count == 0:
                warnings.warn(
                    f"random_split: length of split at index {position} is 0; this subset "
                    "will be empty",
                    stacklevel=2,
                )
        lengths = counts
    if any(int(n) != n or n < 0 for n in lengths):
        raise ValueError(
            f"random_split: lengths must be non-negative counts or fractions summing to 1, "
            f"got {lengths}"
        )
    lengths = [int(n) for n in lengths]
    if sum(lengths) != total:
        raise ValueError(
            f"random_split: the lengths {lengths} sum to {sum(lengths)}, but the dataset has "
            f"{total} samples; pass counts summing to {total} or fractions summing to 1"
        )
    order = numpy_generator(generator).permutation(total).tolist()
    offsets = itertools.accumulate(lengths)
    return [
        Subset(dataset, order[end - length:end])
        for end, length in zip(offsets, lengths)
    ]
