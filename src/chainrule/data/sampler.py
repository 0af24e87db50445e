"""Samplers: the order in which a DataLoader visits a map-style dataset's indices.

When ``iter()`` is called, a random sampler takes one seed from its ``generator`` (or from
chainrule's default generator when it is None) and draws the epoch's indices from a private
generator seeded with it, lazily, a chunk at a time, as PyTorch does: so ``num_samples=10**10``
(the "infinite loader" of GPT training scripts) costs no memory, and the order of an epoch is
still a function of the generator's state at the start of that epoch (saving
``generator.get_state()`` then is enough to replay the epoch later), whatever else draws from
the same generator while the epoch runs.
"""

import numbers

import numpy as np

from ..random import numpy_generator
from ..tensor import Tensor

__all__ = [
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
]


_CHUNK = 1 << 14  # indices drawn at a time


def _epoch_generator(generator):
    """A private NumPy generator for one epoch, seeded by one draw from ``generator``."""
    return np.random.default_rng(int(numpy_generator(generator).integers(0, 2**63)))


def _in_chunks(total, draw):
    """Yield ``total`` indices, ``draw(size)`` giving at most ``_CHUNK`` of them at a time."""
    while total > 0:
        size = min(total, _CHUNK)
        yield from draw(size).tolist()
        total -= size


def _permutations(n, total, rng):
    """``total`` indices: whole permutations of ``range(n)``, then the start of one more."""
    for _ in range(total // n if n else 0):
        yield from rng.permutation(n).tolist()
    if n and total % n:
        yield from rng.permutation(n)[: total % n].tolist()


def _check_bool(name, value, owner):
    if not isinstance(value, bool):
        raise TypeError(f"{owner}: {name} should be a boolean value, but got {name}={value!r}")


def _check_positive_int(name, value, owner):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{owner}: {name} should be a positive integer, but got {name}={value!r}")


class Sampler:
    """Base class: subclasses define ``__iter__`` (yielding indices) and usually ``__len__``."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__()")


class SequentialSampler(Sampler):
    """Indices 0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of the indices; with ``replacement=True``, ``num_samples`` draws."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        _check_bool("replacement", replacement, "RandomSampler")
        if num_samples is not None:
            _check_positive_int("num_samples", num_samples, "RandomSampler")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator

    @property
    def num_samples(self):
        # Read each time: the dataset's length may change between epochs.
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, total = len(self.data_source), self.num_samples
        rng = _epoch_generator(self.generator)
        if self.replacement:
            if n == 0:
                return iter(())
            return _in_chunks(total, lambda size: rng.integers(0, n, size=size))
        return _permutations(n, total, rng)

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        order = numpy_generator(self.generator).permutation(len(self.indices))
        return iter([self.indices[i] for i in order.tolist()])

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probability proportional to ``weights``."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        _check_positive_int("num_samples", num_samples, "WeightedRandomSampler")
        _check_bool("replacement", replacement, "WeightedRandomSampler")
        array = weights._data if isinstance(weights, Tensor) else weights
        array = np.asarray(array, dtype=np.float64)
        if array.ndim != 1:
            raise ValueError(
                "WeightedRandomSampler: weights should be a 1-d sequence, but the given weights "
                f"have shape {tuple(array.shape)}"
            )
        if array.size == 0 or np.any(array < 0) or not np.all(np.isfinite(array)) \
                or array.sum() <= 0:
            raise ValueError(
                "WeightedRandomSampler: weights must be finite, non-negative and not all zero"
            )
        if not replacement and num_samples > np.count_nonzero(array):
            raise ValueError(
                f"WeightedRandomSampler: cannot draw {num_samples} samples without replacement "
                f"from {np.count_nonzero(array)} non-zero weights; lower num_samples or set "
                "replacement=True"
            )
        self.weights = array
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        rng = _epoch_generator(self.generator)
        p = self.weights / self.weights.sum()
        if not self.replacement:  # at most len(weights) indices: drawn at once
            order = rng.choice(self.weights.size, size=self.num_samples, replace=False, p=p)
            return iter(order.tolist())
        return _in_chunks(self.num_samples,
                          lambda size: rng.choice(self.weights.size, size=size, p=p))

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of ``batch_size``.

    >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size, drop_last):
        _check_positive_int("batch_size", batch_size, "BatchSampler")
        if not isinstance(drop_last, bool):
            raise ValueError(
                "BatchSampler: drop_last should be a boolean value, but got "
                f"drop_last={drop_last!r}"
            )
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        # iter() on the sampler right away, so random samplers draw their order now.
        indices = iter(self.sampler)
        return self._batches(indices)

    def _batches(self, indices):
        batch = []
        for index in indices:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return -(-len(self.sampler) // self.batch_size)
