"""The LSTM and GRU recurrences, forward and backward over all time steps in one compiled call
each: per step the GEMM with the hidden weights (NumPy's BLAS sgemm, called from the kernel)
and the gate arithmetic in one pass. Reference: ``ops/recurrent.py`` (``_run`` and
``_backward_steps``).

NOTE: why the whole sequence in one call: per step, a Python round trip (a matmul call, a
kernel call, temporaries) costs about as much as the gate arithmetic itself, 64 steps each
way. Why threads split the hidden units: a step's GEMM (batch x 4H x H) is too small for two
BLAS threads to pay, but the gates of a hidden unit depend only on that unit's columns, so each
thread takes a block of units, does its slice of the GEMM and its gates, and the threads meet
once per step (the next step needs all of h). On one free core it is one thread, no barrier.
"""

import numba
import numpy as np

from . import threads
from ._jit import jit, sigmoid32, tanh32
from ._native import barrier, sgemm, sgemm_address, yield_address

_FLOAT = 4  # bytes per float32: addresses below step in bytes


def available():
    """True when NumPy's BLAS sgemm can be called from kernels (else use the reference)."""
    return sgemm_address()[0] != 0


@jit
def _forward_units(start, stop, part, blas, sync, yield_to, gx, h0, c0, w_hh, gates, c, tanh_c,
                   h, reverse):
    """Hidden units [start, stop) of every step: gates = activations of gx + h_prev W_hh^T in
    PyTorch's order (i, f, g, o); c = f c_prev + i g; h = o tanh(c). The loops are short and
    each writes one or two arrays: LLVM vectorises a loop only when it can check cheaply that
    its arrays do not overlap (one loop over all nine arrays: 17x slower; the four gates
    activated in one loop, in place in one row: 3.5x slower, measured)."""
    steps, batch, width = gx.shape
    hidden, units = width // 4, stop - start
    gh = np.empty((batch, 4 * units), np.float32)
    zero = np.float32(0.0)
    weights, product = numba.int64(w_hh.ctypes.data), numba.int64(gh.ctypes.data)
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        before = t + 1 if reverse else t - 1
        h_prev = h0 if s == 0 else h[before]
        c_prev = c0 if s == 0 else c[before]
        state = numba.int64(h_prev.ctypes.data)
        if units == hidden:
            sgemm(blas, True, batch, width, hidden, state, hidden, weights, hidden, zero, product,
                  width)
        else:  # this thread's rows of each gate's block of W_hh
            for k in range(4):
                sgemm(blas, True, batch, units, hidden, state, hidden,
                      weights + _FLOAT * (k * hidden + start) * hidden, hidden, zero,
                      product + _FLOAT * k * units, 4 * units)
        for n in range(batch):
            row, pre_x, pre_h = gates[t, n], gx[t, n], gh[n]
            for k in range(4):  # (k is the gate; the loop over j is what vectorises)
                first, last = k * hidden + start, k * hidden + stop
                into, x_part = row[first:last], pre_x[first:last]
                h_part = pre_h[k * units:(k + 1) * units]
                if k == 2:
                    for j in range(units):
                        into[j] = tanh32(x_part[j] + h_part[j])
                else:
                    for j in range(units):
                        into[j] = sigmoid32(x_part[j] + h_part[j])
            # gate views that count from 0 (see activation._gelu_range on why)
            i, f = row[start:stop], row[hidden + start:hidden + stop]
            g = row[2 * hidden + start:2 * hidden + stop]
            o = row[3 * hidden + start:3 * hidden + stop]
            cell, old = c[t, n, start:stop], c_prev[n, start:stop]
            for j in range(units):
                cell[j] = f[j] * old[j] + i[j] * g[j]
            squashed, out = tanh_c[t, n, start:stop], h[t, n, start:stop]
            for j in range(units):
                squashed[j] = tanh32(cell[j])
                out[j] = o[j] * squashed[j]
        barrier(sync, units, (s + 1) * hidden, yield_to)


@jit
def _backward_units(start, stop, part, blas, sync, yield_to, d_out, gates, c, c0, tanh_c, w_hh,
                    d_gates, dh, dc, reverse):
    """Hidden units [start, stop) of BPTT: d(pre-activation gates) of every step into d_gates,
    dc through the cell, and dh = d_gates W_hh for the step before; dh and dc come out as the
    gradients of h0 and c0."""
    steps, batch, width = gates.shape
    hidden, units = width // 4, stop - start
    one, zero = np.float32(1.0), np.float32(0.0)
    weights, d_state = numba.int64(w_hh.ctypes.data), numba.int64(dh.ctypes.data)
    for s in range(steps):
        t = s if reverse else steps - 1 - s
        c_prev = c0 if s == steps - 1 else c[t + 1 if reverse else t - 1]
        for n in range(batch):
            row, d_row = gates[t, n], d_gates[t, n]
            i, f = row[start:stop], row[hidden + start:hidden + stop]
            g = row[2 * hidden + start:2 * hidden + stop]
            o = row[3 * hidden + start:3 * hidden + stop]
            d_i, d_f = d_row[start:stop], d_row[hidden + start:hidden + stop]
            d_g = d_row[2 * hidden + start:2 * hidden + stop]
            d_o = d_row[3 * hidden + start:3 * hidden + stop]
            squashed, above = tanh_c[t, n, start:stop], d_out[t, n, start:stop]
            grad_h, grad_c, old = dh[n, start:stop], dc[n, start:stop], c_prev[n, start:stop]
            for j in range(units):
                total = grad_h[j] + above[j]
                dcell = grad_c[j] + total * o[j] * (one - squashed[j] * squashed[j])
                grad_c[j] = dcell * f[j]
                d_o[j] = total * squashed[j] * o[j] * (one - o[j])
                d_i[j] = dcell * g[j] * i[j] * (one - i[j])
                d_f[j] = dcell * old[j] * f[j] * (one - f[j])
                d_g[j] = dcell * i[j] * (one - g[j] * g[j])
        barrier(sync, units, (s + 1) * hidden, yield_to)  # all of d_gates[t] is written
        sgemm(blas, False, batch, units, width, numba.int64(d_gates[t].ctypes.data), width,
              weights + _FLOAT * start, hidden, zero, d_state + _FLOAT * start, hidden)


def _split(kernel, batch, hidden, *args):
    """Run ``kernel`` over the hidden units: split when a step's GEMM has ~batch * H * H / 2
    multiply-adds or more (smaller steps cannot repay a barrier per step), into at most two
    parts. Two, because the threads wait for each other: the first part runs on this thread
    and the second on the pool, so a part on the pool only ever waits for a thread that is
    running; a third part could sit queued behind another caller's task that waits too."""
    threads.parallel_ranges(kernel, hidden, max(batch * hidden // 2, 1), sgemm_address(),
                            np.zeros(1, np.int64), yield_address(), *args, parts=2)


def lstm_forward(gx, h0, c0, w_hh, reverse):
    """The LSTM over all steps from the input projections ``gx`` (T, N, 4H, biases added):
    returns (h of every step, activated gates, c, tanh(c)); h and c of the last step are the
    final states."""
    steps, batch, width = gx.shape
    hidden = width // 4
    gates = np.empty_like(gx)
    h, c, tanh_c = (np.empty((steps, batch, hidden), np.float32) for _ in range(3))
    threads.gemm(1)  # every thread's GEMMs on one BLAS thread
    _split(_forward_units, batch, hidden, np.ascontiguousarray(gx), np.ascontiguousarray(h0),
           np.ascontiguousarray(c0), np.ascontiguousarray(w_hh), gates, c, tanh_c, h, reverse)
    return h, gates, c, tanh_c


def lstm_backward(d_out, dh, dc, gates, c, c0, tanh_c, w_hh, reverse):
    """BPTT from the gradients of every step's h (``d_out``) and of the final states:
    returns (d pre-activation gates (T, N, 4H), gradient of h0, gradient of c0)."""
    batch, hidden = c0.shape
    d_gates = np.empty_like(gates)
    dh, dc = np.array(dh, np.float32, order="C"), np.array(dc, np.float32, order="C")  # copies
    threads.gemm(1)
    _split(_backward_units, batch, hidden, np.ascontiguousarray(d_out), gates, c,
           np.ascontiguousarray(c0), tanh_c, np.ascontiguousarray(w_hh), d_gates, dh, dc,
           reverse)
    return d_gates, dh, dc


@jit
def _gru_forward_units(start, stop, part, blas, sync, yield_to, gx, h0, w_hh, b_hh, gates, gh_n,
                       h, reverse):
    """Hidden units [start, stop) of every step of a GRU (gates r, z, n in PyTorch's order):
    r, z = sigmoid(gx + h_prev W_hh^T + b_hh) of their blocks; gh_n = (h_prev W_hh^T + b_hh)
    of the n block (kept for backward); n = tanh(gx_n + r gh_n); h = (1 - z) n + z h_prev.
    ``gx`` holds x W_ih^T + b_ih; loops as in ``_forward_units``."""
    steps, batch, width = gx.shape
    hidden, units = width // 3, stop - start
    gh = np.empty((batch, 3 * units), np.float32)
    one, zero = np.float32(1.0), np.float32(0.0)
    weights, product = numba.int64(w_hh.ctypes.data), numba.int64(gh.ctypes.data)
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        h_prev = h0 if s == 0 else h[t + 1 if reverse else t - 1]
        state = numba.int64(h_prev.ctypes.data)
        if units == hidden:
            sgemm(blas, True, batch, width, hidden, state, hidden, weights, hidden, zero, product,
                  width)
        else:
            for k in range(3):
                sgemm(blas, True, batch, units, hidden, state, hidden,
                      weights + _FLOAT * (k * hidden + start) * hidden, hidden, zero,
                      product + _FLOAT * k * units, 3 * units)
        for n in range(batch):
            row, pre_x, pre_h = gates[t, n], gx[t, n], gh[n]
            for k in range(2):
                first, last = k * hidden + start, k * hidden + stop
                into, x_part, bias = row[first:last], pre_x[first:last], b_hh[first:last]
                h_part = pre_h[k * units:(k + 1) * units]
                for j in range(units):
                    into[j] = sigmoid32(x_part[j] + (h_part[j] + bias[j]))
            first, last = 2 * hidden + start, 2 * hidden + stop
            kept, bias, h_part = gh_n[t, n, start:stop], b_hh[first:last], pre_h[2 * units:]
            for j in range(units):
                kept[j] = h_part[j] + bias[j]
            r, x_part, new = row[start:stop], pre_x[first:last], row[first:last]
            for j in range(units):
                new[j] = tanh32(x_part[j] + r[j] * kept[j])
            z, out = row[hidden + start:hidden + stop], h[t, n, start:stop]
            old = h_prev[n, start:stop]
            for j in range(units):
                out[j] = (one - z[j]) * new[j] + z[j] * old[j]
        barrier(sync, units, (s + 1) * hidden, yield_to)


@jit
def _gru_backward_units(start, stop, part, blas, sync, yield_to, d_out, h0, h, gates, gh_n, w_hh,
                        d_gx, d_gh, dh, reverse):
    """Hidden units [start, stop) of a GRU's BPTT: the gradients of gx and of
    h W_hh^T + b_hh of every step, and dh = dh z + d_gh W_hh for the step before (dh comes out
    as the gradient of h0)."""
    steps, batch, width = gates.shape
    hidden, units = width // 3, stop - start
    one = np.float32(1.0)
    weights, d_state = numba.int64(w_hh.ctypes.data), numba.int64(dh.ctypes.data)
    for s in range(steps):
        t = s if reverse else steps - 1 - s
        h_prev = h0 if s == steps - 1 else h[t + 1 if reverse else t - 1]
        for n in range(batch):
            row, dx_row, dh_row = gates[t, n], d_gx[t, n], d_gh[t, n]
            r, z = row[start:stop], row[hidden + start:hidden + stop]
            new = row[2 * hidden + start:2 * hidden + stop]
            kept, above, grad_h = gh_n[t, n, start:stop], d_out[t, n, start:stop], dh[n, start:stop]
            old = h_prev[n, start:stop]
            d_r, d_z = dx_row[start:stop], dx_row[hidden + start:hidden + stop]
            d_new = dx_row[2 * hidden + start:2 * hidden + stop]
            for j in range(units):
                total = grad_h[j] + above[j]
                d_n = total * (one - z[j]) * (one - new[j] * new[j])
                d_r[j] = d_n * kept[j] * r[j] * (one - r[j])
                d_z[j] = total * (old[j] - new[j]) * z[j] * (one - z[j])
                d_new[j] = d_n
                grad_h[j] = total * z[j]  # the GEMM below adds d_gh W_hh to it
            h_r, h_z = dh_row[start:stop], dh_row[hidden + start:hidden + stop]
            h_new = dh_row[2 * hidden + start:2 * hidden + stop]
            for j in range(units):
                h_r[j] = d_r[j]
                h_z[j] = d_z[j]
                h_new[j] = d_new[j] * r[j]
        barrier(sync, units, (s + 1) * hidden, yield_to)  # all of d_gh[t] is written
        sgemm(blas, False, batch, units, width, numba.int64(d_gh[t].ctypes.data), width,
              weights + _FLOAT * start, hidden, one, d_state + _FLOAT * start, hidden)


def gru_forward(gx, h0, w_hh, b_hh, reverse):
    """A GRU over all steps from the input projections ``gx`` (T, N, 3H, b_ih added) and the
    hidden bias ``b_hh`` (None: no bias): returns (h of every step, activated gates r, z, n,
    the n block of h W_hh^T + b_hh)."""
    steps, batch, width = gx.shape
    hidden = width // 3
    gates = np.empty_like(gx)
    h, gh_n = (np.empty((steps, batch, hidden), np.float32) for _ in range(2))
    bias = np.zeros(width, np.float32) if b_hh is None else np.ascontiguousarray(b_hh)
    threads.gemm(1)
    _split(_gru_forward_units, batch, hidden, np.ascontiguousarray(gx), np.ascontiguousarray(h0),
           np.ascontiguousarray(w_hh), bias, gates, gh_n, h, reverse)
    return h, gates, gh_n


def gru_backward(d_out, dh, h0, h, gates, gh_n, w_hh, reverse):
    """A GRU's BPTT from the gradients of every step's h and of the final state: returns
    (d gx (T, N, 3H), d of h W_hh^T + b_hh (T, N, 3H), gradient of h0)."""
    batch, hidden = h0.shape
    d_gx, d_gh = np.empty_like(gates), np.empty_like(gates)
    dh = np.array(dh, np.float32, order="C")  # a copy: the kernel updates it
    threads.gemm(1)
    _split(_gru_backward_units, batch, hidden, np.ascontiguousarray(d_out),
           np.ascontiguousarray(h0), h, gates, gh_n, np.ascontiguousarray(w_hh), d_gx, d_gh, dh,
           reverse)
    return d_gx, d_gh, dh
