"""The gates of LSTM and GRU layers and cells, for the saturation rule.

An LSTM's output is ``o * tanh(c)``: when its gates saturate, the output sits near 0 as often as
at an asymptote, so reading it like a tanh misses them. Their pre-activations are therefore
rebuilt (``x W_ih + h_(t-1) W_hh + b``) and each gate counts as saturated like a sigmoid, each
candidate like a tanh:

- a one-layer LSTM or GRU, in one direction or both: from its input, its output (the state
  before step t is the output at t - 1, or at t + 1 running backwards) and its initial state,
  in one vectorised pass;
- a stacked one (``num_layers > 1``): the inner layers' outputs are not kept, so the recurrence
  is run again in NumPy, step by step, on the first ``STACKED_SEQUENCES`` sequences of the batch
  (only on sampled steps: about the cost of that slice's forward), and the most saturated
  layer's gates are counted;
- an LSTMCell or GRUCell: from the input and the state it was given (exact, one step).

A layer fed a ``PackedSequence`` (``pack_padded_sequence``) is rebuilt the same way from its
input and output unpacked, counting each sequence's own steps only (the padding after a short
sequence is no input; running backwards, a sequence starts from the initial state at its own
last step).
"""

import numpy as np

from .. import nn
from ..nn.utils.rnn import PackedSequence

STACKED_SEQUENCES = 16  # sequences a stacked layer's recurrence is run again on


def gate_saturation(module, args, output, eps):
    """(saturated, total, shut, open, memory) over the gates and candidate values of an LSTM
    or GRU layer or cell in this call: ``saturated`` of ``total`` values within ``eps`` of an
    asymptote, and ``shut`` and ``open`` of the ``memory`` gate's values within ``eps`` of 0 and
    of 1 (``_saturated``);
    None for other recurrent modules (their output is read)."""
    if isinstance(module, (nn.LSTMCell, nn.GRUCell)):
        return _cell(module, args, eps)
    mode = getattr(module, "mode", None)
    packed = isinstance(args[0], PackedSequence)
    # an LSTM's projection (proj_size) makes its output, and so the state its gates are given,
    # W_hr h: rebuilt from that output as it stands for one layer (a stacked one's recurrence
    # is not run again with it)
    projection = getattr(module, "proj_size", 0)
    if mode not in ("LSTM", "GRU") or (projection and module.num_layers > 1) or (
            not packed and args[0].dim() != 3):
        return None  # a plain RNN, a stacked projection or an unbatched input: read the output
    if packed:
        x, lengths = _padded(args[0])
        out, _ = _padded(output[0])
    else:
        x, out, lengths = args[0]._data, output[0]._data, None
        if not module.batch_first:
            x, out = x.swapaxes(0, 1), out.swapaxes(0, 1)
    initial = _initial_state(mode, args, x.shape[0], module)
    if module.num_layers > 1:
        return _stacked(module, mode, x, initial, eps, lengths)
    hidden = module.hidden_size
    width = projection or hidden  # of the output and the state fed back
    counted = (0, 0, 0, 0, 0)
    for direction in range(2 if module.bidirectional else 1):
        h = out[..., direction * width:(direction + 1) * width]
        start = initial[0][direction][:, None, :].astype(h.dtype, copy=False)
        # the state before step t: the output at t - 1, or at t + 1 running backwards
        previous = (np.concatenate([start, h[:, :-1]], axis=1) if not direction
                    else np.concatenate([h[:, 1:], start], axis=1))
        inputs = x
        if lengths is not None:  # each sequence's own steps; backwards, it starts at its end
            if direction:
                previous[np.arange(len(lengths)), lengths - 1] = start[:, 0]
            live = np.arange(x.shape[1]) < lengths[:, None]
            inputs, previous = x[live], previous[live]
        counts = _counts(mode, hidden, eps, inputs, previous, _weights(module, 0, direction))
        counted = tuple(a + b for a, b in zip(counted, counts))
    return counted


def _padded(sequence):
    """A PackedSequence as a (N, L, F) array in the batch's own order, and its lengths (in
    NumPy: ops on tensors here would run inside the model's forward, seen as the model's)."""
    data = sequence.data._data
    sizes = np.asarray(_array(sequence.batch_sizes), dtype=np.int64)
    padded = np.zeros((sizes[0], len(sizes)) + data.shape[1:], data.dtype)
    offset = 0
    for t, size in enumerate(sizes):  # time-major, longest sequences first
        padded[:size, t] = data[offset:offset + size]
        offset += size
    lengths = (sizes[None, :] > np.arange(sizes[0])[:, None]).sum(1)
    if sequence.unsorted_indices is not None:
        order = np.asarray(_array(sequence.unsorted_indices), dtype=np.int64)
        padded, lengths = padded[order], lengths[order]
    return padded, lengths


def _array(value):
    return value._data if hasattr(value, "_data") else value


def _weights(module, layer, direction, cell=False):
    suffix = "" if cell else f"_l{layer}" + ("_reverse" if direction else "")
    found = [getattr(module, name + suffix, None)
             for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    return [None if p is None else p._data for p in found]


def _initial_state(mode, args, batch, module):
    """(h0, c0) as (layers * directions, N, H) arrays (h0's last axis the projection's size
    where the LSTM has one): the state passed, else zeros."""
    directions = 2 if module.bidirectional else 1
    shape = (module.num_layers * directions, batch, module.hidden_size)
    state = args[1] if len(args) > 1 else None
    h0, c0 = (state if mode == "LSTM" and state is not None else (state, None))
    h0 = h0._data if hasattr(h0, "_data") and h0.dim() == 3 else np.zeros(
        shape[:2] + (getattr(module, "proj_size", 0) or shape[2],), np.float32)
    c0 = c0._data if hasattr(c0, "_data") and c0.dim() == 3 else np.zeros(shape, np.float32)
    return h0, c0


def _counts(mode, hidden, eps, x, previous, weights):
    """Saturated and total values of the gates made from ``x`` and the ``previous`` state."""
    w_ih, w_hh, b_ih, b_hh = weights
    gx, gh = x @ w_ih.T, previous @ w_hh.T
    if b_ih is not None:
        gx, gh = gx + b_ih, gh + b_hh
    return _saturated(*_preactivations(mode, hidden, gx, gh), eps, hidden)


def _preactivations(mode, hidden, gx, gh):
    """(the sigmoid gates' pre-activations, the candidate's) from the input's and the state's
    parts (biases included)."""
    if mode == "LSTM":
        gates = gx + gh
        sigmoid = np.concatenate([gates[..., :2 * hidden], gates[..., 3 * hidden:]], axis=-1)
        return sigmoid, gates[..., 2 * hidden:3 * hidden]
    sigmoid = gx[..., :2 * hidden] + gh[..., :2 * hidden]
    return sigmoid, gx[..., 2 * hidden:] + _sigmoid(sigmoid[..., :hidden]) * gh[..., 2 * hidden:]


def _saturated(sigmoid, tanh, eps, hidden):
    """(saturated, total, shut, open, memory): the gates and candidates within ``eps`` of an
    asymptote, and the memory gate's values within ``eps`` of 0 and of 1. The memory gate is the one
    that carries the state from step to step: an LSTM's forget gate (c = f * c + i * g) and a
    GRU's update gate (h = (1 - z) * n + z * h), both the second block of ``sigmoid``. Shut,
    the state is wiped at every step, and with it the one path made to carry the gradient
    back through time (what is left is the recurrent weights' path, a plain RNN's)."""
    # sigmoid(z) is within eps of 0 or 1 beyond |z| = log((1 - eps) / eps), tanh beyond atanh
    edge = np.log((1 - eps) / eps)
    saturated = (np.count_nonzero(np.abs(sigmoid) > edge)
                 + np.count_nonzero(np.abs(tanh) > np.arctanh(1 - eps)))
    memory = sigmoid[..., hidden:2 * hidden]
    return (saturated, sigmoid.size + tanh.size, np.count_nonzero(memory < -edge),
            np.count_nonzero(memory > edge), memory.size)


def _sigmoid(z):
    with np.errstate(over="ignore"):  # exp(-z) of a saturated gate overflows to inf: 0 then
        return 1.0 / (1.0 + np.exp(-z))


def _cell(module, args, eps):
    x = args[0]
    if x.dim() != 2:
        return None  # an unbatched input
    mode = "LSTM" if isinstance(module, nn.LSTMCell) else "GRU"
    state = args[1] if len(args) > 1 else None
    h = state[0] if mode == "LSTM" and state is not None else state
    h = h._data if hasattr(h, "_data") else np.zeros((x.shape[0], module.hidden_size),
                                                     x._data.dtype)
    return _counts(mode, module.hidden_size, eps, x._data, h,
                   _weights(module, 0, 0, cell=True))


def _stacked(module, mode, x, initial, eps, lengths=None):
    """The gates of the most saturated of its layers (pooled, a saturated first layer fed by
    raw inputs would be diluted by the layers above it, whose inputs are bounded), by running
    the recurrence again on a slice of the batch."""
    x = x[:STACKED_SEQUENCES]
    lengths = None if lengths is None else lengths[:STACKED_SEQUENCES]
    h0, c0 = (state[:, :STACKED_SEQUENCES] for state in initial)
    hidden, directions = module.hidden_size, 2 if module.bidirectional else 1
    worst, shut = (0, 1), (0, 0, 0)  # (the memory gate: its most shut layer's, as pooled
    # layers above one whose memory is shut would dilute it)
    for layer in range(module.num_layers):
        outputs, counted = [], (0, 0, 0, 0, 0)
        for direction in range(directions):
            index = layer * directions + direction
            out, counts = _recurrence(mode, hidden, eps, x, h0[index], c0[index],
                                      _weights(module, layer, direction), direction, lengths)
            outputs.append(out)
            counted = tuple(a + b for a, b in zip(counted, counts))
        if counted[0] * worst[1] > worst[0] * counted[1]:
            worst = counted[:2]
        if counted[4] and counted[2] * max(shut[2], 1) >= shut[0] * counted[4]:
            shut = counted[2:]
        x = np.concatenate(outputs, axis=-1)  # the next layer's input (dropout left out)
    return worst + shut


def _recurrence(mode, hidden, eps, x, h, c, weights, reverse, lengths=None):
    """One layer in one direction, step by step: its outputs (N, L, H), and its counts; with
    ``lengths``, a sequence's steps after its end are not counted and leave its state as it
    was (so running backwards it starts from the initial state at its own last step)."""
    w_ih, w_hh, b_ih, b_hh = weights
    gx_all = x @ w_ih.T + (b_ih if b_ih is not None else 0.0)
    out = np.empty(x.shape[:2] + (hidden,), gx_all.dtype)
    counted = (0, 0, 0, 0, 0)
    for t in range(x.shape[1] - 1, -1, -1) if reverse else range(x.shape[1]):
        gh = h @ w_hh.T + (b_hh if b_hh is not None else 0.0)
        sigmoid, tanh = _preactivations(mode, hidden, gx_all[:, t], gh)
        live = slice(None) if lengths is None else t < lengths
        counts = _saturated(sigmoid[live], tanh[live], eps, hidden)
        counted = tuple(a + b for a, b in zip(counted, counts))
        h_before, c_before = h, c
        if mode == "LSTM":  # sigmoid holds the input, forget and output gates
            gate = _sigmoid(sigmoid)
            c = gate[:, hidden:2 * hidden] * c + gate[:, :hidden] * np.tanh(tanh)
            h = gate[:, 2 * hidden:] * np.tanh(c)
        else:  # the reset and update gates
            update = _sigmoid(sigmoid[:, hidden:])
            h = (1 - update) * np.tanh(tanh) + update * h
        if lengths is not None:
            h = np.where(live[:, None], h, h_before)
            c = c if c is None else np.where(live[:, None], c, c_before)
        out[:, t] = h
    return out, counted


GAIN_SEQUENCES = 8  # sequences the backward gain through time is measured on
# the gain over a sequence from which a recurrent layer started large is reported as amplifying
# through time (rules.py, ``_measured_through_time``; docs/diagnostics.md gives the figures):
# healthy layers let the signal fade (at most 0.45 over 10 steps, orthogonal or identity
# recurrences of width 64; PyTorch's default 4e-3), layers started large that still train over
# 12 steps reach 13 (a tanh RNN with recurrent gain 3, width 64), and those that do not train
# over 30 to 40 steps are at 24 to 270 (an LSTM 10 times too large, width 48 or 64)
AMPLIFIED_THROUGH_TIME = 30.0


def through_time_gain(module, args, output, seed=0):
    """How many times the backward signal grows through time in a one-layer RNN, LSTM or GRU
    (in one direction or both; the larger): a random unit vector put on the state after the
    last step is carried back to the state before the first through the recurrence's own
    Jacobians at this call's states (rebuilt in NumPy on the first ``GAIN_SEQUENCES``
    sequences), and its norm there is returned, the geometric mean over the sequences. In a
    healthy layer the signal fades (PyTorch's default initialisation: 1e-11 to 1e-15 over 60
    steps), and an orthogonal or identity recurrence at most keeps it (each step's Jacobian is
    the recurrent matrix, of norm 1, times derivatives of at most 1); above 1 it is amplified
    through time, which is what an explosion through time is, measured where it happens rather
    than through its trace in the gradients' sizes. A stacked layer's is the largest of its
    layers' gains, each carried back through its own recurrence on the outputs of the layer
    below (rebuilt without the dropout between them, as in evaluation), each from the same
    random directions as a layer of its own would be. None where it cannot be rebuilt (a
    projection, a PackedSequence, an unbatched input, a cell: its steps are separate
    calls)."""
    mode = getattr(module, "mode", None)
    if (mode not in ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")
            or getattr(module, "proj_size", 0) or isinstance(args[0], PackedSequence)
            or args[0].dim() != 3):
        return None
    x = args[0]._data
    if not module.batch_first:
        x = x.swapaxes(0, 1)
    x = x[:GAIN_SEQUENCES].astype(np.float64)
    h0, c0 = (state[:, :GAIN_SEQUENCES].astype(np.float64)
              for state in _initial_state(mode, args, args[0].shape[0 if module.batch_first
                                                                    else 1], module))
    # a batch of fewer sequences carries several directions back through each, so that the
    # mean is always over GAIN_SEQUENCES of them: from one random direction, the share of it
    # along the direction that grows most scatters the gain by orders of magnitude (a tanh RNN
    # with recurrent gain 3 on batches of one: 20, 0.88, 0.47 at steps 1, 2, 4)
    repeats = -(-GAIN_SEQUENCES // x.shape[0]) if x.shape[0] else 1
    if repeats > 1:
        x, h0, c0 = (np.repeat(a, repeats, axis=axis) for a, axis in ((x, 0), (h0, 1), (c0, 1)))
    directions = 2 if module.bidirectional else 1
    gains = []
    for layer in range(module.num_layers):
        rng = np.random.default_rng(seed)
        outputs = []
        for direction in range(directions):
            weights = [None if w is None else w.astype(np.float64)
                       for w in _weights(module, layer, direction)]
            state = layer * directions + direction
            steps = x[:, ::-1] if direction else x
            start = rng.standard_normal(h0[state].shape)
            start /= np.linalg.norm(start, axis=1, keepdims=True)
            with np.errstate(all="ignore"):
                trace, out = _forward_trace(mode, module.hidden_size, steps, h0[state],
                                            c0[state], weights)
                carried = _carry_back(mode, module.hidden_size, trace, weights, start)
                gains.append(float(np.exp(np.mean(np.log(np.maximum(carried, 1e-300))))))
            outputs.append(out[:, ::-1] if direction else out)
        x = np.concatenate(outputs, axis=2) if directions > 1 else outputs[0]
    return max(gains)


def _forward_trace(mode, hidden, x, h, c, weights):
    """Each step's (state before, gate values) for ``_carry_back``, and the layer's outputs
    (N, T, H): the next stacked layer's input."""
    w_ih, w_hh, b_ih, b_hh = weights
    gx_all = x @ w_ih.T + (b_ih if b_ih is not None else 0.0)
    trace, outputs = [], []
    for t in range(x.shape[1]):
        gh = h @ w_hh.T + (b_hh if b_hh is not None else 0.0)
        if mode == "LSTM":
            gates = gx_all[:, t] + gh
            i, f, o = (_sigmoid(gates[:, k * hidden:(k + 1) * hidden]) for k in (0, 1, 3))
            g = np.tanh(gates[:, 2 * hidden:3 * hidden])
            c_new = f * c + i * g
            trace.append((i, f, g, o, c, np.tanh(c_new)))
            h, c = o * np.tanh(c_new), c_new
        elif mode == "GRU":
            gx = gx_all[:, t]
            r = _sigmoid(gx[:, :hidden] + gh[:, :hidden])
            z = _sigmoid(gx[:, hidden:2 * hidden] + gh[:, hidden:2 * hidden])
            n = np.tanh(gx[:, 2 * hidden:] + r * gh[:, 2 * hidden:])
            trace.append((r, z, n, h, gh[:, 2 * hidden:]))
            h = (1 - z) * n + z * h
        else:
            a = gx_all[:, t] + gh
            h = np.tanh(a) if mode == "RNN_TANH" else np.maximum(a, 0.0)
            trace.append(1 - h * h if mode == "RNN_TANH" else (a > 0).astype(a.dtype))
        outputs.append(h)
    return trace, np.stack(outputs, axis=1)


def _carry_back(mode, hidden, trace, weights, dh):
    """The norm per sequence of ``dh`` (on the last state) carried back to the first state
    (for an LSTM, the hidden and cell states' together), by the chain rule step by step."""
    w_hh = weights[1]
    dc = np.zeros_like(dh)
    for step in reversed(trace):
        if mode == "LSTM":
            i, f, g, o, c_before, tanh_c = step
            dc = dc + dh * o * (1 - tanh_c * tanh_c)
            da = np.concatenate([dc * g * i * (1 - i), dc * c_before * f * (1 - f),
                                 dc * i * (1 - g * g), dh * tanh_c * o * (1 - o)], axis=1)
            dh, dc = da @ w_hh, dc * f
        elif mode == "GRU":
            r, z, n, h_before, gh_n = step
            dn = dh * (1 - z) * (1 - n * n)
            da = np.concatenate([dn * gh_n * r * (1 - r), dh * (h_before - n) * z * (1 - z),
                                 dn * r], axis=1)
            dh = dh * z + da @ w_hh
        else:
            dh = (dh * step) @ w_hh
    norm = dh * dh if mode != "LSTM" else dh * dh + dc * dc
    return np.sqrt(norm.sum(axis=1))
