"""Sorting: ``sort``, ``argsort`` and ``topk``. The order is found on the array; the values are
then picked with ``gather``, so their gradient flows back to the positions they came from."""


import numpy as np

from .. import return_types
from ._operands import normalize_dim, wrap
from .index import gather
from .registry import register

_sort_result, _topk_result = return_types.sort, return_types.topk


def _sort_indices(array, axis, descending, stable):
    if not descending:
        # (always stable: equal values keep their order, as PyTorch's CPU sort leaves them)
        return np.argsort(array, axis=axis, kind="stable")
    # Sorting the reversed array stably and reversing back keeps ties in their original order
    # and puts NaN first, as PyTorch's descending sort does.
    n = array.shape[axis]
    reversed_order = np.argsort(np.flip(array, axis), axis=axis, kind="stable")
    return n - 1 - np.flip(reversed_order, axis)


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort ``input`` along ``dim`` (int64)."""
    if input._data.ndim == 0:
        return wrap(np.zeros((), np.int64))
    d = normalize_dim(dim, input._data.ndim, "argsort")
    return wrap(_sort_indices(input._data, d, descending, stable).astype(np.int64))


def sort(input, dim=-1, descending=False, stable=False):
    """``(values, indices)`` of ``input`` sorted along ``dim``; gradients follow the values."""
    indices = argsort(input, dim, descending=descending, stable=stable)
    if input._data.ndim == 0:
        return _sort_result(input.clone(), indices)
    return _sort_result(gather(input, dim, indices), indices)


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) values along ``dim`` and their indices."""
    ndim = input._data.ndim
    d = normalize_dim(dim, ndim, "topk")
    size = input._data.shape[d] if ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(f"topk: k ({k}) is out of range for dimension {d} of size {size}")
    if ndim == 0:
        return _topk_result(input.clone(), wrap(np.zeros((), np.int64)))
    order = _sort_indices(input._data, d, largest, stable=True)
    indices = wrap(np.ascontiguousarray(order[(slice(None),) * d + (slice(0, k),)])
                   .astype(np.int64))
    return _topk_result(gather(input, d, indices), indices)


register(sort)
register(argsort)
register(topk)
