"""The LSTM cell's gate arithmetic, one time step forward and backward, in one pass each (the
GEMMs stay with BLAS). Reference: ``ops/recurrent.py`` (``_run``/``_run_backward``, LSTM)."""

import numpy as np

from ._jit import jit, sigmoid32, tanh32
from .threads import parallel_ranges


@jit
def _forward_range(start, stop, part, gx, gh, c_prev, gates, c, tanh_c, h):
    """gates = activations of gx + gh in PyTorch's order (i, f, g, o); c = f c_prev + i g;
    h = o tanh(c)."""
    gx, gh, c_prev, gates = gx[start:stop], gh[start:stop], c_prev[start:stop], gates[start:stop]
    c, tanh_c, h = c[start:stop], tanh_c[start:stop], h[start:stop]
    hidden = c.shape[1]
    for n in range(c.shape[0]):
        for j in range(hidden):
            i = sigmoid32(gx[n, j] + gh[n, j])
            f = sigmoid32(gx[n, hidden + j] + gh[n, hidden + j])
            g = tanh32(gx[n, 2 * hidden + j] + gh[n, 2 * hidden + j])
            o = sigmoid32(gx[n, 3 * hidden + j] + gh[n, 3 * hidden + j])
            gates[n, j], gates[n, hidden + j] = i, f
            gates[n, 2 * hidden + j], gates[n, 3 * hidden + j] = g, o
            cell = f * c_prev[n, j] + i * g
            t = tanh32(cell)
            c[n, j], tanh_c[n, j], h[n, j] = cell, t, o * t


@jit
def _backward_range(start, stop, part, dh, dc, gates, c_prev, tanh_c, d_gates, dc_prev):
    """From dh, dc at this step: d(pre-activation gates) and dc for the step before."""
    one = np.float32(1.0)
    dh, dc, gates, c_prev = dh[start:stop], dc[start:stop], gates[start:stop], c_prev[start:stop]
    tanh_c, d_gates, dc_prev = tanh_c[start:stop], d_gates[start:stop], dc_prev[start:stop]
    hidden = dh.shape[1]
    for n in range(dh.shape[0]):
        for j in range(hidden):
            i, f = gates[n, j], gates[n, hidden + j]
            g, o = gates[n, 2 * hidden + j], gates[n, 3 * hidden + j]
            t = tanh_c[n, j]
            dcell = dc[n, j] + dh[n, j] * o * (one - t * t)
            d_gates[n, j] = dcell * g * i * (one - i)
            d_gates[n, hidden + j] = dcell * c_prev[n, j] * f * (one - f)
            d_gates[n, 2 * hidden + j] = dcell * i * (one - g * g)
            d_gates[n, 3 * hidden + j] = dh[n, j] * t * o * (one - o)
            dc_prev[n, j] = dcell * f


def lstm_forward_step(gx, gh, c_prev):
    """(gates, c, tanh(c), h) of one LSTM step from the two (N, 4H) projections."""
    batch, hidden = c_prev.shape
    gates = np.empty((batch, 4 * hidden), np.float32)
    c, tanh_c, h = (np.empty((batch, hidden), np.float32) for _ in range(3))
    parallel_ranges(_forward_range, batch, 4 * hidden, gx, gh, np.ascontiguousarray(c_prev),
                    gates, c, tanh_c, h)
    return gates, c, tanh_c, h


def lstm_backward_step(dh, dc, gates, c_prev, tanh_c, d_gates):
    """Fill ``d_gates`` (N, 4H) for one step; returns dc for the step before."""
    dc_prev = np.empty_like(tanh_c)
    parallel_ranges(_backward_range, dh.shape[0], gates.shape[1], np.ascontiguousarray(dh),
                    np.ascontiguousarray(dc), gates, c_prev, tanh_c, d_gates, dc_prev)
    return dc_prev
