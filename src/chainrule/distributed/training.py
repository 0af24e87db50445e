"""What a training loop needs to run unchanged under ``mpiexec -n N``.

The loop keeps its meaning of a step: one *global* batch of ``batch_size`` samples. Each rank
trains on its slice of that batch (``shard_batch``) and DistributedDataParallel averages the
gradients, weighted so that the result is exactly the gradient of the whole batch's mean loss.
So the run is the same run (up to rounding) for any number of ranks, and a checkpoint written by
rank 0 -- model, optimizer, schedule, RNG state and position, all identical on every rank --
resumes with a different number of ranks.
"""

import os

import numpy as np

from . import comm
from .ddp import DistributedDataParallel

__all__ = ["TrainingContext", "launched_world_size", "setup_for_training"]

# What the common launchers put in each rank's environment: MPICH/Hydra, Open MPI, Intel MPI.
_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS")


def launched_world_size():
    """The number of ranks mpiexec started, read from the environment (1 when run alone)."""
    for name in _SIZE_VARIABLES:
        value = os.environ.get(name)
        if value and value.isdigit():
            return int(value)
    return 1


def setup_for_training(timeout=None):
    """A ``TrainingContext``: distributed under ``mpiexec -n N`` with N > 1 (mpi4py required, with
    an error that says how to install it), a world of one otherwise (mpi4py not needed)."""
    if launched_world_size() > 1 or comm.is_initialized():
        comm.init(timeout)
        return TrainingContext(comm.rank(), comm.world_size())
    return TrainingContext(0, 1)


class TrainingContext:
    """Rank, world size and the few collective steps a trainer takes."""

    def __init__(self, rank, world_size):
        self.rank, self.world_size = rank, world_size

    @property
    def distributed(self):
        return self.world_size > 1

    @property
    def is_main(self):
        """Only rank 0 prints, logs and writes checkpoints."""
        return self.rank == 0

    def wrap_model(self, model, **options):
        """``DistributedDataParallel(model)`` when distributed; ``model`` itself otherwise."""
        return DistributedDataParallel(model, **options) if self.distributed else model

    def shard_batch(self, *tensors):
        """This rank's rows of a global batch, and the loss weight that makes the averaged
        gradient the whole batch's: ``(loss * weight).backward()``.

        Rows are split as evenly as possible (``np.array_split``); a rank with ``n_r`` of ``B``
        rows gets weight ``N * n_r / B``, so ``mean_r(weight_r * grad_r) = grad(mean loss)``."""
        total = len(tensors[0])
        if any(len(t) != total for t in tensors):
            raise ValueError("shard_batch: the tensors of one batch must have the same length")
        if total < self.world_size:
            raise ValueError(
                f"a batch of {total} samples cannot be split over {self.world_size} ranks; use a "
                f"batch size of at least {self.world_size} (or fewer ranks)"
            )
        base, extra = divmod(total, self.world_size)  # the first `extra` ranks get one more row
        start = self.rank * base + min(self.rank, extra)
        stop = start + base + (self.rank < extra)
        weight = self.world_size * (stop - start) / total
        return tuple(t[start:stop] for t in tensors) + (weight,)

    def average(self, values, count=1):
        """Average a dict of numbers over the ranks, each rank's weighted by ``count`` (e.g. its
        number of samples); every rank gets the same result."""
        if not self.distributed:
            return dict(values)
        keys = sorted(values)
        sums = np.array([float(values[k]) * count for k in keys] + [float(count)])
        MPI = comm.mpi()
        comm.wait(MPI.COMM_WORLD.Iallreduce(MPI.IN_PLACE, sums, op=MPI.SUM),
                  "the other ranks' metrics")
        return {k: float(s / sums[-1]) for k, s in zip(keys, sums[:-1])}

    def broadcast_object(self, value):
        """Rank 0's ``value`` on every rank (a decision all ranks must share)."""
        if not self.distributed:
            return value
        return comm.mpi().COMM_WORLD.bcast(value, root=0)

    def barrier(self):
        """Wait for every rank (e.g. before others read the checkpoint rank 0 wrote)."""
        if self.distributed:
            comm.barrier()
