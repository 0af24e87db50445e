"""``torch.cuda`` as a CPU-only PyTorch build answers it: no device, nothing to seed, no memory
in use. Calls that need a GPU to mean anything (``synchronize``, ``current_device``,
``get_device_name``) raise ``DeviceUnavailableError``, which says that chainrule computes on the
CPU; PyTorch raises there too (an AssertionError, which this error also is).

>>> chainrule.cuda.is_available(), chainrule.cuda.device_count()
(False, 0)
"""

from collections import OrderedDict

from .._device import DeviceUnavailableError, unavailable
from .._legacy import cuda_typed_tensors
from . import amp

# torch.cuda.FloatTensor and the rest: nothing is one, and making one raises
globals().update(cuda_typed_tensors())

__all__ = [
    "DeviceUnavailableError", "Event", "Stream", "amp", "current_device", "current_stream",
    "default_stream", "device", "device_count", "device_of", "empty_cache", "get_arch_list",
    "get_device_capability", "get_device_name", "get_device_properties", "get_rng_state",
    "get_rng_state_all", "init", "initial_seed", "ipc_collect", "is_available",
    "is_bf16_supported", "is_initialized", "manual_seed", "manual_seed_all",
    "max_memory_allocated", "max_memory_cached", "max_memory_reserved", "mem_get_info",
    "memory_allocated", "memory_cached", "memory_reserved", "memory_stats", "memory_summary",
    "reset_accumulated_memory_stats", "reset_max_memory_allocated", "reset_peak_memory_stats",
    "seed", "seed_all", "set_device", "set_rng_state", "set_rng_state_all", "stream",
    "synchronize",
]


def _no_cuda(action="run CUDA calls"):
    return unavailable("cuda", action)


# -- what exists ----------------------------------------------------------------------------
def is_available():
    return False


def device_count():
    return 0


def is_initialized():
    return False


def is_bf16_supported(including_emulation=True):
    return False


def get_arch_list():
    return []


def init():
    raise _no_cuda("be initialised")


# -- seeding: there is no CUDA generator, so nothing to seed (PyTorch does nothing either) -----
def manual_seed(seed):
    pass


def manual_seed_all(seed):
    pass


def seed():
    pass


def seed_all():
    pass


def get_rng_state_all():
    return []


def set_rng_state_all(new_states):
    pass


def set_rng_state(new_state, device="cuda"):
    pass


def get_rng_state(device="cuda"):
    raise _no_cuda("hold a random generator")


def initial_seed():
    raise _no_cuda("hold a random generator")


# -- memory: none in use --------------------------------------------------------------------
def empty_cache():
    pass


def memory_allocated(device=None):
    return 0


def max_memory_allocated(device=None):
    return 0


def memory_reserved(device=None):
    return 0


def max_memory_reserved(device=None):
    return 0


memory_cached, max_memory_cached = memory_reserved, max_memory_reserved


def memory_stats(device=None):
    return OrderedDict()


def reset_peak_memory_stats(device=None):
    pass


reset_max_memory_allocated = reset_accumulated_memory_stats = reset_peak_memory_stats


def memory_summary(device=None, abbreviated=False):
    raise _no_cuda("report memory")


def mem_get_info(device=None):
    raise _no_cuda("report memory")


def ipc_collect():
    raise _no_cuda("share memory")


# -- devices and streams: a GPU is needed for these to mean anything -------------------------
def synchronize(device=None):
    raise _no_cuda("be synchronised")


def current_device():
    raise _no_cuda("be the current device")


def set_device(device):
    raise _no_cuda("be selected")


def get_device_name(device=None):
    raise _no_cuda("be queried")


def get_device_properties(device=None):
    raise _no_cuda("be queried")


def get_device_capability(device=None):
    raise _no_cuda("be queried")


def current_stream(device=None):
    raise _no_cuda("hold streams")


def default_stream(device=None):
    raise _no_cuda("hold streams")


class Stream:
    def __init__(self, device=None, priority=0, **kwargs):
        raise _no_cuda("hold streams")


class Event:
    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        raise _no_cuda("record events")


class device:  # noqa: N801 - PyTorch's spelling
    """``with torch.cuda.device(i):`` selects GPU ``i``; only ``-1`` or None (no device) work,
    as on a CPU-only PyTorch."""

    def __init__(self, device):
        index = getattr(device, "index", device)
        if index is not None and not (isinstance(index, int) and index < 0):
            raise _no_cuda("be selected")

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False


class device_of(device):  # noqa: N801 - PyTorch's spelling
    """``with torch.cuda.device_of(tensor):``: a CPU tensor selects no device."""

    def __init__(self, obj):
        super().__init__(None)


class stream:  # noqa: N801 - PyTorch's spelling
    """``with torch.cuda.stream(s):``; with None it does nothing, as in PyTorch."""

    def __init__(self, stream):
        if stream is not None:
            raise _no_cuda("hold streams")

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False
