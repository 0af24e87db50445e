"""The healthy half of the suite (suite/healthy.py): trained over whole short runs, sampled
every 10 steps (five times the default rate, so five times the chances to cry wolf), not one
alarm; and again from other initial weights (torch seed 1), so that no rule holds only for the
numbers of one run (suite/sweep.py runs the whole suite under more seeds and data draws)."""

import pytest

from .suite.harness import quiet
from .suite.healthy import HEALTHY

# setups that are not healthy from seed 1's weights: what goes wrong there (measured
# 2026-12-05, sd22a and sd22b), so an alarm would be right or the run's own check fails
NOT_HEALTHY_AT_SEED_1 = {
    # its encoder's ReLUs die for good (6% dead at first, 56-59% from step 150 to 200) while the
    # loss falls only from 11.2 to 8.9
    "gumbel_vae_straight_through_at_temperature_one_tenth",
    # its SGD run reaches 1.4e-5 by step 500, never the 1e-5 floor the setup waits for
    "regression_solved_to_rounding",
}


@pytest.mark.parametrize("name", sorted(HEALTHY))
def test_healthy_setup_raises_no_alarm(name):
    quiet(HEALTHY[name], seed=0)


@pytest.mark.parametrize("name", sorted(set(HEALTHY) - NOT_HEALTHY_AT_SEED_1))
def test_healthy_setup_raises_no_alarm_from_other_initial_weights(name):
    quiet(HEALTHY[name], seed=1)


def test_the_healthy_half_is_big_and_varied():
    assert len(HEALTHY) >= 15
    assert {arch for arch, _ in HEALTHY.values()} == {"mlp", "cnn", "recurrent", "transformer"}
