"""``DistributedSampler``: each rank's disjoint share of a dataset's indices, as PyTorch's.

Every rank draws the same permutation (from ``seed + epoch``), pads it by repeating its start
(or drops its tail, with ``drop_last``) to a multiple of the number of ranks, and takes every
``num_replicas``-th index starting at its rank. So the ranks' shards are disjoint (apart from the
padding), equally long, and together one epoch.
"""

import math
import numbers

import numpy as np

from ..data.sampler import Sampler
from . import comm

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """The indices of ``dataset`` that rank ``rank`` of ``num_replicas`` visits this epoch.

    >>> sampler = DistributedSampler(range(10), num_replicas=2, rank=1, shuffle=False)
    >>> list(sampler)
    [1, 3, 5, 7, 9]

    With ``shuffle=True``, call ``sampler.set_epoch(epoch)`` at the start of every epoch: a new
    shuffle each epoch, the same on every rank.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            if not comm.is_initialized():
                raise RuntimeError(
                    "DistributedSampler: pass num_replicas and rank, or call "
                    "chainrule.distributed.init() first so they can be read from the launch"
                )
            num_replicas = comm.world_size() if num_replicas is None else num_replicas
            rank = comm.rank() if rank is None else rank
        for name, value in (("num_replicas", num_replicas), ("rank", rank), ("seed", seed)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(f"DistributedSampler: {name} should be an integer, got {value!r}")
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be >= 1, got {num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.epoch = 0
        self.drop_last = drop_last
        self.shuffle = shuffle
        self.seed = int(seed)
        n = len(dataset)
        if drop_last and n % self.num_replicas:
            # drop the tail so that every rank gets the same number of real samples
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def epoch_order(self):
        """The whole epoch's order, padded or cut to ``total_size``, before sharding."""
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            order = np.arange(n)
        if not self.drop_last:
            padding = self.total_size - n
            if padding > 0:
                order = np.concatenate([order, np.resize(order, padding)])
        return order[:self.total_size]

    def __iter__(self):
        shard = self.epoch_order()[self.rank:self.total_size:self.num_replicas]
        return iter(shard.tolist())

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Use ``epoch``'s shuffle (call it at the start of every epoch, on every rank)."""
        self.epoch = epoch
