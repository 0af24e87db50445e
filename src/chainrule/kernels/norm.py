"""Layer norm over the trailing axes (flattened to rows), forward and backward, one row at a
time. Reference: ``ops/normalization.py`` (``_standardize``, ``_layer_norm_backward_arrays``)."""

import math

import numba
import numpy as np

from ._jit import (
    float32_array,
    jit_reduction,
    job_arguments,
    range_job,
    side_by_side,
    wide_vectors,
)
from .threads import compiled_ranges, get_num_threads

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
    ``part`` of their partial sums. Two passes over each row: the four sums in one (the
    parameter gradients' as well, needed or not: a few multiply-adds on values already
    loaded), then dx; it was four (dweight, dbias, the sums, dx): one thread, 2048 x 512,
    0.46-0.49 -> 0.45-0.47 ms."""
    wide_vectors()
    x, dy, mean, rstd = x[start:stop], dy[start:stop], mean[start:stop], rstd[start:stop]
    dweight, dbias = dweight[part], dbias[part]
    if dx.size:
        dx = dx[start:stop]
    columns = x.shape[1]
    for r in range(x.shape[0]):
        m, s = mean[r], rstd[r]
        sum_g = np.float32(0.0)
        sum_gx = np.float32(0.0)
        for j in range(columns):
            x_hat = (x[r, j] - m) * s
            dweight[j] += dy[r, j] * x_hat
            dbias[j] += dy[r, j]
            g = dy[r, j] * weight[j]
            sum_g += g
            sum_gx += g * x_hat
        if dx.size:
            mean_g = sum_g / np.float32(columns)
            mean_gx = sum_gx / np.float32(columns)
            for j in range(columns):
                x_hat = (x[r, j] - m) * s
                dx[r, j] = s * (dy[r, j] * weight[j] - mean_g - x_hat * mean_gx)


# the twins: every range at once (``threads.compiled_ranges``)
@side_by_side
def _forward_ranges(bounds, x, weight, bias, eps, y, mean, rstd):
    for part in numba.prange(bounds.size - 1):
        _forward_range(bounds[part], bounds[part + 1], part, x, weight, bias, eps, y, mean, rstd)


@side_by_side
def _backward_ranges(bounds, x, weight, dy, mean, rstd, dx, dweight, dbias):
    for part in numba.prange(bounds.size - 1):
        _backward_range(bounds[part], bounds[part + 1], part, x, weight, dy, mean, rstd, dx,
                        dweight, dbias)


# the board's jobs (``threads.compiled_ranges``): shapes first, then the arrays by address
@range_job
def _forward_job(start, stop, part, args):
    rows, columns, x, weight, bias, eps, y, mean, rstd = job_arguments(args, 9)
    _forward_range(start, stop, part, float32_array(x, (rows, columns)),
                   float32_array(weight, columns), float32_array(bias, columns),
                   float32_array(eps, 1)[0], float32_array(y, (rows, columns)),
                   float32_array(mean, rows), float32_array(rstd, rows))


@range_job
def _backward_job(start, stop, part, args):
    rows, columns, parts, dx_rows, x, weight, dy, mean, rstd, dx, dweight, dbias = \
        job_arguments(args, 12)
    _backward_range(start, stop, part, float32_array(x, (rows, columns)),
                    float32_array(weight, columns), float32_array(dy, (rows, columns)),
                    float32_array(mean, rows), float32_array(rstd, rows),
                    float32_array(dx, (dx_rows, columns)),
                    float32_array(dweight, (parts, columns)),
                    float32_array(dbias, (parts, columns)))


def _addresses(*arrays):
    return [array.ctypes.data for array in arrays]


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
    arrays = (rows, _vector(weight, columns), _vector(bias, columns, 0.0),
              np.full(1, eps, np.float32), _rows(y, columns), mean, rstd)
    block = np.array([rows.shape[0], columns, *_addresses(*arrays)], np.int64)
    compiled_ranges(_forward_range, _forward_ranges, rows.shape[0], columns, *arrays[:3],
                    np.float32(eps), *arrays[4:], job=(_forward_job, block))
    return y, mean, rstd


def layer_norm_backward(x, weight, dy, mean, rstd, columns, needs):
    """(dx, dweight, dbias), each None unless ``needs`` asks for it, from forward's per-row
    mean and rstd."""
    rows, grad = _rows(x, columns), _rows(dy, columns)
    parts = get_num_threads()
    dx = np.empty(x.shape, np.float32) if needs[0] else None
    dweight = np.zeros((parts, columns), np.float32)  # (partial sums, one row per part)
    dbias = np.zeros((parts, columns), np.float32)
    arrays = (rows, _vector(weight, columns), grad, mean.reshape(-1), rstd.reshape(-1),
              rows[:0] if dx is None else _rows(dx, columns), dweight, dbias)
    block = np.array([rows.shape[0], columns, parts, arrays[5].shape[0], *_addresses(*arrays)],
                     np.int64)
    used = compiled_ranges(_backward_range, _backward_ranges, rows.shape[0], columns, *arrays,
                           parts=parts, job=(_backward_job, block))
    return (dx,
            dweight[:used].sum(0) if needs[1] else None,
            dbias[:used].sum(0) if needs[2] else None)
