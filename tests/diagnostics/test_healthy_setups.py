"""The healthy half of the suite (suite/healthy.py): trained over whole short runs, sampled
every 10 steps (five times the default rate, so five times the chances to cry wolf), not one
alarm."""

import math

import pytest

import chainrule as torch

from .suite.healthy import HEALTHY


@pytest.mark.parametrize("name", sorted(HEALTHY))
def test_healthy_setup_raises_no_alarm(name):
    _, run = HEALTHY[name]
    torch.manual_seed(0)
    for monitor in run():
        assert monitor.findings == [], [str(f) for f in monitor.findings]
        assert len(monitor.samples) >= 8  # it did look
        assert all(math.isfinite(loss) for _, loss, _ in monitor.steps)


def test_the_healthy_half_is_big_and_varied():
    assert len(HEALTHY) >= 15
    assert {arch for arch, _ in HEALTHY.values()} == {"mlp", "cnn", "recurrent", "transformer"}
