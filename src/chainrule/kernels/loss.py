"""Cross-entropy of (N, C) logits against class indices (no class weights), with label
smoothing and ignore_index: loss and gradient one row at a time. Reference: ``ops/loss.py``
(``CrossEntropy``): with a = (1 - eps) onehot(t) + eps / C on a kept row,
    l = lse(x) - (1 - eps) x_t - eps/C sum(x),   dx = scale (softmax(x) - a)."""

import math

import numba
import numpy as np

from ._jit import exp32, jit_reduction, row_max, side_by_side, wide_vectors
from .threads import compiled_ranges


@jit_reduction(fused=True)
def _forward_range(start, stop, part, x, target, ignore_index, smoothing, loss, lse):
    wide_vectors()
    x, target, loss, lse = x[start:stop], target[start:stop], loss[start:stop], lse[start:stop]
    columns = x.shape[1]
    for r in range(x.shape[0]):
        shift = row_max(x[r])
        total_x = np.float32(0.0)
        for j in range(columns):
            total_x += x[r, j]
        if not math.isfinite(shift):
            shift = np.float32(0.0)
        total = np.float32(0.0)
        for j in range(columns):
            total += exp32(x[r, j] - shift)
        lse[r] = shift + np.float32(math.log(total))
        t = target[r]
        if t == ignore_index:
            loss[r] = np.float32(0.0)
        else:
            loss[r] = (lse[r] - (np.float32(1.0) - smoothing) * x[r, t]
                       - smoothing / np.float32(columns) * total_x)


@jit_reduction(fused=True)
def _backward_range(start, stop, part, x, target, ignore_index, smoothing, lse, scale, dx):
    wide_vectors()
    x, target, lse = x[start:stop], target[start:stop], lse[start:stop]
    scale, dx = scale[start:stop], dx[start:stop]
    columns = x.shape[1]
    spread = smoothing / np.float32(columns)
    for r in range(x.shape[0]):
        t = target[r]
        if t == ignore_index:
            for j in range(columns):
                dx[r, j] = np.float32(0.0)
            continue
        s = scale[r]
        for j in range(columns):
            dx[r, j] = s * (exp32(x[r, j] - lse[r]) - spread)
        dx[r, t] -= s * (np.float32(1.0) - smoothing)


# the twins: every range at once (``threads.compiled_ranges``)
@side_by_side
def _forward_ranges(bounds, x, target, ignore_index, smoothing, loss, lse):
    for part in numba.prange(bounds.size - 1):
        _forward_range(bounds[part], bounds[part + 1], part, x, target, ignore_index, smoothing,
                       loss, lse)


@side_by_side
def _backward_ranges(bounds, x, target, ignore_index, smoothing, lse, scale, dx):
    for part in numba.prange(bounds.size - 1):
        _backward_range(bounds[part], bounds[part + 1], part, x, target, ignore_index, smoothing,
                        lse, scale, dx)


def cross_entropy(x, target, ignore_index, smoothing):
    """(per-row loss, per-row log-sum-exp) for float32 logits (N, C) and int64 targets (N,)."""
    rows = np.ascontiguousarray(x)
    loss = np.empty(rows.shape[0], np.float32)
    lse = np.empty(rows.shape[0], np.float32)
    compiled_ranges(_forward_range, _forward_ranges, rows.shape[0], rows.shape[1], rows, target,
                    ignore_index, np.float32(smoothing), loss, lse)
    return loss, lse


def cross_entropy_backward(x, target, ignore_index, smoothing, lse, scale):
    """dx (N, C) for per-row gradient factors ``scale`` (N,)."""
    rows = np.ascontiguousarray(x)
    dx = np.empty_like(rows)
    compiled_ranges(_backward_range, _backward_ranges, rows.shape[0], rows.shape[1], rows,
                    target, ignore_index, np.float32(smoothing), lse,
                    np.ascontiguousarray(scale, np.float32), dx)
    return dx
