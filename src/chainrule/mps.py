"""``torch.mps``: Apple's GPU is not available (chainrule computes on the CPU); as on PyTorch
without MPS, seeding is accepted and the other calls raise."""

from ._device import unavailable

__all__ = ["current_allocated_memory", "device_count", "empty_cache", "is_available", "manual_seed",
           "seed", "synchronize"]


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    pass


def seed():
    pass


def synchronize():
    raise unavailable("mps", "be synchronised")


def empty_cache():
    raise unavailable("mps", "hold memory")


def current_allocated_memory():
    raise unavailable("mps", "hold memory")
