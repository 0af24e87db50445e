"""Layer norm over the trailing axes (flattened to rows), forward and backward, one row at a
time. Reference: ``ops/normalization.py`` (``_standardize``, ``_layer_norm_backward_arrays``)."""

import math

import numpy as np

from ._jit import jit_reduction, wide_vectors
from .threads import get_num_threads, parallel_ranges

# Every inner loop below is free of conditions: an ``if`` on an argument inside a loop (say
# "weight given") was if-converted by LLVM into masked loads and stores (vmaskmovps), which
# are microcoded on AMD (measured, 2048 x 512, one thread: backward 1.5 -> 0.85 ms, dx alone
# 1.5 -> 0.5 ms). A missing weight is a vector of ones, a missing bias one of zeros, and the
# parameter gradients have loops of their own, chosen once per row.


@jit_reduction
def _forward_range(start, stop, part, x, weight, bias, eps, y, mean, rstd):
    wide_vectors()
    x, y, mean, rstd = x[start:stop], y[start:stop], mean[start:stop], rstd[start:stop]
    columns = x.shape[1]
    for r in range(x.shape[0]):
        total = np.float32(0.0)
        for j in range(columns):
            total += x[r, j]
        m = total / np.float32(columns)
        square = np.float32(0.0)
        for j in range(columns):
            d = x[r, j] - m
            square += d * d
        s = np.float32(1.0) / np.float32(math.sqrt(square / np.float32(columns) + eps))
        mean[r], rstd[r] = m, s
        for j in range(columns):
            y[r, j] = (x[r, j] - m) * s * weight[j] + bias[j]


@jit_reduction
def _backward_range(start, stop, part, x, weight, dy, mean, rstd, dx, dweight, dbias):
    """dx = r (g - mean(g) - x^ mean(g x^)), g = dy w; dweight and dbias summed into row
    ``part`` of their partial sums."""
    wide_vectors()
    x, dy, mean, rstd = x[start:stop], dy[start:stop], mean[start:stop], rstd[start:stop]
    if dx.size:
        dx = dx[start:stop]
    columns = x.shape[1]
    for r in range(x.shape[0]):
        m, s = mean[r], rstd[r]
        if dweight.size:
            for j in range(columns):
                dweight[part, j] += dy[r, j] * ((x[r, j] - m) * s)
        if dbias.size:
            for j in range(columns):
                dbias[part, j] += dy[r, j]
        if dx.size:
            sum_g = np.float32(0.0)
            sum_gx = np.float32(0.0)
            for j in range(columns):
                g = dy[r, j] * weight[j]
                sum_g += g
                sum_gx += g * ((x[r, j] - m) * s)
            mean_g = sum_g / np.float32(columns)
            mean_gx = sum_gx / np.float32(columns)
            for j in range(columns):
                x_hat = (x[r, j] - m) * s
                dx[r, j] = s * (dy[r, j] * weight[j] - mean_g - x_hat * mean_gx)


def _rows(array, columns):
    return np.ascontiguousarray(array).reshape(-1, columns)


def _vector(array, columns, missing=1.0):
    """A weight or bias as a flat float32 vector; ``missing`` in every place if None."""
    if array is None:
        return np.full(columns, missing, np.float32)
    return np.ascontiguousarray(array).reshape(-1)


def layer_norm(x, weight, bias, eps, columns):
    """(y, mean, rstd) of layer norm over the last ``columns`` elements of each row of a
    float32 array; ``weight``/``bias`` may be None; mean and rstd have one value per row."""
    rows = _rows(x, columns)
    y = np.empty(x.shape, np.float32)  # owning its memory: see activation._elementwise
    mean = np.empty(rows.shape[0], np.float32)
    rstd = np.empty(rows.shape[0], np.float32)
    parallel_ranges(_forward_range, rows.shape[0], columns, rows, _vector(weight, columns),
                    _vector(bias, columns, 0.0), np.float32(eps), _rows(y, columns), mean, rstd)
    return y, mean, rstd


def layer_norm_backward(x, weight, dy, mean, rstd, columns, needs):
    """(dx, dweight, dbias), each None unless ``needs`` asks for it, from forward's per-row
    mean and rstd."""
    rows, grad = _rows(x, columns), _rows(dy, columns)
    parts = get_num_threads()
    dx = np.empty(x.shape, np.float32) if needs[0] else None
    dweight = np.zeros((parts, columns), np.float32) if needs[1] else rows[:0]
    dbias = np.zeros((parts, columns), np.float32) if needs[2] else rows[:0]
    used = parallel_ranges(_backward_range, rows.shape[0], columns, rows,
                           _vector(weight, columns), grad, mean.reshape(-1), rstd.reshape(-1),
                           rows[:0] if dx is None else _rows(dx, columns), dweight, dbias,
                           parts=parts)
    return (dx,
            dweight[:used].sum(0) if needs[1] else None,
            dbias[:used].sum(0) if needs[2] else None)
