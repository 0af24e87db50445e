"""The gradient tap's reads (diagnostics/tap.py): which gradients it reads in full, which it
estimates from a block of rows, and which non-finite gradients it reports, against NumPy."""

import math

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn
from chainrule.diagnostics.tap import GradientTap, covered_weights, estimate_block


def reference(array):
    wide = np.asarray(array, np.float64).reshape(-1)
    return float(np.dot(wide, wide))  # (the tap reads in float32 where numba is not loaded)


def tapped(layer, full, poison=None):
    """One backward through ``layer`` read by a tap; ``poison``: (row, value) written into the
    weight's gradient before it is accumulated. Returns the tap and what it reported."""
    reported = []
    params = [("fc", p) for p in layer.parameters()]
    tap = GradientTap(params, lambda name, kind: reported.append((name, kind)),
                      covered_weights(layer, list(layer.named_parameters())))
    tap.full = full
    if poison is not None:
        row, value = poison

        def hook(grad):
            grad = grad.clone()
            grad._data[row, 0] = value
            return grad

        layer.weight.register_hook(hook)
    torch.manual_seed(0)
    layer(torch.randn(8, layer.in_features)).square().sum().backward()
    tap.close()
    return tap, reported


@pytest.mark.parametrize("full", [False, True])
def test_large_covered_weight_is_estimated_from_its_first_rows(full):
    layer = nn.Linear(128, 1024)  # 131,072 weights: more than ESTIMATE_FROM
    tap, reported = tapped(layer, full)
    weight, bias = layer.weight.grad._data, layer.bias.grad._data
    block = estimate_block(weight.shape[0])
    assert block == 16  # a 64th of 1,024 rows
    estimate = reference(weight[:block]) * (weight.shape[0] / block)
    assert tap.watched[id(layer.weight)] == pytest.approx(estimate, rel=1e-5)
    assert tap.watched[id(layer.bias)] == pytest.approx(reference(bias), rel=1e-5)
    assert tap.total_norm == pytest.approx(math.sqrt(estimate + reference(bias)), rel=1e-5)
    # the exact norm only where every gradient is read (a sampled step)
    assert (id(layer.weight) in tap.squares) == full
    if full:
        assert tap.squares[id(layer.weight)] == pytest.approx(reference(weight), rel=1e-5)
        norms = tap.layer_norms(full=True)
        assert norms["fc"] == pytest.approx(math.sqrt(reference(weight) + reference(bias)),
                                            rel=1e-5)
    assert reported == [] and tap.ever == {"fc"}


def test_small_covered_weight_is_read_whole():
    layer = nn.Linear(16, 10)
    tap, _ = tapped(layer, full=False)
    weight = layer.weight.grad._data
    assert tap.watched[id(layer.weight)] == pytest.approx(reference(weight), rel=1e-5)
    assert id(layer.weight) not in tap.squares  # its bias stands for it on this step


@pytest.mark.parametrize("value, kind", [(np.nan, "nan"), (np.inf, "inf")])
def test_nonfinite_covered_weight_is_reported_when_read_in_full(value, kind):
    layer = nn.Linear(128, 1024)
    row = 1000  # outside the block the every-step estimate reads
    tap, reported = tapped(layer, full=True, poison=(row, value))
    assert reported == [("fc", kind)]
    # on a step that reads it only through its block (and its finite bias) it is not seen
    tap, reported = tapped(nn.Linear(128, 1024), full=False, poison=(row, value))
    assert reported == [] and math.isfinite(tap.total_norm)


def test_nonfinite_gradient_read_every_step_is_reported():
    layer = nn.Linear(128, 1024)
    tap, reported = tapped(layer, full=False, poison=(0, np.nan))  # inside the block
    assert reported == [] and math.isnan(tap.total_norm)  # the monitor reports the total
    layer = nn.Linear(16, 4, bias=False)  # nothing stands for it: read in full every step
    tap, reported = tapped(layer, full=False, poison=(1, -np.inf))
    assert reported == [("fc", "inf")]
