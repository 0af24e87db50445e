"""Amplification across depth and through time named at the right layer (amp17): residual
blocks read as blocks, not as a chain, and the layers after a recurrent layer that amplifies
through time not called vanishing."""

import math

import numpy as np

import chainrule as torch
from chainrule.diagnostics.rules import _init_gain
from chainrule.nn import functional as F

from .suite import data, models
from .suite.harness import fit


def _gain(sizes):
    """_init_gain's gain for layers of these sizes (against natural size), or None."""
    layers = {n: {"weight_before": size} for n, size in sizes.items()}
    found = _init_gain(layers, list(sizes), {n: 1.0 for n in sizes}, set(), 100.0)
    return found and found[1]


def _rms_gain(model, x):
    """The stream's root-mean-square after the blocks over that after the stem: the truth."""
    with torch.no_grad():
        h = model.stem(x)
        start = math.sqrt(float((h * h).mean()))
        for block in model.blocks:
            h = block(h)
        return math.sqrt(float((h * h).mean())) / start


def test_residual_blocks_three_times_too_large_amplify_as_blocks_not_as_a_chain():
    torch.manual_seed(0)
    model = models.ResidualMLP(norm=False)
    with torch.no_grad():
        for block in model.blocks:
            block.fc1.weight.mul_(3.0)
            block.fc2.weight.mul_(3.0)
    x, _ = data.classes()(1)
    truth = _rms_gain(model, x)
    sizes = {"stem": 1.0, **{f"blocks.{i}.fc{j}": 3.0 for i in range(8) for j in (1, 2)},
             "out": 1.0}
    estimate = _gain(sizes)
    assert truth > 100  # the stream really is amplified a hundredfold
    assert estimate is not None and truth / 10 < estimate < truth * 10, (truth, estimate)
    # the same sizes in a chain (no container items) stay a product of 1.22s: 25
    chain = {str(i): size for i, size in enumerate(sizes.values())}
    assert _gain(chain) is None


def test_residual_blocks_of_natural_size_amplify_nothing():
    torch.manual_seed(0)
    model = models.ResidualMLP(norm=False)
    x, _ = data.classes()(1)
    assert _rms_gain(model, x) < 3
    sizes = {"stem": 1.0, **{f"blocks.{i}.fc{j}": 1.0 for i in range(16) for j in (1, 2)},
             "out": 1.0}
    assert _gain(sizes) is None


def test_after_a_recurrent_layer_amplifying_through_time_nothing_is_called_vanishing():
    torch.manual_seed(0)
    model = models.Recurrent("LSTM", hidden=64)
    with torch.no_grad():  # the LSTM's matrices 10 times too large, its head of natural size
        model.rnn.weight_ih_l0.mul_(10.0)
        model.rnn.weight_hh_l0.mul_(10.0)
    batches = data.sequences(length=100)
    x, y = batches(0)
    x = x.clone().requires_grad_(True)
    F.cross_entropy(model(x), y).backward()
    through_time = np.linalg.norm(x.grad.numpy(), axis=(0, 2))
    assert through_time[0] > 100 * through_time[-1]  # the truth: amplified through time
    model.zero_grad()
    monitor = fit(model, torch.optim.Adam(model.parameters(), 1e-3), batches, 30)
    rules = [(f.rule, f.layer) for f in monitor.findings]
    assert rules == [("exploding", "rnn")], [str(f) for f in monitor.findings]
    assert "through time" in monitor.findings[0].message
