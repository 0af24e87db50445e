"""The gates of a one-layer LSTM or GRU, rebuilt from its input, output and initial state
(activations.gate_saturation), against the gates a step-by-step NumPy loop computes: in one
direction and both, from zeros and from a given initial state, batch first or not."""

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn
from chainrule.diagnostics.gates import gate_saturation

EPS = 0.02


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def reference_counts(module, x, h0, c0, direction):
    """Saturated and total gate values of one direction, and the memory gate's (an LSTM's
    forget gate, a GRU's update gate) values within EPS of 0, of 1 and all of them, by running
    its
    recurrence step by step; ``x`` (N, L, F) batch first."""
    suffix = "_l0_reverse" if direction else "_l0"
    w_ih, w_hh, b_ih, b_hh = (getattr(module, name + suffix)._data.astype(np.float64)
                              for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
    hidden = module.hidden_size
    h, c = h0[direction].astype(np.float64), c0[direction].astype(np.float64)
    steps = range(x.shape[1] - 1, -1, -1) if direction else range(x.shape[1])
    low, high = np.log((1 - EPS) / EPS), np.arctanh(1 - EPS)
    saturated = total = shut = opened = memory = 0
    for t in steps:
        gx, gh = x[:, t] @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        if module.mode == "LSTM":
            z = gx + gh
            i, f, g, o = (z[:, k * hidden:(k + 1) * hidden] for k in range(4))
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
            gates, candidate, kept = np.concatenate([i, f, o], 1), g, f
        else:
            r = gx[:, :hidden] + gh[:, :hidden]
            u = gx[:, hidden:2 * hidden] + gh[:, hidden:2 * hidden]
            n = gx[:, 2 * hidden:] + sigmoid(r) * gh[:, 2 * hidden:]
            h = (1 - sigmoid(u)) * np.tanh(n) + sigmoid(u) * h
            gates, candidate, kept = np.concatenate([r, u], 1), n, u
        saturated += np.count_nonzero(np.abs(gates) > low) + np.count_nonzero(
            np.abs(candidate) > high)
        total += gates.size + candidate.size
        shut += np.count_nonzero(sigmoid(kept) < EPS)
        opened += np.count_nonzero(sigmoid(kept) > 1 - EPS)
        memory += kept.size
    return saturated, total, shut, opened, memory


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


def _one_layer_copy(module, layer):
    """A one-layer module holding layer ``layer`` of ``module``'s weights."""
    directions = 2 if module.bidirectional else 1
    single = getattr(nn, module.mode)(module.input_size if layer == 0
                                      else module.hidden_size * directions,
                                      module.hidden_size, batch_first=True,
                                      bidirectional=module.bidirectional)
    with torch.no_grad():
        for name, p in single.named_parameters():
            p.copy_(getattr(module, name.replace("_l0", f"_l{layer}")))
    return single


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_a_stacked_layer_counts_the_gates_of_its_most_saturated_layer(mode, bidirectional):
    torch.manual_seed(0)
    module = getattr(nn, mode)(3, 5, num_layers=2, batch_first=True, bidirectional=bidirectional)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if "_l0" in name:
                p.mul_(6.0)  # the first layer saturated, the second not: not pooled
    x = torch.randn(4, 7, 3) * 2
    with torch.no_grad():
        counts = gate_saturation(module, (x,), module(x), EPS)
        zeros = np.zeros((2, 4, 5))
        expected, inputs = [], x
        for layer in range(2):
            single = _one_layer_copy(module, layer)
            expected += [reference_counts(single, inputs._data, zeros, zeros, d)
                         for d in range(2 if bidirectional else 1)]
            inputs = single(inputs)[0]
    directions = 2 if bidirectional else 1
    layers = [tuple(map(sum, zip(*expected[i:i + directions])))
              for i in range(0, len(expected), directions)]
    saturated, total = max(layers, key=lambda c: c[0] / c[1])[:2]  # the most saturated layer
    assert counts[1] == total
    assert abs(counts[0] - saturated) <= 0.01 * total  # float32 against float64 near the edge
    assert 0 < counts[0] < counts[1]


@pytest.mark.parametrize("mode", ["LSTMCell", "GRUCell"])
def test_a_cell_counts_the_gates_of_its_step(mode):
    torch.manual_seed(0)
    cell = getattr(nn, mode)(3, 5)
    with torch.no_grad():
        for p in cell.parameters():
            p.mul_(6.0)
    x, h, c = torch.randn(4, 3) * 2, torch.randn(4, 5), torch.randn(4, 5)
    state = (h, c) if mode == "LSTMCell" else h
    with torch.no_grad():
        counts = gate_saturation(cell, (x, state), cell(x, state), EPS)
    layer = getattr(nn, mode[:-4])(3, 5, batch_first=True)  # the same weights, one step
    with torch.no_grad():
        for name, p in layer.named_parameters():
            p.copy_(getattr(cell, name.replace("_l0", "")))
    expected = reference_counts(layer, x._data[:, None], h._data[None], c._data[None], 0)
    assert counts == expected and 0 < counts[0] < counts[1]


def test_a_cell_called_over_time_is_one_measurement():
    from chainrule.diagnostics import GradientMonitor

    class Loop(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = nn.GRUCell(4, 8)
            self.head = nn.Linear(8, 2)

        def forward(self, x):
            h = torch.zeros(x.shape[0], 8)
            for t in range(x.shape[1]):
                h = self.cell(x[:, t], h)
            return self.head(h)

    model = Loop()
    with GradientMonitor(model) as monitor:
        loss = model(torch.randn(16, 5, 4) * 60).sum()
        loss.backward()
        monitor.step(loss)
    assert list(monitor.activations) == ["cell"]
    stats = monitor.activations["cell"]
    assert stats["kind"] == "gates" and stats["inputs"] == 16 * 5 and stats["saturated"] > 0.5


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layers", [1, 2])
def test_a_packed_batch_counts_each_sequences_own_steps(mode, bidirectional, layers):
    # as many gates as the sequences run one by one at their own lengths (no padding counted;
    # backwards, each starts from the initial state at its own last step)
    torch.manual_seed(0)
    module = getattr(nn, mode)(3, 5, num_layers=layers, batch_first=True,
                               bidirectional=bidirectional).double()
    lengths = [6, 2, 4, 6, 3]
    x = torch.randn(len(lengths), 6, 3, dtype=torch.float64) * 3.0
    packed = nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), batch_first=True,
                                               enforce_sorted=False)
    with torch.no_grad():
        counted = gate_saturation(module, (packed,), module(packed), EPS)
        one_by_one = [gate_saturation(module, (x[i:i + 1, :n],), module(x[i:i + 1, :n]), EPS)
                      for i, n in enumerate(lengths)]
    if layers == 1:
        assert counted == tuple(map(sum, zip(*one_by_one)))
    else:  # its most saturated layer's, each layer as a one-layer module run sequence by sequence
        per_layer = [[0, 0], [0, 0]]
        for i, n in enumerate(lengths):
            inputs = x[i:i + 1, :n]
            for layer in range(2):
                single = _one_layer(module, layer)
                with torch.no_grad():
                    outputs = single(inputs)
                    saturated, total = gate_saturation(single, (inputs,), outputs, EPS)[:2]
                per_layer[layer][0] += saturated
                per_layer[layer][1] += total
                inputs = outputs[0]
        assert counted[:2] == tuple(max(per_layer, key=lambda c: c[0] / c[1]))
    assert counted[0] > 0


def _one_layer(stacked, layer):
    """A one-layer copy of ``stacked``'s layer ``layer``."""
    directions = 2 if stacked.bidirectional else 1
    single = getattr(nn, stacked.mode)(stacked.hidden_size * directions if layer else
                                       stacked.input_size, stacked.hidden_size,
                                       batch_first=True, bidirectional=stacked.bidirectional)
    single = single.double()
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            for suffix in ("", "_reverse")[:directions]:
                getattr(single, f"{name}_l0{suffix}").copy_(
                    getattr(stacked, f"{name}_l{layer}{suffix}"))
    return single


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("layers", [1, 2])
def test_the_memory_gate_shut_is_counted_in_the_layer_where_it_is(mode, layers):
    # the forget gate (LSTM) or update gate (GRU) pushed below sigmoid = EPS in one layer by
    # its bias: all its values shut there, none open; a stacked layer reports its most shut
    # layer's shares
    torch.manual_seed(0)
    module = getattr(nn, mode)(3, 5, num_layers=layers, batch_first=True)
    last = f"_l{layers - 1}"
    with torch.no_grad():
        for name in ("bias_ih", "bias_hh"):
            getattr(module, name + last)[5:10].fill_(-10.0)
    x = torch.randn(4, 7, 3)
    with torch.no_grad():
        counts = gate_saturation(module, (x,), module(x), EPS)
    assert counts[2:] == (4 * 7 * 5, 0, 4 * 7 * 5)
    with torch.no_grad():  # bias 0 again: open at about a half, none shut
        for name in ("bias_ih", "bias_hh"):
            getattr(module, name + last)[5:10].fill_(0.0)
        counts = gate_saturation(module, (x,), module(x), EPS)
    assert counts[2:] == (0, 0, 4 * 7 * 5)
