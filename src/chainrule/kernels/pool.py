"""2-D max pooling without padding: each window's maximum and where it is, in one pass; and
its backward, a scatter of the gradient to those places. Reference: ``ops/pooling.py``
(``_max_indices``, ``MaxPoolGrad``)."""

import numpy as np

from ._jit import jit
from .threads import parallel_ranges


@jit
def _max_pool_range(start, stop, part, x, kernel, stride, dilation, values, index):
    """Planes [start, stop) of x (planes, H, W): values and flat in-plane indices (planes,
    OH, OW). The first maximum wins a tie; a NaN counts as the maximum (the first NaN), as
    np.argmax does."""
    x, values, index = x[start:stop], values[start:stop], index[start:stop]
    width = x.shape[2]
    for plane in range(x.shape[0]):
        for oh in range(values.shape[1]):
            for ow in range(values.shape[2]):
                top, left = oh * stride[0], ow * stride[1]
                best = x[plane, top, left]
                where = top * width + left
                for ki in range(kernel[0]):
                    for kj in range(kernel[1]):
                        row, col = top + ki * dilation[0], left + kj * dilation[1]
                        v = x[plane, row, col]
                        if v > best or (v != v and best == best):
                            best, where = v, row * width + col
                values[plane, oh, ow] = best
                index[plane, oh, ow] = where


def max_pool2d(x, kernel, stride, dilation, out):
    """(in-plane argmax indices as int64, maxima) of every window of a float32 (N, C, H, W)
    array, no padding; ``out`` is the output's (OH, OW)."""
    n, c, h, w = x.shape
    planes = np.ascontiguousarray(x).reshape(n * c, h, w)
    values = np.empty((n * c,) + tuple(out), np.float32)
    index = np.empty((n * c,) + tuple(out), np.int64)
    parallel_ranges(_max_pool_range, n * c, h * w, planes, np.asarray(kernel, np.int64),
                    np.asarray(stride, np.int64), np.asarray(dilation, np.int64), values, index)
    return index.reshape((n, c) + tuple(out)), values.reshape((n, c) + tuple(out))


@jit
def _scatter_range(start, stop, part, index, values, out):
    index, values = index[start:stop], values[start:stop]
    for i in range(index.size):
        out[index[i]] = values[i]


@jit
def _scatter_add(index, values, out):
    for i in range(index.size):
        out[index[i]] += values[i]


def scatter(index, values, size, disjoint):
    """A zero float32 vector of ``size`` with ``values`` written (``disjoint``: the indices are
    distinct, so ranges can go in parallel) or added at the flat ``index``."""
    out = np.zeros(size, np.float32)
    flat_index, flat_values = index.reshape(-1), np.ascontiguousarray(values).reshape(-1)
    if disjoint:
        parallel_ranges(_scatter_range, flat_index.size, 1, flat_index, flat_values, out)
    else:
        _scatter_add(flat_index, flat_values, out)
    return out
