"""Recurrent networks (RNN with tanh/relu, LSTM, GRU) as one fused op over the whole sequence.

``Recurrent`` runs every layer and direction on arrays: the input projection of all time steps
is one GEMM per layer and direction, each step one GEMM with the hidden weights plus the gate
arithmetic; backward is backpropagation through time written out by hand (gates in PyTorch's
order: LSTM i, f, g, o; GRU r, z, n with n = tanh(W_in x + b_in + r * (W_hn h + b_hn))).

NOTE: backward computes on arrays rather than with differentiable tensor ops: recording a graph
of ~20 ops per time step would cost more than the whole fused step. Its gradients therefore
cannot be differentiated again; under ``create_graph=True`` they come out of a ``RecurrentGrad``
node whose backward raises a clear error instead of giving silently wrong second derivatives.
"""

from collections import namedtuple

import numpy as np

from .. import kernels
from ..autograd import grad_mode
from ..autograd.function import Function
from ..kernels.threads import blas_matmul
from ..random import numpy_generator
from ._operands import wrap
from .registry import register

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow for large |x|, unlike 1 / (1 + e^-x)


# A forward pass taken by the LSTM/GRU kernels (the whole sequence): its backward goes through
# them too (``saved``: what the mode's backward kernel takes after the upstream gradients).
_KernelRun = namedtuple("_KernelRun", "kernels h0 out saved")


def _fused_kernels(mode, x, h, c, w_hh):
    """The LSTM/GRU sequence kernels when they apply (float32, big enough, BLAS reachable).
    The work counted: the gates and a read of W_hh per step (one step of a 256-unit cell
    at batch 32 is 2.2x ``kernels.MIN_SIZE``; a 16-unit one at batch 8, 20 steps, 0.1x)."""
    if mode not in ("LSTM", "GRU"):
        return None
    steps, batch = x.shape[:2]
    fast = kernels.load("recurrent", x, *(a for a in (h, c, w_hh) if a is not None),
                        size=steps * (batch * w_hh.shape[0] + w_hh.size))
    return fast if fast is not None and fast.available() else None


# -- one layer, one direction ------------------------------------------------------------------
def _run(mode, x, h, c, w_ih, w_hh, b_ih, b_hh, reverse):
    """Forward over time for one layer and direction; returns outputs (T, N, H), final states
    and what backward needs."""
    steps, hidden = x.shape[0], w_hh.shape[1]
    fast = _fused_kernels(mode, x, h, c, w_hh)
    last = 0 if reverse else steps - 1
    if fast is not None and mode == "LSTM":
        # NOTE: all steps in one compiled call, the input projection and the biases there
        # (``lstm_forward``: no (T, N, 4H) array written out and read back); the LSTM lines
        # below are its reference
        bias = None if b_ih is None else b_ih + b_hh
        out, gates, cells, tanh_c = fast.lstm_forward(x, w_ih, h, c, w_hh, bias, reverse)
        return out, out[last], cells[last], _KernelRun(fast, h, out, (gates, cells, c, tanh_c))
    # all time steps in one GEMM; 2-D operands keep NumPy on its BLAS path (a 3-D @ transposed
    # 2-D matmul is many times slower)
    rows = x.reshape(-1, x.shape[2])
    if len(rows) <= 32:  # NOTE: OpenBLAS's x W_ih^T is slow for few rows (a cell's step, 32 x
        # 256 by 256 x 1024: 0.46 ms); (W_ih x^T)^T and its copy take 0.30 (from 128 rows: more)
        gx = np.ascontiguousarray(blas_matmul(w_ih, rows.T).T)
    else:
        gx = blas_matmul(rows, w_ih.T)
    gx = gx.reshape(x.shape[:2] + (-1,))
    if b_ih is not None:
        gx += b_ih if mode == "GRU" else b_ih + b_hh  # GRU keeps b_hn apart: it is scaled by r
    if fast is not None:  # NOTE: the GRU's kernels take the input projections
        out, gates, gh_n = fast.gru_forward(gx, h, w_hh, b_hh, reverse)
        return out, out[last], None, _KernelRun(fast, h, out, (gates, gh_n))
    out = np.empty(x.shape[:2] + (hidden,), dtype=x.dtype)
    cache = []
    for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
        gh = blas_matmul(h, w_hh.T)
        if mode == "LSTM":
            gates = gx[t] + gh
            i, f = _sigmoid(gates[:, :hidden]), _sigmoid(gates[:, hidden:2 * hidden])
            g, o = np.tanh(gates[:, 2 * hidden:3 * hidden]), _sigmoid(gates[:, 3 * hidden:])
            c_prev, c = c, f * c + i * g
            tanh_c = np.tanh(c)
            cache.append((h, c_prev, i, f, g, o, tanh_c))
            h = o * tanh_c
        elif mode == "GRU":
            if b_hh is not None:
                gh += b_hh
            r = _sigmoid(gx[t, :, :hidden] + gh[:, :hidden])
            z = _sigmoid(gx[t, :, hidden:2 * hidden] + gh[:, hidden:2 * hidden])
            n = np.tanh(gx[t, :, 2 * hidden:] + r * gh[:, 2 * hidden:])
            cache.append((h, r, z, n, gh[:, 2 * hidden:]))
            h = (1.0 - z) * n + z * h
        else:
            pre = gx[t] + gh
            h_prev = h
            h = np.tanh(pre) if mode == "RNN_TANH" else np.maximum(pre, 0)
            cache.append((h_prev, h))
        out[t] = h
    return out, h, c, cache


def _run_backward(mode, x, w_ih, w_hh, has_bias, cache, d_out, dh, dc, reverse, need_x):
    """BPTT for one layer and direction: gradients of x, h0, c0 and the four weights."""
    if isinstance(cache, _KernelRun):  # NOTE: the kernels also take the weight gradients
        if mode == "LSTM":                # (pipelined with BPTT); the lines below are their
            grads, dh, dc = cache.kernels.lstm_backward(  # reference
                d_out, dh, dc, *cache.saved, w_hh, reverse, x, cache.h0, cache.out, w_ih,
                need_x)
        else:
            grads, dh = cache.kernels.gru_backward(d_out, dh, cache.h0, cache.out, *cache.saved,
                                                   w_hh, reverse, x, w_ih, need_x)
        return grads, dh, dc
    d_gx, d_gh, h_prevs, dh, dc = _backward_steps(mode, x, w_hh, cache, d_out, dh, dc, reverse)
    flat = lambda a: a.reshape(-1, a.shape[-1])  # noqa: E731 - (T, N, F) -> (T*N, F)
    grads = {
        "x": blas_matmul(flat(d_gx), w_ih).reshape(x.shape) if need_x else None,
        "w_ih": blas_matmul(flat(d_gx).T, flat(x)),
        "w_hh": blas_matmul(flat(d_gh).T, flat(h_prevs)),
    }
    if has_bias:
        grads["b_ih"] = flat(d_gx).sum(axis=0)
        grads["b_hh"] = flat(d_gh).sum(axis=0)
    return grads, dh, dc


def _backward_steps(mode, x, w_hh, cache, d_out, dh, dc, reverse):
    """The steps of BPTT on NumPy: (d gates of x's projection, d gates of h's, h before each
    step, gradient of h0, of c0)."""
    steps, hidden = x.shape[0], w_hh.shape[1]
    d_gx = np.empty(x.shape[:2] + (GATES[mode] * hidden,), dtype=x.dtype)
    d_gh = d_gx if mode != "GRU" else np.empty_like(d_gx)  # gradient of h @ w_hh.T (+ b_hh)
    h_prevs = np.empty(x.shape[:2] + (hidden,), dtype=x.dtype)
    times = range(steps) if reverse else range(steps - 1, -1, -1)
    for k, t in enumerate(times):
        step = cache[steps - 1 - k]
        dh = dh + d_out[t]
        if mode == "LSTM":
            h_prev, c_prev, i, f, g, o, tanh_c = step
            dc = dc + dh * o * (1.0 - tanh_c * tanh_c)
            d_gx[t, :, :hidden] = dc * g * i * (1.0 - i)
            d_gx[t, :, hidden:2 * hidden] = dc * c_prev * f * (1.0 - f)
            d_gx[t, :, 2 * hidden:3 * hidden] = dc * i * (1.0 - g * g)
            d_gx[t, :, 3 * hidden:] = dh * tanh_c * o * (1.0 - o)
            dc = dc * f
            dh = blas_matmul(d_gx[t], w_hh)
        elif mode == "GRU":
            h_prev, r, z, n, gh_n = step
            d_n = dh * (1.0 - z) * (1.0 - n * n)
            d_r = d_n * gh_n * r * (1.0 - r)
            d_z = dh * (h_prev - n) * z * (1.0 - z)
            d_gx[t, :, :hidden] = d_gh[t, :, :hidden] = d_r
            d_gx[t, :, hidden:2 * hidden] = d_gh[t, :, hidden:2 * hidden] = d_z
            d_gx[t, :, 2 * hidden:] = d_n
            d_gh[t, :, 2 * hidden:] = d_n * r
            dh = dh * z + blas_matmul(d_gh[t], w_hh)
        else:
            h_prev, h = step
            slope = 1.0 - h * h if mode == "RNN_TANH" else (h > 0).astype(x.dtype)
            d_gx[t] = dh * slope
            dh = blas_matmul(d_gx[t], w_hh)
        h_prevs[t] = h_prev
    return d_gx, d_gh, h_prevs, dh, dc


# -- the fused op ------------------------------------------------------------------------------
class Recurrent(Function):
    """(output, h_n, c_n) = a multi-layer, optionally bidirectional RNN/LSTM/GRU over a
    time-major input (T, N, I) with states (L * D, N, H) and weights per layer and direction
    (w_ih, w_hh[, b_ih, b_hh]);  backward is BPTT through every step, layer and direction."""

    @staticmethod
    def forward(ctx, input, hx, cx, *weights, mode, num_layers, bidirectional, dropout, train,
                batch_first=False):
        # (batch_first: a layout hint only, see below)
        directions = 2 if bidirectional else 1
        per = len(weights) // (num_layers * directions)
        x = input._data
        h_n, c_n = np.empty_like(hx._data), (np.empty_like(cx._data) if cx is not None else None)
        layers = []
        for layer in range(num_layers):
            outs, runs = [], []
            for d in range(directions):
                k = layer * directions + d
                w = [t._data if t is not None else None for t in weights[k * per:(k + 1) * per]]
                w_ih, w_hh = w[0], w[1]
                b_ih, b_hh = (w[2], w[3]) if per == 4 else (None, None)
                out, h, c, cache = _run(mode, x, hx._data[k], cx._data[k] if cx is not None
                                        else None, w_ih, w_hh, b_ih, b_hh, reverse=d == 1)
                h_n[k] = h
                if c_n is not None:
                    c_n[k] = c
                outs.append(out)
                runs.append(cache)
            y = outs[0] if directions == 1 else np.concatenate(outs, axis=2)
            mask = None
            if dropout > 0 and train and layer < num_layers - 1:
                keep = numpy_generator().random(y.shape) >= dropout
                mask = keep.astype(y.dtype) / np.asarray(1.0 - dropout, dtype=y.dtype)
            layers.append((x, runs, mask))
            x = y * mask if mask is not None else y
        ctx.layers, ctx.mode, ctx.per, ctx.directions = layers, mode, per, directions
        ctx.save_for_backward(*weights)
        if batch_first:
            # NOTE: a batch_first caller transposes the output to (N, T, H): laid out so here,
            # once, the layer after it (a Linear's reshape to rows, in forward and again in
            # its backward) copies nothing, and the gradient that comes back is read as it is
            # by the LSTM's BPTT kernel (lstm workload: three 2 MB transposing copies -> one)
            x = np.ascontiguousarray(x.transpose(1, 0, 2)).transpose(1, 0, 2)
        outputs = (wrap(x), wrap(h_n), wrap(c_n) if c_n is not None else None)
        return outputs if cx is not None else outputs[:2]

    @staticmethod
    def backward(ctx, grad_output, grad_h_n, grad_c_n=None):
        weights = ctx.saved_tensors
        per, directions = ctx.per, ctx.directions
        d_x = grad_output._data
        dh_n, dc_n = grad_h_n._data, grad_c_n._data if grad_c_n is not None else None
        d_h0 = np.zeros_like(dh_n)
        d_c0 = np.zeros_like(dc_n) if dc_n is not None else None
        d_weights = [None] * len(weights)
        for layer in range(len(ctx.layers) - 1, -1, -1):
            x, runs, mask = ctx.layers[layer]
            d_y = d_x * mask if mask is not None else d_x
            hidden = d_y.shape[2] // directions
            need_x = layer > 0 or ctx.needs_input_grad[0]
            d_x = None
            for d in range(directions):
                k = layer * directions + d
                w = [t._data for t in weights[k * per:(k + 1) * per]]
                grads, dh, dc = _run_backward(
                    ctx.mode, x, w[0], w[1], per == 4, runs[d],
                    d_y[:, :, d * hidden:(d + 1) * hidden], dh_n[k],
                    dc_n[k] if dc_n is not None else None, reverse=d == 1, need_x=need_x)
                if need_x:  # (each direction's gradient of x is a new array)
                    d_x = grads["x"] if d_x is None else d_x + grads["x"]
                d_h0[k] = dh
                if d_c0 is not None:
                    d_c0[k] = dc
                for j, name in enumerate(("w_ih", "w_hh", "b_ih", "b_hh")[:per]):
                    d_weights[k * per + j] = grads[name]
        arrays = [d_x, d_h0, d_c0] + d_weights
        if grad_mode.is_grad_enabled():
            return RecurrentGrad.apply(grad_output, grad_h_n, grad_c_n, *weights, arrays=arrays)
        return tuple(wrap(a) if a is not None else None for a in arrays)


class RecurrentGrad(Function):
    """The gradients of ``Recurrent`` as a graph node, made under ``create_graph=True``;
    differentiating them again raises (BPTT is computed on arrays, see the module's NOTE)."""

    @staticmethod
    def forward(ctx, *inputs, arrays):
        ctx.set_materialize_grads(False)  # some outputs are None; backward only raises anyway
        return tuple(wrap(a) if a is not None else None for a in arrays)

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise RuntimeError(
            "double backward through a recurrent layer (RNN/LSTM/GRU and their cells) is not "
            "supported: its backward pass is fused on arrays. Take second derivatives of the "
            "other parts only, or write the cell out with tensor ops (e.g. torch.sigmoid, @)"
        )


class RecurrentCell(Function):
    """(h', c') = one step of an RNN/LSTM/GRU cell over input (N, I) and states (N, H) with
    weights (w_ih, w_hh[, b_ih, b_hh]) (c' for the LSTM only); backward is BPTT of that step.
    The sequence op's path for T = 1 (kernels included), without the four graph nodes that
    added and dropped a time axis around ``Recurrent`` nor its loop over layers."""

    @staticmethod
    def forward(ctx, input, hx, cx, *weights, mode):
        w = [t._data for t in weights]
        b_ih, b_hh = (w[2], w[3]) if len(w) == 4 else (None, None)
        x = input._data[None]
        _, h, c, cache = _run(mode, x, hx._data, cx._data if cx is not None else None, w[0],
                              w[1], b_ih, b_hh, reverse=False)
        ctx.x, ctx.cache, ctx.mode = x, cache, mode
        ctx.save_for_backward(*weights)
        return (wrap(h), wrap(c)) if cx is not None else wrap(h)

    @staticmethod
    def backward(ctx, grad_h, grad_c=None):
        weights = ctx.saved_tensors
        w = [t._data for t in weights]
        d_out = grad_h._data[None]
        grads, dh, dc = _run_backward(ctx.mode, ctx.x, w[0], w[1], len(w) == 4, ctx.cache, d_out,
                                      np.zeros_like(d_out[0]),
                                      grad_c._data if grad_c is not None else None,
                                      reverse=False, need_x=ctx.needs_input_grad[0])
        d_x = grads["x"][0] if grads["x"] is not None else None
        arrays = [d_x, dh, dc] + [grads[name] for name in ("w_ih", "w_hh", "b_ih", "b_hh")[:len(w)]]
        if grad_mode.is_grad_enabled():
            return RecurrentGrad.apply(grad_h, grad_c, *weights, arrays=arrays)
        return tuple(wrap(a) if a is not None else None for a in arrays)


# -- public functions --------------------------------------------------------------------------
def _recurrent(mode, input, hx, cx, params, has_biases, num_layers, dropout, train,
               bidirectional, batch_first):
    per = 4 if has_biases else 2
    directions = 2 if bidirectional else 1
    if len(params) != per * num_layers * directions:
        raise ValueError(f"{mode.lower()}: expected {per * num_layers * directions} weight "
                         f"tensors for {num_layers} layer(s) x {directions} direction(s), got "
                         f"{len(params)}")
    dtypes = {t.dtype for t in (input, hx, cx, *params) if t is not None}
    if len(dtypes) > 1:
        raise RuntimeError(f"{mode.lower()}: input, states and weights must share one dtype, got "
                           f"{sorted(str(d) for d in dtypes)}; convert with .to(dtype) (e.g. "
                           "model.double())")
    if batch_first:
        input = input.transpose(0, 1)
    outputs = Recurrent.apply(input, hx, cx, *params, mode=mode, num_layers=num_layers,
                              bidirectional=bidirectional, dropout=float(dropout),
                              train=bool(train), batch_first=bool(batch_first))
    if batch_first:
        outputs = (outputs[0].transpose(0, 1),) + tuple(outputs[1:])
    return outputs


def rnn_tanh(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
             batch_first):
    """(output, h_n) of an Elman RNN with tanh, as ``torch.rnn_tanh``."""
    return _recurrent("RNN_TANH", input, hx, None, params, has_biases, num_layers, dropout,
                      train, bidirectional, batch_first)


def rnn_relu(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
             batch_first):
    """(output, h_n) of an Elman RNN with ReLU, as ``torch.rnn_relu``."""
    return _recurrent("RNN_RELU", input, hx, None, params, has_biases, num_layers, dropout,
                      train, bidirectional, batch_first)


def lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    """(output, h_n, c_n) of an LSTM with hx = (h_0, c_0), as ``torch.lstm``."""
    h0, c0 = hx
    return _recurrent("LSTM", input, h0, c0, params, has_biases, num_layers, dropout, train,
                      bidirectional, batch_first)


def gru(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    """(output, h_n) of a GRU, as ``torch.gru``."""
    return _recurrent("GRU", input, hx, None, params, has_biases, num_layers, dropout, train,
                      bidirectional, batch_first)


def _cell(mode, input, h, c, w_ih, w_hh, b_ih, b_hh):
    """One time step (input (N, I), states (N, H)): (h', c') for the LSTM, (h',) otherwise."""
    params = [w_ih, w_hh] + ([b_ih, b_hh] if b_ih is not None else [])
    outputs = RecurrentCell.apply(input, h, c, *params, mode=mode)
    return outputs if c is not None else (outputs,)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    return _cell("RNN_TANH", input, hx, None, w_ih, w_hh, b_ih, b_hh)[0]


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    return _cell("RNN_RELU", input, hx, None, w_ih, w_hh, b_ih, b_hh)[0]


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """(h', c') of one LSTM step with hx = (h, c)."""
    return _cell("LSTM", input, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' of one GRU step."""
    return _cell("GRU", input, hx, None, w_ih, w_hh, b_ih, b_hh)[0]


# -- registration: chainrule.X (PyTorch's low-level recurrent functions, used by nn.RNN/LSTM/GRU)
register(rnn_tanh, Recurrent, RecurrentGrad, method=False)
register(rnn_relu, Recurrent, RecurrentGrad, method=False)
register(lstm, Recurrent, RecurrentGrad, method=False)
register(gru, Recurrent, RecurrentGrad, method=False)
register(rnn_tanh_cell, RecurrentCell, RecurrentGrad, method=False)
register(rnn_relu_cell, RecurrentCell, RecurrentGrad, method=False)
register(lstm_cell, RecurrentCell, RecurrentGrad, method=False)
register(gru_cell, RecurrentCell, RecurrentGrad, method=False)
