"""The squared 2-norm of a float32 array, summed in float64.

The gradient monitor (``diagnostics/tap.py``) reads one per watched parameter on every training
step, most of them small (biases, a block of rows of a weight). NumPy's dot needs
``np.errstate`` around it there (float32 squares overflow), and entering it costs more than the
reading itself; summing in float64 cannot overflow (a float32 squared is at most 1.2e77), so
this kernel needs no such guard. A NaN or Inf anywhere still makes the sum non-finite:
reassociation (``jit_reduction``) assumes nothing about NaNs or infinities.
"""

import numpy as np

from ._jit import jit_reduction, wide_vectors


@jit_reduction
def squared_norm(flat):
    """sum(flat ** 2) in float64, for a 1-D float32 array."""
    wide_vectors()
    total = 0.0
    for i in range(flat.size):
        value = np.float64(flat[i])
        total += value * value
    return total


@jit_reduction
def update_norms(after, before):
    """(sum after ** 2, sum before ** 2, sum (after - before) ** 2) in float64, for two 1-D
    float32 arrays of one size: a sampled step's three norms of a weight matrix (after the
    update, before it, and the update) in one pass over the two arrays, where NumPy reads
    them four times and writes the difference once."""
    wide_vectors()
    after_sum = before_sum = moved_sum = 0.0
    for i in range(after.size):
        a = np.float64(after[i])
        b = np.float64(before[i])
        after_sum += a * a
        before_sum += b * b
        moved_sum += (a - b) * (a - b)
    return after_sum, before_sum, moved_sum
