"""Pooling layers: ``MaxPool1d/2d/3d``, ``AvgPool1d/2d/3d``, ``AdaptiveAvgPool1d/2d/3d``; the
adaptive max, fractional, LP and unpooling layers (``pooling_more``) are re-exported here, where
PyTorch has them."""

from ...ops import pooling as P
from . import pooling_more as _more
from .module import Module
from .pooling_more import *  # noqa: F403

# PyTorch keeps these base classes in nn.modules.pooling (isinstance checks name them there)
from .pooling_more import _AdaptiveMaxPoolNd as _AdaptiveMaxPoolNd
from .pooling_more import _FractionalMaxPoolNd as _FractionalMaxPoolNd
from .pooling_more import _LPPoolNd as _LPPoolNd
from .pooling_more import _MaxUnpoolNd as _MaxUnpoolNd

__all__ = [
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    *_more.__all__,
]


class _MaxPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return self._function(input, self.kernel_size, self.stride, self.padding, self.dilation,
                              ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max over sliding windows of (N, C, L)."""

    _function = staticmethod(P.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """Max over sliding windows of (N, C, H, W).

    >>> chainrule.nn.MaxPool2d(2)(chainrule.randn(1, 3, 8, 8)).shape
    chainrule.Size([1, 3, 4, 4])
    """

    _function = staticmethod(P.max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """Max over sliding windows of (N, C, D, H, W)."""

    _function = staticmethod(P.max_pool3d)


class _AvgPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return P.avg_poolnd(self._name, self._nd, input, self.kernel_size, self.stride,
                             self.padding, self.ceil_mode, self.count_include_pad,
                             self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """Mean over sliding windows of (N, C, L)."""

    _name, _nd = "avg_pool1d", 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """Mean over sliding windows of (N, C, H, W).

    >>> chainrule.nn.AvgPool2d(2)(chainrule.randn(1, 3, 8, 8)).shape
    chainrule.Size([1, 3, 4, 4])
    """

    _name, _nd = "avg_pool2d", 2


class AvgPool3d(_AvgPoolNd):
    """Mean over sliding windows of (N, C, D, H, W)."""

    _name, _nd = "avg_pool3d", 3


class _AdaptiveAvgPoolNd(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return P.adaptive_avg_poolnd(self._name, self._nd, input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Mean pooling of (N, C, L) to a fixed length."""

    _name, _nd = "adaptive_avg_pool1d", 1


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Mean pooling of (N, C, H, W) to a fixed size (None keeps a dim's size).

    >>> chainrule.nn.AdaptiveAvgPool2d((1, 1))(chainrule.randn(2, 8, 5, 7)).shape
    chainrule.Size([2, 8, 1, 1])
    """

    _name, _nd = "adaptive_avg_pool2d", 2


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Mean pooling of (N, C, D, H, W) to a fixed size."""

    _name, _nd = "adaptive_avg_pool3d", 3
