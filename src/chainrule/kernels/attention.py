"""The softmax of attention scores in one pass over each row, forward and backward.
Reference: ``ops/attention.py``'s ``_probabilities`` (NumPy) and ``softmax``'s backward.

Rows are the (..., L, S) scores flattened to (R, S); the additive mask, when there is one, is
one (L, S) matrix shared by every batch item and head (row r uses mask row r % L), as a causal
mask is. These functions run inside one range of ``threads.parallel_gemms``: they are called
on the caller's thread and never split work themselves.
"""

import math

import numpy as np

from ._jit import exp32, jit, jit_reduction, row_max, wide_vectors

# Below this, e^x is under float32's smallest normal number (2^-126, e^-87.3): the kernels give
# 0 there. NOTE: computing it would make exp32's last product a denormal, which this CPU (AMD
# EPYC) finishes in microcode: a causal mask's -inf half made the forward pass 1.8x slower
# (8192 rows of 64, one thread: 1.55 -> 2.75 ms). Against a row's sum (>= 1 after the shift)
# the values lost are below float32's resolution; a probability is off by < 1.7e-38.
_FLUSH = np.float32(-87.0)


@jit(inline="always")
def _exp_flushed(x):
    """e^x, or 0 where x < -87 (NaN stays NaN)."""
    e = exp32(_FLUSH if x < _FLUSH else x)
    return np.float32(0.0) if x < _FLUSH else e


@jit
def _unmasked_spans(mask):
    """Per mask row, columns [first, stop) outside which it is all -inf (a causal mask's row
    i: [0, i + 1), widened to groups of 8); a row that is -inf everywhere gets every column,
    so that its result stays NaN as the reference's. The kernels write 0 outside without
    computing it (measured, 8192 causal rows of 64, one thread: forward 1.15 -> 0.83 ms)."""
    rows, columns = mask.shape
    spans = np.empty((rows, 2), np.int64)
    for r in range(rows):
        first, last = columns, -1
        for j in range(columns):
            if mask[r, j] != -np.inf:
                first = min(first, j)
                last = j
        if last < 0:
            first, last = 0, columns - 1
        # widened to whole groups of 8 (a vector register): a short loop's scalar remainder
        # would cost more than the -inf columns it skips (they give 0 exactly)
        spans[r, 0], spans[r, 1] = first - first % 8, min(last + 8 - last % 8, columns)
    return spans


@jit(inline="always")
def _zero_outside_span(row, span):
    """row <- 0 outside its mask row's span [first, stop) (``_unmasked_spans``); returns the
    span."""
    first, stop = span[0], span[1]
    for j in range(first):
        row[j] = np.float32(0.0)
    for j in range(stop, row.size):
        row[j] = np.float32(0.0)
    return first, stop


@jit_reduction(fused=True)
def _softmax_rows(scores, mask, spans, scale, lse):
    """scores <- softmax(scores * scale + mask) in place; lse <- each row's log-sum-exp."""
    wide_vectors()
    columns = scores.shape[1]
    lengths = mask.shape[0]
    for r in range(scores.shape[0]):
        row = scores[r]
        if lengths:
            first, stop = _zero_outside_span(row, spans[r % lengths])
            bias = mask[r % lengths, first:stop]
            row = row[first:stop]
            for j in range(row.size):
                row[j] = row[j] * scale + bias[j]
        else:
            for j in range(columns):
                row[j] = row[j] * scale
        shift = row_max(row)
        if not math.isfinite(shift):  # a row masked out entirely: sum 0, probabilities NaN
            shift = np.float32(0.0)
        total = np.float32(0.0)
        for j in range(row.size):
            e = _exp_flushed(row[j] - shift)
            total += e
            row[j] = e
        inverse = np.float32(1.0) / total
        for j in range(row.size):
            row[j] *= inverse
        lse[r] = np.float32(math.log(total)) + shift  # (log 0 = -inf: numpy errors)


@jit_reduction(fused=True)
def _rebuild_rows(scores, mask, spans, scale, lse):
    """scores <- exp(scores * scale + mask - lse) in place: forward's probabilities again."""
    wide_vectors()
    columns = scores.shape[1]
    lengths = mask.shape[0]
    for r in range(scores.shape[0]):
        row = scores[r]
        offset = lse[r]
        if lengths:
            first, stop = _zero_outside_span(row, spans[r % lengths])
            bias = mask[r % lengths, first:stop]
            row = row[first:stop]
            for j in range(row.size):
                row[j] = _exp_flushed(row[j] * scale + bias[j] - offset)
        else:
            for j in range(columns):
                row[j] = _exp_flushed(row[j] * scale - offset)


@jit_reduction(fused=True)
def _softmax_backward_rows(probs, grad):
    """grad <- probs (grad - rowsum(grad probs)) in place, a row at a time. NOTE: its own
    kernel, not softmax's with dy and dx the same array: there LLVM's overlap check between
    the two failed and every row ran the scalar loop (measured, 8192 rows of 64, one thread:
    0.22 ms, 0.27 with 512-bit vectors; this one 0.14)."""
    wide_vectors()
    for r in range(probs.shape[0]):
        p, g = probs[r], grad[r]
        total = np.float32(0.0)
        for j in range(p.size):
            total += g[j] * p[j]
        for j in range(p.size):
            g[j] = p[j] * (g[j] - total)


_NO_MASK = np.zeros((0, 0), np.float32)
_NO_SPANS = np.zeros((0, 2), np.int64)


def _rows(array):
    return array.reshape(-1, array.shape[-1])


def probabilities(scores, mask, scale, lse=None):
    """As ``ops/attention._probabilities`` for a C-contiguous float32 ``scores`` and a mask of
    one (L, S) matrix (or None): softmax in place, and the new log-sum-exp (..., L, 1); with
    ``lse``, the probabilities rebuilt from it."""
    mask, spans = (_NO_MASK, _NO_SPANS) if mask is None else (mask, _unmasked_spans(mask))
    scale = np.float32(scale)
    if lse is not None:
        _rebuild_rows(_rows(scores), mask, spans, scale, lse.reshape(-1))
        return scores, lse
    row_lse = np.empty(scores.shape[:-1] + (1,), np.float32)
    _softmax_rows(_rows(scores), mask, spans, scale, row_lse.reshape(-1))
    return scores, row_lse


def softmax_backward(probs, grad):
    """grad <- probs * (grad - rowsum(grad * probs)) in place (the softmax's backward)."""
    _softmax_backward_rows(_rows(probs), _rows(grad))
    return grad
