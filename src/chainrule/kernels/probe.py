"""One-pass tallies of activation outputs for the gradient monitor's activation probe
(``diagnostics/activations.py``, beside the NumPy code they replace there).

A sampled forward's tally of a ReLU output asks which units were active on some input; of a
sigmoid or tanh output, how many values lie near an asymptote. NumPy makes a boolean array as
large as the output and reduces it (and each call, made cold inside a training step, costs
~10 us); these kernels read the output once, where it lies, and write nothing as large.
"""

import numpy as np

from ._jit import jit, jit_reduction, wide_vectors


@jit
def alive_units(values, alive, cap):
    """alive[u] |= 0 < values[n, u] < cap for some n, for a 2-D C-contiguous float32 array of
    (inputs, units) and a uint8 ``alive`` (``cap`` inf for a plain ReLU): which units were
    active on some input. Branch-free along the units, so the loop vectorises."""
    wide_vectors()
    for n in range(values.shape[0]):
        for u in range(values.shape[1]):
            value = values[n, u]
            alive[u] |= np.uint8((value > 0) & (value < cap))


@jit
def alive_channels(values, alive, cap):
    """The same for a 3-D C-contiguous float32 array of (inputs, channels, positions): a
    channel is alive when active at some position of some input."""
    wide_vectors()
    for n in range(values.shape[0]):
        for c in range(values.shape[1]):
            if alive[c]:
                continue
            hits = 0
            for k in range(values.shape[2]):
                value = values[n, c, k]
                hits += (value > 0) & (value < cap)
            alive[c] = np.uint8(hits > 0)


@jit_reduction
def count_outside(values, lower, upper):
    """How many values of a 1-D float32 array are below ``lower`` or above ``upper``."""
    wide_vectors()
    count = 0
    for i in range(values.size):
        value = values[i]
        count += (value < lower) | (value > upper)
    return count
