"""The softmax of attention scores in one pass over each row, forward and backward.
Reference: ``ops/attention.py``'s ``_probabilities`` (NumPy) and ``softmax``'s backward.

Rows are the (..., L, S) scores flattened to (R, S); the additive mask, when there is one, is
one (L, S) matrix shared by every batch item and head (row r uses mask row r % L), as a causal
mask is. These functions run inside one range of ``threads.parallel_gemms``: they are called
on the caller's thread and never split work themselves.
"""

import math

import numpy as np

from ._jit import exp32, jit_reduction, row_max
from .softmax import _softmax_backward_range


@jit_reduction
def _softmax_rows(scores, mask, scale, lse):
    """scores <- softmax(scores * scale + mask) in place; lse <- each row's log-sum-exp."""
    columns = scores.shape[1]
    lengths = mask.shape[0]
    for r in range(scores.shape[0]):
        row = scores[r]
        if lengths:
            bias = mask[r % lengths]
            for j in range(columns):
                row[j] = row[j] * scale + bias[j]
        else:
            for j in range(columns):
                row[j] = row[j] * scale
        shift = row_max(row)
        if not math.isfinite(shift):  # a row masked out entirely: sum 0, probabilities NaN
            shift = np.float32(0.0)
        total = np.float32(0.0)
        for j in range(columns):
            e = exp32(row[j] - shift)
            total += e
            row[j] = e
        inverse = np.float32(1.0) / total
        for j in range(columns):
            row[j] *= inverse
        lse[r] = np.float32(math.log(total)) + shift  # (log 0 = -inf: numpy errors)


@jit_reduction
def _rebuild_rows(scores, mask, scale, lse):
    """scores <- exp(scores * scale + mask - lse) in place: forward's probabilities again."""
    columns = scores.shape[1]
    lengths = mask.shape[0]
    for r in range(scores.shape[0]):
        row = scores[r]
        offset = lse[r]
        if lengths:
            bias = mask[r % lengths]
            for j in range(columns):
                row[j] = exp32(row[j] * scale + bias[j] - offset)
        else:
            for j in range(columns):
                row[j] = exp32(row[j] * scale - offset)


_NO_MASK = np.zeros((0, 0), np.float32)


def _rows(array):
    return array.reshape(-1, array.shape[-1])


def probabilities(scores, mask, scale, lse=None):
    """As ``ops/attention._probabilities`` for a C-contiguous float32 ``scores`` and a mask of
    one (L, S) matrix (or None): softmax in place, and the new log-sum-exp (..., L, 1); with
    ``lse``, the probabilities rebuilt from it."""
    mask = _NO_MASK if mask is None else mask
    scale = np.float32(scale)
    if lse is not None:
        _rebuild_rows(_rows(scores), mask, scale, lse.reshape(-1))
        return scores, lse
    row_lse = np.empty(scores.shape[:-1] + (1,), np.float32)
    _softmax_rows(_rows(scores), mask, scale, row_lse.reshape(-1))
    return scores, row_lse


def softmax_backward(probs, grad):
    """grad <- probs * (grad - rowsum(grad * probs)) in place (the softmax's backward)."""
    rows, grad_rows = _rows(probs), _rows(grad)
    _softmax_backward_range(0, rows.shape[0], 0, rows, grad_rows, grad_rows, False)
    return grad
