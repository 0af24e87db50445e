"""``torch.xpu``: Intel's GPU is not available (chainrule computes on the CPU)."""

from ._device import unavailable

__all__ = ["device_count", "empty_cache", "is_available", "manual_seed", "manual_seed_all",
           "synchronize"]


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    pass


manual_seed_all = manual_seed


def empty_cache():
    pass


def synchronize(device=None):
    raise unavailable("xpu", "be synchronised")
