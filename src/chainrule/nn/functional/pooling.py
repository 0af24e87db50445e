"""``max_pool*d_with_indices``; the pooling ops themselves live (and register) in
``chainrule.ops.pooling`` and ``chainrule.ops.pooling_more``."""

from ...ops import pooling as _ops
from ...ops.registry import register


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


register(max_pool1d_with_indices, top=False, method=False, functional=True)
register(max_pool2d_with_indices, top=False, method=False, functional=True)
register(max_pool3d_with_indices, top=False, method=False, functional=True)
