"""One-pass reads of a weight matrix's sampled rows, for the gradient monitor's sampled steps
(``diagnostics/updates.py``, beside the NumPy code they replace there).

A sampled step reads a large matrix's every ``ROW_STRIDE``-th row before its update (a copy)
and after it. NumPy gathers the strided rows into a new array and makes a pass per norm; these
kernels read the rows in place, once. Sums are taken in float64 (``jit_reduction``:
reassociated, as BLAS sums are).
"""

import numpy as np

from ._jit import jit_reduction, wide_vectors


@jit_reduction
def update_rows(after, before, stride):
    """(sum after[r] ** 2, sum before ** 2, sum (after[r] - before) ** 2) in float64 over every
    ``stride``-th row r of ``after`` (a 2-D C-contiguous float32 matrix, read in place: no
    gathered copy) and ``before``, those rows' copy from before the update. (The matrix
    whole and the stride as a number: a strided view's inner stride is unknown to the
    compiler, which then does not vectorise, measured 29 against 6 us.)"""
    wide_vectors()
    after_sum = before_sum = moved_sum = 0.0
    for i in range(before.shape[0]):
        row = i * stride
        for j in range(before.shape[1]):
            a = np.float64(after[row, j])
            b = np.float64(before[i, j])
            after_sum += a * a
            before_sum += b * b
            moved_sum += (a - b) * (a - b)
    return after_sum, before_sum, moved_sum


@jit_reduction
def copy_rows(matrix, stride, out):
    """out[i] = matrix[i * stride] for a 2-D C-contiguous float32 matrix, in one pass that
    also sums the copied rows' squared norms s_i and their squares, in float64: (sum s_i,
    sum s_i ** 2), how large the rows are and how much they differ (a sampled step's copy of
    the rows before the update, and its estimate of the whole matrix's norm)."""
    wide_vectors()
    total = spread = 0.0
    for i in range(out.shape[0]):
        row = i * stride
        square = 0.0
        for j in range(out.shape[1]):
            value = matrix[row, j]
            out[i, j] = value
            wide = np.float64(value)
            square += wide * wide
        total += square
        spread += square * square
    return total, spread
