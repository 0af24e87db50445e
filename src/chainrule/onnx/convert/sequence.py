"""Attention and recurrent layers."""


import numpy as np

from . import op
from .common import scalar, trim


@op("ScaledDotProductAttention", varying=("mask",))
def attention(g, step):
    """The mask is an array option: the data of a traced tensor (made from the inputs, or a
    causal mask from their sizes) becomes that tensor's value; any other array must be the same
    in both runs."""
    options = step.options
    if options["keep"] is not None:
        raise g.fail(step, "attention dropout is active; export in eval mode")
    q, k, v = g.x(step, 0), g.x(step, 1), g.x(step, 2)
    rank = len(g.in_shape(step, 1))
    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    scores = g.node("MatMul", [q, g.node("Transpose", [k], perm=perm)])
    scores = g.node("Mul", [scores, scalar(g, step, options["scale"])])
    if options["mask"] is not None:
        scores = g.node("Add", [scores, _mask(g, step)])
    outs = g.outs(step)
    probs = g.node("Softmax", [scores], [outs[1]] if options["need_weights"] else None, axis=-1)
    g.node("MatMul", [probs, v], [outs[0]])


def _mask(g, step):
    mask, twin = step.options["mask"], step.twin.options["mask"]
    value = g.value_of_array(mask)
    if value is not None and value.dependent:
        return value.name
    if np.shape(mask) != np.shape(twin) or not np.array_equal(mask, twin):
        raise g.fail(step, "the attention mask changes with the inputs but was not computed "
                           "from them with chainrule ops")
    return g.const(np.asarray(mask, dtype=g.in_dtype(step)))


_GATE_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2]}  # PyTorch's gate blocks in ONNX order


def _onnx_gates(array, mode, hidden):
    order = _GATE_ORDER.get(mode)
    if order is None:
        return array
    blocks = [array[i * hidden:(i + 1) * hidden] for i in range(len(order))]
    return np.concatenate([blocks[i] for i in order])


@op("Recurrent")
def recurrent(g, step):
    options = step.options
    mode, layers = options["mode"], int(options["num_layers"])
    directions = 2 if options["bidirectional"] else 1
    weights = [v.array for v in step.inputs[3:]]
    per = len(weights) // (layers * directions)
    hidden = weights[1].shape[1]
    op = {"LSTM": "LSTM", "GRU": "GRU"}.get(mode, "RNN")
    x = g.x(step)
    finals_h, finals_c = [], []
    outs = g.outs(step)
    for layer in range(layers):
        chunks = [weights[(layer * directions + d) * per:][:per] for d in range(directions)]
        inputs = [x] + _onnx_weights(g, chunks, mode, hidden)
        inputs += ["", _initial_state(g, step, 1, layer, directions)]
        if op == "LSTM":
            inputs.append(_initial_state(g, step, 2, layer, directions))
        results = g.node(op, trim(inputs), count=3 if op == "LSTM" else 2,
                         **_attributes(op, mode, hidden, directions))
        y, y_h = results[0], results[1]
        finals_h.append(y_h)
        if op == "LSTM":
            finals_c.append(results[2])
        # (T, D, N, H) -> (T, N, D * H): the next layer's input and the op's output
        x = g.node("Reshape", [g.node("Transpose", [y], perm=[0, 2, 1, 3]),
                               g.ints([0, 0, -1])])
    g.node("Identity", [x], [outs[0]])
    g.node("Concat", finals_h, [outs[1]], axis=0)
    if op == "LSTM" and len(outs) > 2:
        g.node("Concat", finals_c, [outs[2]], axis=0)


@op("RecurrentCell")
def recurrent_cell(g, step):
    """One step: the sequence's ONNX node over a time axis of length 1."""
    mode = step.options["mode"]
    weights = [v.array for v in step.inputs[3:]]
    hidden = weights[1].shape[1]
    op = {"LSTM": "LSTM", "GRU": "GRU"}.get(mode, "RNN")
    time_axis = g.ints([0])
    inputs = [g.node("Unsqueeze", [g.x(step), time_axis])]
    inputs += _onnx_weights(g, [weights], mode, hidden) + [""]
    for position in (1, 2) if op == "LSTM" else (1,):
        value = step.inputs[position]
        inputs.append("" if not value.dependent and not np.any(value.array)
                      else g.node("Unsqueeze", [g.x(step, position), time_axis]))
    results = g.node(op, trim(inputs), count=3 if op == "LSTM" else 2,
                     **_attributes(op, mode, hidden, 1))
    for result, out in zip(results[1:], g.outs(step)):
        g.node("Squeeze", [result, time_axis], [out])


def _onnx_weights(g, chunks, mode, hidden):
    """W, R and B (or "" without biases) of ONNX's recurrent ops, one row per direction, from
    each direction's (w_ih, w_hh[, b_ih, b_hh])."""
    w = [_onnx_gates(chunk[0], mode, hidden) for chunk in chunks]
    r = [_onnx_gates(chunk[1], mode, hidden) for chunk in chunks]
    b = [np.concatenate([_onnx_gates(chunk[2], mode, hidden), _onnx_gates(chunk[3], mode, hidden)])
         for chunk in chunks if len(chunk) == 4]
    return [g.const(np.stack(w)), g.const(np.stack(r)), g.const(np.stack(b)) if b else ""]


def _attributes(op, mode, hidden, directions):
    attrs = dict(hidden_size=hidden, direction="bidirectional" if directions == 2 else "forward")
    if op == "GRU":
        attrs["linear_before_reset"] = 1
    if op == "RNN":
        attrs["activations"] = ["Tanh" if mode == "RNN_TANH" else "Relu"] * directions
    return attrs


def _initial_state(g, step, position, layer, directions):
    value = step.inputs[position]
    if value is None or (not value.dependent and not np.any(value.array)):
        return ""  # zeros: ONNX's default, and free of the batch size
    state = g.x(step, position)
    return g.node("Slice", [state, g.ints([layer * directions]),
                            g.ints([(layer + 1) * directions]), g.ints([0])])
