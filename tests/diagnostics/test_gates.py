"""The gates of a one-layer LSTM or GRU, rebuilt from its input, output and initial state
(activations.gate_saturation), against the gates a step-by-step NumPy loop computes: in one
direction and both, from zeros and from a given initial state, batch first or not."""

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn
from chainrule.diagnostics.activations import gate_saturation

EPS = 0.02


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def reference_counts(module, x, h0, c0, direction):
    """Saturated and total gate values of one direction, by running its recurrence step by
    step; ``x`` (N, L, F) batch first."""
    suffix = "_l0_reverse" if direction else "_l0"
    w_ih, w_hh, b_ih, b_hh = (getattr(module, name + suffix)._data.astype(np.float64)
                              for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
    hidden = module.hidden_size
    h, c = h0[direction].astype(np.float64), c0[direction].astype(np.float64)
    steps = range(x.shape[1] - 1, -1, -1) if direction else range(x.shape[1])
    low, high = np.log((1 - EPS) / EPS), np.arctanh(1 - EPS)
    saturated = total = 0
    for t in steps:
        gx, gh = x[:, t] @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        if module.mode == "LSTM":
            z = gx + gh
            i, f, g, o = (z[:, k * hidden:(k + 1) * hidden] for k in range(4))
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
            gates, candidate = np.concatenate([i, f, o], 1), g
        else:
            r = gx[:, :hidden] + gh[:, :hidden]
            u = gx[:, hidden:2 * hidden] + gh[:, hidden:2 * hidden]
            n = gx[:, 2 * hidden:] + sigmoid(r) * gh[:, 2 * hidden:]
            h = (1 - sigmoid(u)) * np.tanh(n) + sigmoid(u) * h
            gates, candidate = np.concatenate([r, u], 1), n
        saturated += np.count_nonzero(np.abs(gates) > low) + np.count_nonzero(
            np.abs(candidate) > high)
        total += gates.size + candidate.size
    return saturated, total


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("initial", [False, True])
@pytest.mark.parametrize("batch_first", [True, False])
def test_rebuilt_gates_count_as_the_recurrence_does(mode, bidirectional, initial, batch_first):
    torch.manual_seed(0)
    module = getattr(nn, mode)(3, 5, batch_first=batch_first, bidirectional=bidirectional)
    with torch.no_grad():
        for p in module.parameters():
            p.mul_(6.0)  # large weights: many gates near 0 or 1, some not
    directions = 2 if bidirectional else 1
    x = torch.randn(4, 7, 3) * 2
    h0 = torch.randn(directions, 4, 5) if initial else torch.zeros(directions, 4, 5)
    c0 = torch.randn(directions, 4, 5) if initial else torch.zeros(directions, 4, 5)
    state = ((h0, c0) if mode == "LSTM" else h0) if initial else None
    args = (x if batch_first else x.transpose(0, 1),) + ((state,) if initial else ())
    with torch.no_grad():
        output = module(*args)
    counts = gate_saturation(module, args, output, EPS)
    expected = [reference_counts(module, x._data, h0._data, c0._data, d)
                for d in range(directions)]
    assert counts == tuple(map(sum, zip(*expected)))
    assert 0 < counts[0] < counts[1]


def test_stacked_layers_are_read_from_their_output():
    module = nn.LSTM(3, 5, num_layers=2, batch_first=True)
    x = torch.randn(2, 4, 3)
    assert gate_saturation(module, (x,), module(x), EPS) is None
