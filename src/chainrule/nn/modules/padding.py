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
    """An int pads every side of the last ``dims`` dims; a tuple is F.pad's (left, right[, top,
    bottom[, front, back]]) as given: PyTorch keeps a shorter one too (``ConstantPad2d((0, 1),
    v)`` pads only the last dim), and F.pad checks it at the call."""
    if isinstance(padding, int):
        return (padding,) * (2 * dims)
    padding = tuple(padding)
    if len(padding) % 2:
        raise ValueError("padding must be an int or a tuple of an even number of ints (two per "
                         f"padded dim, the last dim first), got {padding!r}")
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


class _ReflectionPadNd(_PadNd):
    _mode = "reflect"


class _ReplicationPadNd(_PadNd):
    _mode = "replicate"


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


class _ZeroPadNd:
    """Zero padding: a ConstantPadNd whose value is 0 (ZeroPad2d is a ConstantPad2d, as in
    PyTorch, so ``isinstance`` checks agree)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_ReflectionPadNd):
    """Pad (N, C, W) or (C, W) with the reflection of the input (edge not repeated)."""


class ReflectionPad2d(_ReflectionPadNd):
    """Pad (N, C, H, W) or (C, H, W) with the reflection of the input."""
    _dims = 2


class ReflectionPad3d(_ReflectionPadNd):
    """Pad (N, C, D, H, W) or (C, D, H, W) with the reflection of the input."""
    _dims = 3


class ReplicationPad1d(_ReplicationPadNd):
    """Pad (N, C, W) or (C, W) by repeating the edge values."""


class ReplicationPad2d(_ReplicationPadNd):
    """Pad (N, C, H, W) or (C, H, W) by repeating the edge values."""
    _dims = 2


class ReplicationPad3d(_ReplicationPadNd):
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


class ZeroPad1d(_ZeroPadNd, ConstantPad1d):
    """Pad the last dim with zeros."""


class ZeroPad2d(_ZeroPadNd, ConstantPad2d):
    """Pad the last two dims with zeros."""


class ZeroPad3d(_ZeroPadNd, ConstantPad3d):
    """Pad the last three dims with zeros."""
