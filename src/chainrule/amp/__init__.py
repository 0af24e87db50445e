"""``torch.amp``: autocast regions and the gradient scaler, as on a CPU-only PyTorch.

chainrule computes every op in the dtype of its inputs: inside ``autocast(device_type="cpu")``
the region is recorded (``is_autocast_enabled("cpu")`` is True, ``get_autocast_dtype`` answers)
but ops do not drop to bfloat16 or float16, so results are those of full precision. An autocast
for a device chainrule has not (``"cuda"``) warns and disables itself, exactly as PyTorch does
on a machine without that device."""

from .autocast_mode import (
    autocast,
    custom_bwd,
    custom_fwd,
    get_autocast_dtype,
    is_autocast_available,
    is_autocast_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
)
from .grad_scaler import GradScaler

__all__ = [
    "GradScaler",
    "autocast",
    "custom_bwd",
    "custom_fwd",
    "get_autocast_dtype",
    "is_autocast_available",
    "is_autocast_enabled",
    "set_autocast_dtype",
    "set_autocast_enabled",
]
