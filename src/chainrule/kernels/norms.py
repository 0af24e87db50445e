"""The squared 2-norm of a float32 array, summed in float64.

The gradient monitor (``diagnostics/tap.py``) reads one per watched parameter on every training
step, most of them small (biases, a block of rows of a weight). NumPy's dot needs
``np.errstate`` around it there (float32 squares overflow), and entering it costs more than the
reading itself; summing in float64 cannot overflow (a float32 squared is at most 1.2e77), so
this kernel needs no such guard. A NaN or Inf anywhere still makes the sum non-finite:
reassociation (``jit_reduction``) assumes nothing about NaNs or infinities.
"""

import numpy as np

from ._jit import jit_reduction


@jit_reduction
def squared_norm(flat):
    """sum(flat ** 2) in float64, for a 1-D float32 array."""
    total = 0.0
    for i in range(flat.size):
        value = np.float64(flat[i])
        total += value * value
    return total
