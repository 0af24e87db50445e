"""Softmax and log-softmax over the last axis, forward and backward, one row at a time (the
row stays in cache between its passes). Reference: ``ops/softmax.py``."""

import math

import numba
import numpy as np

from ._jit import exp32, jit_reduction, row_max, side_by_side, wide_vectors
from .threads import compiled_ranges


@jit_reduction(fused=True)
def _softmax_range(start, stop, part, x, y, log):
    wide_vectors()
    x, y = x[start:stop], y[start:stop]  # (slices: indices from 0 vectorise, see activation)
    columns = x.shape[1]
    for r in range(x.shape[0]):
        shift = row_max(x[r])
        if not math.isfinite(shift):  # as the reference: no shift for a row without a finite max
            shift = np.float32(0.0)
        total = np.float32(0.0)
        for j in range(columns):
            e = exp32(x[r, j] - shift)
            total += e
            y[r, j] = e
        if log:
            offset = shift + np.float32(math.log(total))
            for j in range(columns):
                y[r, j] = x[r, j] - offset
        else:
            scale = np.float32(1.0) / total
            for j in range(columns):
                y[r, j] *= scale


@jit_reduction(fused=True)
def _softmax_backward_range(start, stop, part, y, dy, dx, log):
    wide_vectors()
    y, dy, dx = y[start:stop], dy[start:stop], dx[start:stop]
    columns = y.shape[1]
    for r in range(y.shape[0]):
        total = np.float32(0.0)
        if log:  # dx = dy - exp(y) sum(dy)
            for j in range(columns):
                total += dy[r, j]
            for j in range(columns):
                dx[r, j] = dy[r, j] - exp32(y[r, j]) * total
        else:  # dx = y (dy - sum(dy y))
            for j in range(columns):
                total += dy[r, j] * y[r, j]
            for j in range(columns):
                dx[r, j] = y[r, j] * (dy[r, j] - total)


# the twins: every range at once (``threads.compiled_ranges``)
@side_by_side
def _softmax_ranges(bounds, x, y, log):
    for part in numba.prange(bounds.size - 1):
        _softmax_range(bounds[part], bounds[part + 1], part, x, y, log)


@side_by_side
def _softmax_backward_ranges(bounds, y, dy, dx, log):
    for part in numba.prange(bounds.size - 1):
        _softmax_backward_range(bounds[part], bounds[part + 1], part, y, dy, dx, log)


def _rows(array):
    return np.ascontiguousarray(array).reshape(-1, array.shape[-1])


def softmax(x, log):
    """softmax (or log_softmax with ``log``) over the last axis of a float32 array."""
    rows = _rows(x)
    y = np.empty(x.shape, np.float32)  # owning its memory: see activation._elementwise
    compiled_ranges(_softmax_range, _softmax_ranges, rows.shape[0], rows.shape[1], rows,
                    _rows(y), log)
    return y


def softmax_backward(y, dy, log):
    """dx of softmax (or log_softmax) over the last axis from its output ``y``."""
    rows, grad = _rows(y), _rows(dy)
    dx = np.empty(y.shape, np.float32)
    compiled_ranges(_softmax_backward_range, _softmax_backward_ranges,
                    rows.shape[0], rows.shape[1], rows, grad,
                    _rows(dx), log)
    return dx
