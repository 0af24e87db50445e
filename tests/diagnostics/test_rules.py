"""The every-step exploding rules on hand-made series: a real explosion lasts (or grows the
weights, or ends in a NaN); heavy-tailed noise, however spiky, does not."""

import numpy as np

from chainrule.diagnostics.findings import Thresholds
from chainrule.diagnostics.rules import Rules


def _feed(norms, losses=None, lrs=None, grown=0.0, thresholds=None):
    rules = Rules(thresholds, weight_growth_now=lambda: (grown, "fc"))
    found = []
    for step, norm in enumerate(norms, 1):
        loss = norm if losses is None else losses[step - 1]
        lr = None if lrs is None else lrs[step - 1]
        found += rules.on_step(step, loss, norm, {"fc": norm}, lr)
    return found


def test_a_jump_that_lasts_three_steps_is_an_explosion():
    steady = [1.0, 1.2, 0.9, 1.1, 1.0]
    (finding,) = _feed(steady + [30.0, 40.0, 60.0])
    assert (finding.rule, finding.step, finding.layer) == ("exploding", 8, "fc")
    assert "jumped" in finding.message and "lower the learning rate" in finding.message
    assert _feed(steady + [30.0, 40.0]) == []  # two steps are not enough on their own...
    (early,) = _feed(steady + [30.0], grown=3.0)  # ...but grown weights are proof at once
    assert early.step == 6 and "grew 3.0x" in early.message


def test_a_single_outlier_batch_is_not_an_explosion():
    assert _feed([1.0, 1.2, 0.9, 1.1, 300.0, 1.0, 0.9, 1.1], grown=1.1) == []


def test_heavy_tailed_noise_never_confirms():
    rng = np.random.default_rng(0)
    norms = np.abs(rng.standard_cauchy(3000)) + 0.01  # gradient norms with Cauchy tails
    assert _feed(list(norms), grown=0.0) == []


def test_a_jump_followed_by_a_non_finite_step_is_an_explosion():
    rules = Rules()
    for step, norm in enumerate([1.0, 1.1, 0.9, 50.0], 1):
        assert rules.on_step(step, norm, norm, {"fc": norm}) == []
    from chainrule.diagnostics.nonfinite import Origin

    found = rules.on_nonfinite(5, Origin("Exp", "forward", "inf"), "Exp produced inf")
    assert [f.rule for f in found] == ["exploding", "nonfinite"]


def test_diverging_needs_the_loss_back_at_its_start_and_a_risen_learning_rate():
    losses = [2.0, 1.9, 1.5, 1.0, 0.6, 0.4, 0.3, 0.3, 2.5, 3.0, 3.5, 4.0]
    norms = [1.0] * len(losses)
    rising = [0.01 * 1.5 ** i for i in range(len(losses))]
    (finding,) = _feed(norms, losses, rising)
    assert finding.rule == "exploding" and finding.step == 12  # back since step 10
    assert "diverging" in finding.message and "schedule" in finding.message
    assert _feed(norms, losses, [0.01] * len(losses)) == []  # a GAN's loss may do this


def test_thresholds_are_configurable():
    series = [1.0, 1.2, 0.9, 1.1, 1.0, 8.0, 9.0, 9.5]
    assert _feed(series) == []
    assert len(_feed(series, thresholds=Thresholds(jump_factor=5.0))) == 1
