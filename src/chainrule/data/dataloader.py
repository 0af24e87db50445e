"""DataLoader: batches from a dataset, in a sampler's order, collated into tensors."""

import itertools
import warnings

from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info"]

_END = object()  # marks the end of an iterable dataset


def get_worker_info():
    """Always None: chainrule's DataLoader loads in the calling process, never in workers."""
    return None


class DataLoader:
    """Iterate over ``dataset`` in batches, as ``torch.utils.data.DataLoader`` does.

    Loading runs in the calling process: ``num_workers``, ``prefetch_factor``,
    ``persistent_workers``, ``timeout`` and ``worker_init_fn`` are accepted and validated as in
    PyTorch, but no worker is started (so ``worker_init_fn`` is never called), and
    ``pin_memory=True`` warns at each ``iter()`` as PyTorch does without an accelerator, and
    pins nothing. A ``TensorDataset`` (and the built-in readers) with the
    default collate function is batched by indexing its arrays once per batch, which gives the
    same tensors as collating sample by sample.

    ``shuffle=True`` draws each epoch's order from ``generator`` when ``iter()`` is called, or
    from chainrule's default generator when ``generator`` is None (so ``chainrule.manual_seed``
    makes it reproducible). To resume an epoch in the middle after a restart (with no
    ``generator``, use ``chainrule.get_rng_state()`` and ``chainrule.set_rng_state(state)``)::

        state = generator.get_state()        # before `for batch in loader`, saved in the checkpoint
        ...                                  # train; save the number of batches done, `done`
        generator.set_state(state)           # after the restart
        for batch in loader.iter_from(done): # the rest of that same epoch
            ...

    >>> from chainrule.data import TensorDataset
    >>> x, y = chainrule.randn(100, 3), chainrule.arange(100)
    >>> loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    >>> [tuple(inputs.shape) for inputs, targets in loader]
    [(32, 3), (32, 3), (32, 3), (4, 3)]
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers,
                              multiprocessing_context)
        if isinstance(dataset, IterableDataset):
            for name, value in (("shuffle", shuffle), ("sampler", sampler),
                                ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(
                        f"DataLoader with IterableDataset: expected unspecified {name} option, "
                        f"but got {name}={value!r}; an IterableDataset decides its own order"
                    )
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler option is mutually exclusive with batch_size, "
                    "shuffle, sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError(
                "DataLoader: batch_size=None option disables auto-batching and is mutually "
                "exclusive with drop_last"
            )
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")

        if not isinstance(dataset, IterableDataset):
            if sampler is None:
                sampler = (RandomSampler(dataset, generator=generator) if shuffle
                           else SequentialSampler(dataset))
            if batch_size is not None and batch_sampler is None:
                batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if self._auto_collation else default_convert)
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order

    @property
    def _auto_collation(self):
        if isinstance(self.dataset, IterableDataset):
            return self.batch_size is not None
        return self.batch_sampler is not None

    def __iter__(self):
        return self.iter_from(0)

    def iter_from(self, batch_index):
        """Iterate this epoch from batch ``batch_index`` on, as if the earlier ones were consumed.

        For a map-style dataset the skipped batches are not loaded: only their indices are
        drawn. An iterable dataset is read through the skipped samples.
        """
        if batch_index < 0:
            raise ValueError(f"iter_from: batch_index must be >= 0, got {batch_index}")
        if self.pin_memory:  # PyTorch's words, without an accelerator
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", UserWarning, stacklevel=3)
        if isinstance(self.dataset, IterableDataset):
            return _IterableLoaderIter(self, batch_index)
        return _MapLoaderIter(self, batch_index)

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            samples = len(self.dataset)
            if self.batch_size is None:
                return samples
            if self.drop_last:
                return samples // self.batch_size
            return -(-samples // self.batch_size)
        return len(self.batch_sampler if self._auto_collation else self.sampler)


def _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers,
                          multiprocessing_context):
    if num_workers < 0:
        raise ValueError(
            "DataLoader: num_workers option should be non-negative; use num_workers=0 to "
            "disable multiprocessing"
        )
    if timeout < 0:
        raise ValueError("DataLoader: timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError(
            "DataLoader: prefetch_factor option can only be given with num_workers > 0; "
            "otherwise set prefetch_factor to None"
        )
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError("DataLoader: prefetch_factor option should be non-negative")
    if persistent_workers and num_workers == 0:
        raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
    if multiprocessing_context is not None and num_workers == 0:
        raise ValueError(
            "DataLoader: multiprocessing_context can only be used with num_workers > 0"
        )


class _MapLoaderIter:
    """One epoch over a map-style dataset: indices from the (batch) sampler, then fetch."""

    def __init__(self, loader, skip):
        self._loader = loader
        self._dataset = loader.dataset
        self._auto_collation = loader._auto_collation
        self._collate_fn = loader.collate_fn
        self._length = len(loader)
        # iter() now, so a random sampler draws the whole epoch's order at this point.
        index_source = loader.batch_sampler if self._auto_collation else loader.sampler
        self._indices = itertools.islice(iter(index_source), skip, None)
        self._num_yielded = skip
        collated = getattr(self._dataset, "_collated_batch", None)
        self._fast_batch = collated if self._collate_fn is default_collate else None
        getitems = getattr(self._dataset, "__getitems__", None)
        self._getitems = getitems if callable(getitems) else None

    def __iter__(self):
        return self

    def __len__(self):
        return self._length

    def __next__(self):
        indices = next(self._indices)
        self._num_yielded += 1
        if not self._auto_collation:
            return self._collate_fn(self._dataset[indices])
        if self._fast_batch is not None:
            batch = self._fast_batch(indices)
            if batch is not None:
                return batch
        if self._getitems is not None:
            samples = self._getitems(indices)
        else:
            samples = [self._dataset[index] for index in indices]
        return self._collate_fn(samples)


class _IterableLoaderIter:
    """One epoch over an IterableDataset: take ``batch_size`` samples at a time."""

    def __init__(self, loader, skip):
        self._loader = loader
        self._collate_fn = loader.collate_fn
        self._batch_size = loader.batch_size
        self._drop_last = loader.drop_last
        self._samples = iter(loader.dataset)
        self._num_yielded = 0
        for _ in range(skip):
            if self._take() is None:
                break

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def _take(self):
        """The next batch's samples (a list of one when not batching), or None at the end."""
        if self._batch_size is None:
            sample = next(self._samples, _END)
            return None if sample is _END else [sample]
        samples = list(itertools.islice(self._samples, self._batch_size))
        if not samples or (self._drop_last and len(samples) < self._batch_size):
            return None
        return samples

    def __next__(self):
        samples = self._take()
        if samples is None:
            raise StopIteration
        self._num_yielded += 1
        if self._batch_size is None:
            return self._collate_fn(samples[0])
        return self._collate_fn(samples)
