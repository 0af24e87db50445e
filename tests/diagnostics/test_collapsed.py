"""Gates held saturated by weights too large (their own threshold), and layers whose gradient
collapsed, which must not make a normal layer before them look amplified (2026-12-04)."""

import pytest

import chainrule as torch
from chainrule.diagnostics.explosion import amplified, reference_ratio
from chainrule.diagnostics.rules import Rules

from .suite.broken import BROKEN


def _sample(step, sizes, gates, name="rnn"):
    """A sample of a recurrent layer whose weights are ``sizes[layer]`` x their natural size,
    and its gates' share saturated."""
    layers = {n: {"grad_norm": 1.0, "rho": 0.1, "update_ratio": 1e-3, "weight_before": size,
                  "weight_matrices": size, "ever_grad": True} for n, size in sizes.items()}
    return {"step": step, "order": list(sizes), "layers": layers,
            "natural": {n: 1.0 for n in sizes},
            "activations": {name: {"kind": "gates", "saturated": gates, "inputs": 64,
                                   "after": None}}}


def _rules_on(size, gates, name="rnn"):
    rules, found = Rules(), []
    for step in (1, 2, 4):
        found += rules.on_sample(_sample(step, {"rnn": size, "head": 1.0}, gates, name))
    return [f.rule for f in found]


@pytest.mark.parametrize("size, gates, reported", [
    (10.0, 0.30, True),  # weights x10: a third of the gates held at an asymptote
    (10.0, 0.17, False),  # the most a healthy layer started large showed (x10, width 48)
    (1.0, 0.30, False),  # weights of natural size, inputs far from unit scale: they vary
    (1.0, 0.67, True),  # ...and far enough to hold most of them there
])
def test_gates_count_as_saturated_lower_where_the_weights_started_large(size, gates, reported):
    assert ("saturation" in _rules_on(size, gates)) == reported


def test_a_layer_called_twice_is_sized_by_its_own_weights():
    assert _rules_on(10.0, 0.30, name="rnn[1]") == ["saturation"]
    assert _rules_on(1.0, 0.30, name="rnn[1]") == []


def test_layers_whose_gradient_collapsed_are_no_reference():
    # a normal layer, then two whose gradient collapsed (1e-7 of theirs), then the head
    rho = {"emb": 0.01, "q": 1e-7, "k": 2e-7, "head": 0.5}
    assert amplified(list(rho), rho, 100.0) == []
    assert reference_ratio(sorted([1e-7, 2e-7, 0.5]), 100.0) == 0.5


def test_an_amplifying_layer_is_still_found_among_collapsed_ones():
    rho = {"big": 200.0, "q": 1e-7, "k": 2e-7, "mid": 0.4, "head": 0.5}
    assert amplified(list(rho), rho, 100.0) == ["big"]
    # layers of ordinary spread are all kept: the median, as before
    assert reference_ratio(sorted([0.01, 0.2, 0.5]), 100.0) == 0.2
    assert reference_ratio([0.0, 0.0], 100.0) == 0.0


@pytest.mark.parametrize("name", ["attention_logits_far_too_large", "gate_held_open_by_its_bias"])
def test_a_normal_layer_before_collapsed_ones_is_not_called_exploding(name):
    # (each was reported as exploding in the embedding, or the ReLU path, before the fix)
    torch.manual_seed(0)
    _, monitor = BROKEN[name][2]()
    assert "exploding" not in [f.rule for f in monitor.findings], [
        str(f) for f in monitor.findings]
