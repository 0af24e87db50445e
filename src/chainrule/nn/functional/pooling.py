"""Functional pooling (``F.max_pool2d`` ...); the fused ops live in ``chainrule.ops.pooling``
and ``chainrule.ops.pooling_more``."""

from ...ops import pooling as _ops
from ...ops import pooling_more as _more
from ...ops.pooling import *  # noqa: F403 - the functional names are the fused ops' own
from ...ops.pooling_more import *  # noqa: F403

__all__ = list(_ops.__all__) + list(_more.__all__) + [
    "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices"]


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool1d`` returning (values, indices) whatever ``return_indices`` says."""
    return _ops.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool2d`` returning (values, indices) whatever ``return_indices`` says."""
    return _ops.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool3d`` returning (values, indices) whatever ``return_indices`` says."""
    return _ops.max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)
