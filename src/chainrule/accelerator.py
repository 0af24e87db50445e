"""``torch.accelerator``: there is none (chainrule computes on the CPU), as on a CPU-only
PyTorch build.

>>> chainrule.accelerator.is_available(), chainrule.accelerator.current_accelerator()
(False, None)
"""

from ._device import unavailable

__all__ = ["current_accelerator", "current_device_idx", "current_device_index", "device_count",
           "is_available", "set_device_idx", "set_device_index", "synchronize"]


def is_available():
    return False


def device_count():
    return 0


def current_accelerator(check_available=False):
    return None


def _none(action):
    return unavailable("accelerator", action)


def current_device_index():
    raise _none("be the current device")


def set_device_index(device):
    raise _none("be selected")


def synchronize(device=None):
    raise _none("be synchronised")


current_device_idx, set_device_idx = current_device_index, set_device_index
