"""``torch.nn.attention``: choosing the kernel behind ``scaled_dot_product_attention``. chainrule
has one (NumPy on the CPU), which every backend choice runs; the choice is accepted and
remembered, as on a machine where PyTorch falls back to its math kernel."""

import contextlib
import enum

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS"]

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.IntEnum):
    """The attention kernels PyTorch can choose between."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


_chosen = [list(SDPBackend)[1:]]


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """``with sdpa_kernel(SDPBackend.MATH):`` restricts the kernels inside the block."""
    chosen = [backends] if isinstance(backends, SDPBackend) else list(backends)
    previous = _chosen[0]
    _chosen[0] = chosen
    try:
        yield
    finally:
        _chosen[0] = previous
