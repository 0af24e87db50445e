"""The broken half of the suite (suite/broken.py): each setup is diagnosed within 50 steps at
the default sampling rate with the right cause, the layer where it starts and a remedy that
fits (and for a NaN, the op, the pass and the line); the setups cover every kind of failure in
at least three architectures, born in the model, the loss, the data and the optimizer."""

import collections

import pytest

import chainrule as torch

from .suite.broken import BROKEN
from .suite.harness import diagnosed


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_setup_is_diagnosed(name):
    diagnosed(BROKEN[name], seed=0)


def test_the_suite_covers_every_kind_in_three_architectures_and_every_birthplace():
    architectures = collections.defaultdict(set)
    for arch, _, _, expect in BROKEN.values():
        architectures[expect.rule].add(arch)
    assert len(BROKEN) >= 25
    assert set(architectures) == {"exploding", "vanishing", "dead", "saturation", "stalled",
                                  "nonfinite"}
    assert all(len(archs) >= 3 for archs in architectures.values()), architectures
    assert {born for _, born, _, _ in BROKEN.values()} == {"model", "loss", "data", "optimizer"}


def test_weights_shrunk_by_a_weight_decay_found_first_point_to_it():
    # SGD at lr x weight_decay = 1 sets the weights to -lr x gradient: the decay is found at
    # step 4, the shrunk weights' vanishing after it names the decay as its cause
    _, _, run, _ = BROKEN["gru_sgd_learning_rate_times_weight_decay_of_one"]
    torch.manual_seed(0)
    _, monitor = run()
    decay, shrunk = monitor.findings[:2]
    assert (decay.rule, shrunk.rule) == ("stalled", "vanishing") and shrunk.step > decay.step
    assert f"weight decay far larger than the gradient was found before it (step " \
           f"{decay.step})" in shrunk.message
