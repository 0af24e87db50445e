"""Data-parallel training over MPI (mpi4py), as ``torch.distributed``: one process per rank,
launched with ``mpiexec -n N``. Importing this package does not import mpi4py; the first call
that needs it does, and says how to install it when it is missing (``pip install
'chainrule[mpi]'``)."""

from . import comm, ddp, sampler, training
from .comm import (
    ReduceOp,
    all_reduce,
    barrier,
    broadcast,
    destroy_process_group,
    get_rank,
    get_world_size,
    init,
    init_process_group,
    is_available,
    is_initialized,
    rank,
    world_size,
)
from .ddp import DistributedDataParallel
from .sampler import DistributedSampler
from .training import TrainingContext, launched_world_size, setup_for_training

# torch.nn.parallel.DistributedDataParallel is this one (nn sits below this layer, so the
# attachment is made from here).
from .._module_paths import alias_submodules
from ..nn import parallel as _nn_parallel

_nn_parallel.DistributedDataParallel = DistributedDataParallel
alias_submodules(_nn_parallel.__name__, distributed=ddp)
