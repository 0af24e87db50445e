"""``torch.nn.parallel``: ``DataParallel`` as on a CPU-only PyTorch (no GPU to spread over, so
the wrapped module runs as it is) and ``DistributedDataParallel``, which is chainrule's own over
MPI: it lives in :mod:`chainrule.distributed.ddp` (the layer that owns MPI), and that package
attaches it here, with ``chainrule.nn.parallel.distributed`` as its module path."""

from .data_parallel import DataParallel, data_parallel

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]

