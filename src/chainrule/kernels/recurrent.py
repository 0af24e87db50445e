"""The LSTM cell's gate arithmetic, one time step forward and backward, in one pass each (the
GEMMs stay with BLAS). Reference: ``ops/recurrent.py`` (``_run``/``_run_backward``, LSTM)."""

import numpy as np

from ._jit import jit, sigmoid32, tanh32
from .threads import parallel_ranges


@jit
def _forward_range(start, stop, part, gx, gh, c_prev, gates, c, tanh_c, h):
    """gates = activations of gx + gh in PyTorch's order (i, f, g, o); c = f c_prev + i g;
    h = o tanh(c). Several short loops per row rather than one: a loop touching all nine
    arrays is not vectorised (too many possible overlaps to check; measured 17x slower)."""
    gx, gh, c_prev, gates = gx[start:stop], gh[start:stop], c_prev[start:stop], gates[start:stop]
    c, tanh_c, h = c[start:stop], tanh_c[start:stop], h[start:stop]
    hidden = c.shape[1]
    for n in range(c.shape[0]):
        row = gates[n]
        pre_x, pre_h = gx[n], gh[n]
        for j in range(4 * hidden):
            row[j] = pre_x[j] + pre_h[j]
        # gate views that count from 0 (see activation._gelu_range on why)
        i, f = row[:hidden], row[hidden:2 * hidden]
        g, o = row[2 * hidden:3 * hidden], row[3 * hidden:]
        for j in range(hidden):
            i[j] = sigmoid32(i[j])
            f[j] = sigmoid32(f[j])
            g[j] = tanh32(g[j])
            o[j] = sigmoid32(o[j])
        cell, before = c[n], c_prev[n]
        for j in range(hidden):
            cell[j] = f[j] * before[j] + i[j] * g[j]
        squashed, out = tanh_c[n], h[n]
        for j in range(hidden):
            squashed[j] = tanh32(cell[j])
            out[j] = o[j] * squashed[j]


@jit
def _backward_range(start, stop, part, dh, dc, gates, c_prev, tanh_c, d_gates, dc_prev):
    """From dh, dc at this step: d(pre-activation gates) and dc for the step before."""
    one = np.float32(1.0)
    dh, dc, gates, c_prev = dh[start:stop], dc[start:stop], gates[start:stop], c_prev[start:stop]
    tanh_c, d_gates, dc_prev = tanh_c[start:stop], d_gates[start:stop], dc_prev[start:stop]
    hidden = dh.shape[1]
    for n in range(dh.shape[0]):
        row, d_row = gates[n], d_gates[n]
        i, f = row[:hidden], row[hidden:2 * hidden]
        g, o = row[2 * hidden:3 * hidden], row[3 * hidden:]
        d_i, d_f = d_row[:hidden], d_row[hidden:2 * hidden]
        d_g, d_o = d_row[2 * hidden:3 * hidden], d_row[3 * hidden:]
        t, grad_h, grad_c, before, grad_before = tanh_c[n], dh[n], dc[n], c_prev[n], dc_prev[n]
        for j in range(hidden):
            dcell = grad_c[j] + grad_h[j] * o[j] * (one - t[j] * t[j])
            grad_before[j] = dcell * f[j]
            d_o[j] = grad_h[j] * t[j] * o[j] * (one - o[j])
            d_i[j] = dcell * g[j] * i[j] * (one - i[j])
            d_f[j] = dcell * before[j] * f[j] * (one - f[j])
            d_g[j] = dcell * i[j] * (one - g[j] * g[j])


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
