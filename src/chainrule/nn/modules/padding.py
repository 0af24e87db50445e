"""Padding layers: reflection, replication, circular, zero and constant padding of the last
1, 2 or 3 dims, each a thin module around ``F.pad``."""

from .. import functional as F
from .module import Module

__all__ = [
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
    "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d",
    "CircularPad1d", "CircularPad2d", "CircularPad3d",
    "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
]


def _sides(padding, dims):
    """An int pads every side; otherwise (left, right[, top, bottom[, front, back]])."""
    if isinstance(padding, int):
        return (padding,) * (2 * dims)
    padding = tuple(padding)
    if len(padding) != 2 * dims:
        raise ValueError(f"padding must be an int or a tuple of {2 * dims} ints "
                         f"(two per padded dim), got {padding!r}")
    return padding


class _PadNd(Module):
    """Pads the last ``_dims`` dims with F.pad's ``_mode``."""

    _mode = "constant"
    _dims = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _sides(padding, self._dims)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _CircularPadNd(_PadNd):
    _mode = "circular"

    def forward(self, input):
        if input.dim() not in (self._dims + 1, self._dims + 2):
            raise ValueError(f"expected {self._dims + 1}D or {self._dims + 2}D input (got "
                             f"{input.dim()}D input)")
        return super().forward(input)


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Pad (N, C, W) or (C, W) with the reflection of the input (edge not repeated)."""
    _mode = "reflect"


class ReflectionPad2d(ReflectionPad1d):
    """Pad (N, C, H, W) or (C, H, W) with the reflection of the input."""
    _dims = 2


class ReflectionPad3d(ReflectionPad1d):
    """Pad (N, C, D, H, W) or (C, D, H, W) with the reflection of the input."""
    _dims = 3


class ReplicationPad1d(_PadNd):
    """Pad (N, C, W) or (C, W) by repeating the edge values."""
    _mode = "replicate"


class ReplicationPad2d(ReplicationPad1d):
    """Pad (N, C, H, W) or (C, H, W) by repeating the edge values."""
    _dims = 2


class ReplicationPad3d(ReplicationPad1d):
    """Pad (N, C, D, H, W) or (C, D, H, W) by repeating the edge values."""
    _dims = 3


class CircularPad1d(_CircularPadNd):
    """Pad (N, C, W) or (C, W) with the values from the other end (wrap around)."""


class CircularPad2d(_CircularPadNd):
    """Pad (N, C, H, W) or (C, H, W) with the values from the other end."""
    _dims = 2


class CircularPad3d(_CircularPadNd):
    """Pad (N, C, D, H, W) or (C, D, H, W) with the values from the other end."""
    _dims = 3


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value``."""


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with ``value``."""
    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dims with ``value``."""
    _dims = 3


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dim with zeros."""


class ZeroPad2d(_ZeroPadNd):
    """Pad the last two dims with zeros."""
    _dims = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last three dims with zeros."""
    _dims = 3
