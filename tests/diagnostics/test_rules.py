"""The every-step exploding rules on hand-made series: a real explosion lasts (or grows the
weights, or ends in a NaN); heavy-tailed noise, however spiky, does not."""

import math
import statistics

import numpy as np
import pytest

from chainrule.diagnostics.findings import Thresholds
from chainrule.diagnostics.rules import LOOP_CALLS, Rules, _looped, _steadiness, _straightness


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


def test_a_jump_whose_loss_falls_at_every_step_is_the_data_shifting_not_an_explosion():
    # a new domain: the loss jumps with the gradient and the model learns its way down
    steady, norms = [1.0, 1.2, 0.9, 1.1, 1.0], [30.0, 30.0, 30.0, 30.0]
    assert _feed(steady + norms, [1.0] * 5 + [25.0, 24.0, 23.0, 20.0]) == []
    # the same jump whose loss stops falling is an explosion at that step...
    (finding,) = _feed(steady + norms, [1.0] * 5 + [25.0, 24.0, 23.0, 26.0])
    assert (finding.rule, finding.step) == ("exploding", 9)
    # ...as is one whose loss rises, at patience, and grown weights are proof at once
    assert _feed(steady + norms, [1.0] * 5 + [25.0, 30.0, 40.0, 50.0])[0].step == 8
    assert _feed(steady + norms[:1], [1.0] * 5 + [25.0], grown=3.0)[0].step == 6


def test_a_fit_undone_by_a_jump_is_judged_against_the_norm_before_the_jump():
    # fit to 0, then thrown: gradient norms 1e6 and the loss back near its untrained 0.69,
    # half its batches below it (at chance); found once it has been there recent_steps steps,
    # its reference the norm before the jump, "since" the jump's first step
    norms = [1.0, 1.2, 0.9] + [1e-3] * 20 + [1e6, 1e7, 1e6, 1e5, 1e4, 10.0, 1e5, 10.0]
    losses = [0.69, 0.7, 0.68] + [0.0] * 20 + [9.0, 1e4, 1e8, 1e10, 1e20, 0.64, 1e13, 0.65]
    (finding,) = _feed(norms, losses)
    assert (finding.rule, finding.step) == ("exploding", 31)
    assert "since step 24" in finding.message
    # a fitted run whose loss comes back below half its untrained level is not undone
    losses = [0.69, 0.7, 0.68] + [0.0] * 20 + [9.0, 1e4, 0.3, 0.1, 0.01, 0.0, 0.0, 0.0]
    assert _feed(norms, losses) == []


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
    losses = [2.0, 1.9, 1.5, 1.0, 0.6, 0.4, 0.3, 0.3, 2.5, 3.0, 3.5, 4.0, 4.5]
    norms = [1.0] * len(losses)
    rising = [0.01 * 1.5 ** i for i in range(len(losses))]
    (finding,) = _feed(norms, losses, rising)
    # back since step 11 (a median of five losses: the third of the rise)
    assert finding.rule == "exploding" and finding.step == 13
    assert "diverging" in finding.message and "schedule" in finding.message
    assert _feed(norms, losses, [0.01] * len(losses)) == []  # a GAN's loss may do this


def test_diverging_when_the_loss_doubles_its_start_without_having_halved():
    # fell by a fifth only, then twice its start and more while the rate grew: a schedule
    # that raises the rate early undoes less than half
    losses = [1.0, 1.0, 1.0, 0.9, 0.85, 0.8, 0.8, 2.5, 2.6, 2.8, 3.0, 3.2]
    norms = [1.0] * len(losses)
    rising = [0.01 * 1.5 ** i for i in range(len(losses))]
    (finding,) = _feed(norms, losses, rising)
    assert finding.rule == "exploding" and finding.step == 12  # twice the start since step 10
    assert "diverging" in finding.message and "2.8x its untrained level" in finding.message
    assert _feed(norms, losses[:8] + [1.9] * 4, rising) == []  # back at its start: not halved
    assert _feed(norms, losses, [0.01] * len(losses)) == []  # the rate did not rise


def test_diverging_after_a_restart_at_the_step_of_the_lowest_loss():
    # a rate cosined towards 0, restarted 100x too high at the very step whose median of five
    # was the lowest: that median was made at the old rate, so the rate has been raised since
    # (the rate given with a step is the next update's when the scheduler steps first)
    losses = [2.7 - 0.12 * step for step in range(20)] + [0.35, 4.0, 8.0, 9.0, 8.5, 8.0]
    norms = [1.0] * len(losses)
    rates = [3e-3 * (1 - step / 20) for step in range(20)] + [0.3] * 6
    (finding,) = _feed(norms, losses, rates)
    assert finding.rule == "exploding" and "training is diverging" in finding.message
    assert "rose from 0.003" in finding.message


def test_diverging_back_at_the_start_after_a_small_fall_when_the_weights_were_thrown():
    # a range test under Adam: the loss fell by a third only, then back above its start as
    # the rate grew 1.3x a step; the weights thrown 3x since the last sample are the proof
    # that a median at the untrained level (not twice it) is the model's
    losses = [0.7, 0.72, 0.69, 0.6, 0.5, 0.45, 0.46, 0.47, 0.6, 0.75, 0.8, 0.85, 0.9]
    norms = [1.0] * len(losses)
    rising = [1e-3 * 1.3 ** i for i in range(len(losses))]
    (finding,) = _feed(norms, losses, rising, grown=3.0)
    assert finding.rule == "exploding" and finding.step == 12  # (the median of five's third)
    assert "its untrained level (0.7)" in finding.message
    assert _feed(norms, losses, rising, grown=1.1) == []  # the weights where they were


def test_diverging_that_swings_and_fills_its_own_upper_losses_when_the_weights_were_thrown():
    # the loss swings between its untrained level and 6x it from step 6 on, at the first
    # rate, then under warm restarts that climb to 10x it every ten steps: the divergence
    # fills the top of its own last 50 losses and a median of five is never above their 0.9
    # quantile; the last eight's median at twice the untrained level, with the weights
    # thrown, is the divergence
    swing = [3.0, 0.6, 2.0, 4.2, 1.5, 2.6, 0.7, 3.6, 2.2, 1.8]
    losses = [0.7, 0.7, 0.68, 0.69, 0.7] + swing * 5
    norms = [1.0] * len(losses)
    restarts = [0.3] * 25 + [0.3 + 2.7 * (step % 10) / 9 for step in range(len(losses) - 25)]
    quantile_only = _feed(norms, losses, restarts, thresholds=Thresholds(patience=1000),
                          grown=3.0)
    assert [f.rule for f in quantile_only] == ["exploding"]
    assert "training is diverging" in quantile_only[0].message
    assert _feed(norms, losses, restarts, grown=1.1) == []  # the weights where they were


def test_diverging_takes_in_the_layer_whose_weights_the_updates_threw():
    # a GRU fit near 0, restarted at a rate 100x too high: the head's gradient (the loss's
    # residual) grows 60x from the best loss's, the GRU's 4x; the updates threw the GRU's
    # weights 6x since the last sample, and the recurrent layer taking part is named
    losses = [0.7, 0.69, 0.7] + [0.7 * 0.8 ** i for i in range(1, 20)] + [0.8, 2.5, 0.8, 3.6]
    rates = [1e-2] * 3 + [1e-2 * (1 - i / 20) for i in range(1, 20)] + [1.0] * 4
    rnn = [0.25] * 22 + [1.2, 1.2, 0.6, 1.0]
    head = [0.4] * 3 + [0.02] * 19 + [0.1, 0.8, 0.5, 1.2]

    def first(thrown):
        rules = Rules(weight_growth_now=lambda: (6.0, thrown), recurrent=("rnn",))
        found = []
        for step, loss in enumerate(losses, 1):
            norms = {"rnn": rnn[step - 1], "head": head[step - 1]}
            found += rules.on_step(step, loss, math.hypot(*norms.values()), norms,
                                   rates[step - 1])
        assert [f.rule for f in found] == ["exploding"]
        assert "training is diverging" in found[0].message
        return found[0].layer

    assert first("rnn") == "rnn"
    assert first("head") == "head"  # (the GRU's gradient alone does not take part)


def test_heavy_tailed_losses_under_a_risen_rate_never_diverge():
    # batch losses of MSE on Student-t targets (1.5 degrees of freedom): runs of three batches
    # at or above the first three's median come by chance, the rate raised by a schedule
    rng = np.random.default_rng(0)
    losses = list(np.abs(rng.standard_t(1.5, 400)) ** 2 + 1.0)
    norms = [1.0] * len(losses)
    rates = [0.01] + [0.05] * (len(losses) - 1)
    assert _feed(norms, losses, rates) == []


def test_thresholds_are_configurable():
    series = [1.0, 1.2, 0.9, 1.1, 1.0, 8.0, 9.0, 9.5]
    assert _feed(series) == []
    assert len(_feed(series, thresholds=Thresholds(jump_factor=5.0))) == 1


def test_a_jump_in_its_first_steps_measures_each_layer_against_the_step_it_jumped_from():
    # the recurrent layer's gradient 1.3e3, 1.1e5, 1.5e6, 4e4 (30x its first), the head's
    # 0.44 to 0.79 (1.8x): the largest recent step is by now one of the jump's own, against
    # which the recurrent layer looks shrunk and the head grown
    rules = Rules(recurrent=["rnn"], weight_growth_now=lambda: (1.0, "rnn"))
    found = []
    for step, (loss, rnn, head) in enumerate([(0.66, 1.3e3, 0.44), (0.68, 1.1e5, 0.72),
                                              (0.69, 1.5e6, 0.8), (0.73, 4e4, 0.79)], 1):
        found += rules.on_step(step, loss, math.hypot(rnn, head), {"rnn": rnn, "head": head})
    (finding,) = found
    assert (finding.rule, finding.step, finding.layer) == ("exploding", 4, "rnn")


def test_a_jump_in_a_monitored_model_names_the_layer_whose_gradient_grew():
    # the per-layer norms of the step the jump is measured against are that step's, even
    # though the rule asks for them only when the jump comes, many steps later
    import chainrule as torch
    from chainrule import nn
    from chainrule.diagnostics import GradientMonitor

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    boost = [1.0]
    model[0].weight.register_hook(lambda grad: grad * boost[0])  # only this layer's gradient
    with GradientMonitor(model) as monitor:
        for step in range(1, 31):
            boost[0] = 1.0 if step < 20 else 1000.0
            model.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y) * (1.0 if step < 20 else 2.0)
            loss.backward()
            monitor.step(loss)  # no update: the weights stay, only the gradient jumps
    (finding,) = [f for f in monitor.findings if f.rule == "exploding"]
    # (the first layer: its hooks run last in the backward, after those of the layers above)
    assert (finding.step, finding.layer) == (22, "0"), str(finding)


def _sample(step, ratios):
    layers = {name: {"grad_norm": 0.1, "update_ratio": ratio, "weight_before": 1.0,
                     "weight_matrices": 1.0, "rho": None, "ever_grad": True}
              for name, ratio in ratios.items()}
    return {"step": step, "order": list(ratios), "layers": layers, "activations": {},
            "natural": {name: 1.0 for name in ratios}}


def test_updates_as_large_as_the_weights_three_samples_in_a_row_are_an_explosion():
    # the weights do not grow (a flip or a turn): only the update's size shows it
    rules = Rules()
    found = [f for step, ratio in ((1, 1.4), (2, 1.2), (4, 1.6))
             for f in rules.on_sample(_sample(step, {"rnn": 0.3, "head": ratio}))]
    assert [(f.rule, f.layer, f.step) for f in found] == [("exploding", "head", 4)]
    assert "1.6x their size" in found[0].message


def _large_updates_with_losses(losses):
    """Rules fed ``losses`` at steps 1-4 and updates 11x, 2.7x and 1.1x the weights at the
    samples of steps 1, 2 and 4: the findings."""
    rules, found = Rules(), []
    for step, loss in enumerate(losses, 1):
        found += rules.on_step(step, loss, 0.01, {"fc": 0.01})
        ratio = {1: 11.0, 2: 2.7, 4: 1.1}.get(step)
        if ratio is not None:
            found += rules.on_sample(_sample(step, {"fc": ratio}))
    return found


def test_updates_as_large_as_the_weights_that_lower_the_loss_at_each_step_are_no_explosion():
    # L-BFGS with a line search on a table it separates: the weights grow 3x a sample, and
    # every step lowers the loss
    assert _large_updates_with_losses([1.25, 0.04, 0.027, 0.026]) == []
    # the same updates, the loss up once between the samples: exploding updates
    found = _large_updates_with_losses([1.25, 0.04, 0.05, 0.026])
    assert [(f.rule, f.layer, f.step) for f in found] == [("exploding", "fc", 4)]


def _doubling_with_losses(losses):
    """Rules fed ``losses`` at steps 1-5, samples at steps 1, 2 and 4, and the update of step
    4 doubling the weights (1.0 -> 2.2): the findings."""
    rules, found = Rules(), []
    for step, loss in enumerate(losses, 1):
        found += rules.on_step(step, loss, 0.01, {"fc": 0.01})
        if step in (1, 2, 4):
            sample = _layer_sample(step, {"fc": (0.01, 0.01, 0.1)})
            if step == 4:
                sample["layers"]["fc"]["weight_matrices"] = 2.2
            found += rules.on_sample(sample)
    return found


def test_a_doubling_while_the_loss_falls_at_every_step_is_no_explosion():
    # L-BFGS with a line search on a table it separates, another draw: the weights 2.2x in the
    # update of step 4, the loss down 9% after it (progress asks 10%) and at every step since
    # the sample before
    assert _doubling_with_losses([0.89, 0.040, 0.027, 0.0259, 0.0236]) == []
    # the loss up once since the sample before: the doubling is an explosion
    found = _doubling_with_losses([0.89, 0.040, 0.041, 0.0259, 0.0236])
    assert [(f.rule, f.step) for f in found] == [("exploding", 4)]


def test_one_bold_update_is_not_an_explosion():
    rules = Rules()
    found = [f for step, ratio in ((1, 1.4), (2, 0.2), (4, 1.4), (8, 1.1), (16, 0.05))
             for f in rules.on_sample(_sample(step, {"fc": ratio}))]
    assert found == []


def _layer_sample(step, layers):
    """A sample of ``layers``: {name: (grad_norm, rho, update_ratio)}."""
    stats = {name: {"grad_norm": g, "rho": rho, "update_ratio": ratio, "weight_before": 1.0,
                    "weight_matrices": 1.0, "ever_grad": True}
             for name, (g, rho, ratio) in layers.items()}
    return {"step": step, "order": list(layers), "layers": stats, "activations": {},
            "natural": {name: 1.0 for name in layers}}


def _from_the_start(rho, losses):
    """Rules given a step-1 sample whose layers' gradients are ``rho`` x their weights (no
    update as large as a layer), then ``losses`` at steps 1-4 and a quiet sample at step 4."""
    rules, found = Rules(), []
    for step, loss in enumerate(losses, 1):
        found += rules.on_step(step, loss, 1.0, {"0": 1.0, "2": 1.0})
        if step in (1, 2, 4):
            found += rules.on_sample(_layer_sample(step, {"0": (1.0, rho, 0.1),
                                                          "2": (1.0, rho, 0.1)}))
    return found


def test_every_layer_out_of_scale_before_any_update_and_the_loss_thrown_is_an_explosion():
    # raw table columns under SGD: every gradient 24-77x its weights at step 1, the loss
    # 7.8 then 99, no layer doubled by one update
    found = _from_the_start(30.0, [7.8, 99.0, 40.0, 30.0])
    assert [(f.rule, f.layer) for f in found] == [("exploding", "0")]
    assert "before any update every layer's gradient was 30x its weights" in found[0].message
    # gradients of a sound size, or a loss that does not rise 10x: nothing
    assert _from_the_start(3.0, [7.8, 99.0, 40.0, 30.0]) == []
    assert _from_the_start(30.0, [7.8, 9.0, 6.0, 5.0]) == []


def _drifting_below_zero(first):
    """Rules fed ``first`` losses at steps 1-3, then a loss doubling below zero every ten steps
    (-0.02 at steps 4-10 to -0.3 at 41-50), the weights unchanged, sampled every ten steps."""
    rules, found = Rules(), []
    levels = {1: -0.02, 2: -0.05, 3: -0.12, 4: -0.3, 5: -0.3}
    for step in range(1, 51):
        loss = first[step - 1] if step <= 3 else levels[(step - 1) // 10 + 1]
        found += rules.on_step(step, loss, 1.0, {"0": 1.0, "2": 1.0})
        if step % 10 == 0:
            found += rules.on_sample(_layer_sample(step, {"0": (1.0, 0.1, 1e-3),
                                                          "2": (1.0, 0.1, 1e-3)}))
    return found


def test_a_loss_that_starts_on_both_sides_of_zero_is_judged_against_its_first_losses():
    # a policy-gradient surrogate (log-probabilities times advantages around zero) scatters
    # both ways from the start: a drift to -0.3 is no loss without a minimum
    assert _drifting_below_zero([0.079, -0.234, 0.014]) == []
    # the same fall from first losses of one sign near 0.015: 20x their size below zero
    found = _drifting_below_zero([0.02, 0.01, 0.015])
    assert [(f.rule, f.step) for f in found] == [("exploding", 40)]
    assert "a loss with no minimum" in found[0].message


def test_weights_whose_own_gradient_is_zero_have_not_stalled_and_the_layer_below_vanishes():
    # all units between '0' and '2' off (an activation the probe does not watch): '0' gets
    # exactly no gradient, '2' a gradient in its bias only; its weights rightly stand still
    rules = Rules()
    found = [f for step in (1, 2, 4) for f in rules.on_sample(_layer_sample(step, {
        "0": (0.0, 0.0, 0.0), "2": (0.1, 0.0, 0.0)}))]
    assert [(f.rule, f.layer) for f in found] == [("vanishing", "0")]
    assert "exactly zero" in found[0].message


def test_weights_with_a_gradient_that_do_not_move_have_stalled():
    rules = Rules()
    found = [f for step in (1, 2, 4) for f in rules.on_sample(_layer_sample(step, {
        "0": (0.1, 0.05, 0.0), "2": (0.1, 0.05, 1e-3)}))]
    assert [(f.rule, f.layer) for f in found] == [("stalled", "0")]


def test_a_model_that_has_fit_its_data_has_not_stalled():
    # a memorised batch: every layer's gradient falls far below its first size, and the
    # updates with it (the bench mlp, Adam, reached 5e-7 of its weights after 4,000 steps)
    rules = Rules()
    early = rules.on_sample(_layer_sample(1, {"0": (0.5, 0.05, 1e-3), "2": (0.4, 0.05, 1e-3)}))
    late = [f for step in (1000, 1050, 1100, 1150) for f in rules.on_sample(_layer_sample(
        step, {"0": (2e-6, 2e-7, 5e-7), "2": (3e-6, 2e-7, 5e-7)}))]
    assert early + late == []


def test_a_layer_whose_gradient_stays_has_stalled_after_a_larger_start():
    # the same early gradient, then a fifth of it (not a thousandth) with no update: stalled
    rules = Rules()
    rules.on_sample(_layer_sample(1, {"0": (0.5, 0.05, 1e-3), "2": (0.4, 0.05, 1e-3)}))
    found = [f for step in (50, 100, 150) for f in rules.on_sample(_layer_sample(
        step, {"0": (0.1, 0.01, 0.0), "2": (0.1, 0.01, 1e-3)}))]
    assert [(f.rule, f.layer, f.step) for f in found] == [("stalled", "0", 150)]


def test_a_parameter_made_nan_by_an_update_is_no_explosion_and_one_made_inf_is():
    from chainrule.diagnostics.nonfinite import Origin, explain

    nan = Origin("parameter", "forward", "nan", layer="embed.weight")
    found = Rules().on_nonfinite(2, nan, explain(nan))
    assert [f.rule for f in found] == ["nonfinite"]
    assert "0/0 in the optimizer" in found[0].message and "positive eps" in found[0].message
    inf = Origin("parameter", "forward", "inf", layer="fc.weight")
    found = Rules().on_nonfinite(2, inf, explain(inf))
    assert [(f.rule, f.layer) for f in found] == [("exploding", "fc"), ("nonfinite", "fc.weight")]


def test_units_found_dead_after_an_explosion_point_to_it():
    rules = Rules()
    rules.on_sample(_layer_sample(1, {"0": (0.1, 0.05, 3.0), "2": (0.1, 0.05, 1e-3)}))
    grown = _layer_sample(2, {"0": (0.1, 0.05, 1e-3), "2": (0.1, 0.05, 1e-3)})
    grown["layers"]["0"]["weight_matrices"] = 5.0  # one update made it five times larger
    (explosion,) = rules.on_sample(grown)
    found = []
    for step in (4, 8, 16):
        sample = _layer_sample(step, {"0": (0.1, 0.05, 1e-3), "2": (0.1, 0.05, 1e-3)})
        sample["activations"] = {"1": {"kind": "relu", "dead": 0.9, "inputs": 32}}
        found += rules.on_sample(sample)
    assert explosion.rule == "exploding" and [f.rule for f in found] == ["dead"]
    assert "an explosion was found before it (step 2)" in found[0].message


def test_weights_shrinking_after_an_explosion_point_to_it():
    # AdamW at a rate that exploded the weights: its decay, lr x weight_decay, then takes 5% of
    # them a step; both come from the rate
    rules = Rules()
    rules.on_sample(_layer_sample(1, {"0": (0.1, 0.05, 3.0), "2": (0.1, 0.05, 1e-3)}))
    grown = _layer_sample(2, {"0": (0.1, 0.05, 1e-3), "2": (0.1, 0.05, 1e-3)})
    grown["layers"]["0"]["weight_matrices"] = 5.0
    (explosion,) = rules.on_sample(grown)
    found = []
    for step in (4, 8, 16):
        sample = _layer_sample(step, {"0": (0.1, 0.05, 0.05), "2": (0.1, 0.05, 0.05)})
        for stats in sample["layers"].values():
            stats["weight_before"], stats["weight_matrices"] = 5.0, 4.75
        found += rules.on_sample(sample)
    assert explosion.rule == "exploding"
    assert [(f.rule, f.step) for f in found] == [("stalled", 16)]
    assert "shrinking" in found[0].message
    assert "an explosion was found before it (step 2)" in found[0].message


def test_an_overflow_after_an_explosion_points_to_it():
    from chainrule.diagnostics.nonfinite import Origin, explain

    rules = Rules()
    grown = _layer_sample(1, {"fc": (0.1, 0.05, 1e-3)})
    grown["layers"]["fc"]["weight_matrices"] = 5.0
    (explosion,) = rules.on_sample(grown)
    overflow = Origin("Linear", "forward", "inf", layer="fc")
    (finding,) = rules.on_nonfinite(2, overflow, explain(overflow))
    assert explosion.rule == "exploding" and finding.rule == "nonfinite"
    assert "an explosion was found before it (step 1)" in finding.message
    assert finding.message.index("explosion was found") < finding.message.index("Remedy:")


# -- held-out batch (2026-12-03) ---------------------------------------------------------
def _doubled(rules, loss_before, loss_after):
    """A step whose update made layer 'fc' five times larger, then the step after it."""
    found = rules.on_step(1, loss_before, 1.0, {"fc": 1.0})
    grown = _layer_sample(1, {"fc": (0.1, 0.05, 1e-3)})
    grown["layers"]["fc"]["weight_matrices"] = 5.0
    found += rules.on_sample(grown)
    return found + rules.on_step(2, loss_after, 1.0, {"fc": 1.0})


def _doubled_at(rules, step, loss_before, loss_after):
    found = rules.on_step(step, loss_before, 1.0, {"fc": 1.0})
    grown = _layer_sample(step, {"fc": (0.1, 0.05, 1e-3)})
    grown["layers"]["fc"]["weight_matrices"] = 5.0
    found += rules.on_sample(grown)
    return found + rules.on_step(step + 1, loss_after, 1.0, {"fc": 1.0})


def test_a_doubling_update_that_lowers_the_loss_is_progress_not_an_explosion():
    # L-BFGS with a line search can move a small head far in its first step, towards the fit
    assert _doubled(Rules(), 4.0, 0.5) == []
    assert _doubled(Rules(), 4.0, 3.0) == []
    (finding,) = _doubled(Rules(), 4.0, 3.9)  # a next batch a little lower is no progress
    assert (finding.rule, finding.step) == ("exploding", 1)
    (finding,) = _doubled(Rules(), 4.0, 4.5)  # the loss rose: an explosion
    assert (finding.rule, finding.layer, finding.step) == ("exploding", "fc", 1)
    (finding,) = _doubled(Rules(), 4.0, 40.0)
    assert "5.0x larger" in finding.message
    # falling a little from where an earlier step threw it, still above its untrained 0.7:
    # no progress (SGD with Nesterov momentum at lr 8 on a Conv1d net)
    rules = Rules()
    rules.on_step(1, 0.7, 1.0, {"fc": 1.0})
    (finding,) = [f for f in _doubled_at(rules, 2, 3.2, 2.5)]
    assert (finding.rule, finding.step) == ("exploding", 2)


def test_a_doubling_update_followed_by_a_non_finite_step_is_an_explosion():
    from chainrule.diagnostics.nonfinite import Origin, explain

    rules = Rules()
    rules.on_step(1, 4.0, 1.0, {"fc": 1.0})
    grown = _layer_sample(1, {"fc": (0.1, 0.05, 1e-3)})
    grown["layers"]["fc"]["weight_matrices"] = 5.0
    assert rules.on_sample(grown) == []  # judged by the loss after it
    overflow = Origin("Linear", "forward", "inf", layer="fc")
    found = rules.on_nonfinite(2, overflow, explain(overflow))
    assert [(f.rule, f.step) for f in found] == [("exploding", 1), ("nonfinite", 2)]


def test_an_overflow_after_an_explosion_the_jump_rule_confirms_again_points_to_it():
    from chainrule.diagnostics.nonfinite import Origin, explain

    rules = Rules()
    for step, norm in enumerate([1.0, 1.1, 0.9, 50.0, 60.0, 80.0], 1):
        rules.on_step(step, norm, norm, {"fc": norm})
    assert rules.groups["exploding"].step == 6
    rules.on_step(7, 100.0, 90.0, {"fc": 90.0})
    overflow = Origin("MseLoss", "forward", "inf")
    found = rules.on_nonfinite(8, overflow, explain(overflow))
    assert "an explosion was found before it (step 6)" in found[-1].message


def test_a_nan_parameter_after_an_explosion_is_not_called_a_zero_over_zero():
    from chainrule.diagnostics.nonfinite import Origin, explain

    rules = Rules()
    grown = _layer_sample(1, {"fc": (0.1, 0.05, 1e-3)})
    grown["layers"]["fc"]["weight_matrices"] = 5.0
    rules.on_sample(grown)
    nan = Origin("parameter", "forward", "nan", layer="fc.weight")
    (finding,) = rules.on_nonfinite(7, nan, explain(nan))
    assert "0/0" not in finding.message and "explosion was found before it" in finding.message


def test_a_step_where_no_layer_has_a_gradient_is_not_vanishing():
    # a triplet margin loss whose margins all hold: every gradient exactly 0 (was 0/0 here)
    rules = Rules()
    found = [f for step in (1, 2, 4, 8)
             for f in rules.on_sample(_layer_sample(step, {"0": (0.0, None, 0.0),
                                                           "2": (0.0, None, 0.0)}))]
    assert found == []


def _dead_units(rules, lrs, dead):
    found = []
    for (step, lr), fraction in zip(lrs, dead):
        rules.on_step(step, 1.0, 1.0, {"fc": 1.0}, lr)
        sample = _layer_sample(step, {"fc": (0.1, 0.05, 1e-3)})
        sample["activations"] = {"relu": {"kind": "relu", "dead": fraction, "inputs": 32}}
        found += rules.on_sample(sample, lr)
    return found


def test_units_that_die_once_a_schedule_raised_the_learning_rate_point_to_it():
    lrs = [(1, 0.01), (2, 0.05), (4, 0.2), (8, 0.8), (16, 3.2), (32, 6.4)]
    (finding,) = _dead_units(Rules(), lrs, [0.0, 0.0, 0.1, 0.9, 1.0, 1.0])
    assert (finding.rule, finding.step) == ("dead", 32)
    assert "learning rate rose to 0.8, 80x its first value (0.01)" in finding.message
    assert "peak learning rate" in finding.message
    # dead from the first measurement: not the schedule's doing, though it rose meanwhile
    (finding,) = _dead_units(Rules(), lrs, [0.9, 0.9, 0.9, 0.9, 0.9, 0.9])
    assert "learning rate rose" not in finding.message and finding.step == 4
    # dying at a learning rate that never rose: no schedule to blame
    (finding,) = _dead_units(Rules(), [(s, 0.01) for s, _ in lrs], [0.0, 0.0, 0.1, 0.9, 1, 1])
    assert "learning rate rose" not in finding.message


def _dead_masks(masks, **stats):
    """The dead rule's findings over samples at steps 1, 2, 4, ... whose units off are the
    'x's of each string in ``masks``."""
    rules, found = Rules(), []
    for i, mask in enumerate(masks):
        step = 2 ** i
        rules.on_step(step, 1.0, 1.0, {"fc": 1.0}, 0.01)
        sample = _layer_sample(step, {"fc": (0.1, 0.05, 1e-3)})
        off = np.array([c == "x" for c in mask])
        sample["activations"] = {"relu": dict(
            {"kind": "relu", "dead": off.mean(), "inputs": 32, "off": off, "after": "fc"},
            **stats)}
        found += rules.on_sample(sample, 0.01)
    return found


def test_dead_units_are_the_same_units_off_sample_after_sample():
    # sparse detectors: 10 of 16 off on each window, but the units take turns (6 in common)
    turns = ["xxxxxxxxxx......", "......xxxxxxxxxx", "xxxxxxxxxx......",
             "......xxxxxxxxxx", "xxxxxxxxxx......"]
    assert _dead_masks(turns) == []
    (finding,) = _dead_masks(["xxxxxxxxxx......"] * 5)  # the same ten units: dead
    assert (finding.rule, finding.step) == ("dead", 4)
    # thrown about by an update too large, then the same units off: found once they settle
    (finding,) = _dead_masks(["xxxxxxxxxx......", "......xxxxxxxxxx",
                              "xxxxxxxxxxxxxx..", "xxxxxxxxxxxxxx.."])
    assert finding.step == 8


def test_units_off_on_windows_of_few_samples_must_be_off_on_windows_of_sixteen():
    # two sequences a window (their positions are not independent inputs): ten units off on
    # the last three windows, but on in one of the two before: not off on 16 samples
    turns = ["xxxxx...........", ".....xxxxx......"] + ["xxxxxxxxxx......"] * 3
    assert _dead_masks(turns, samples=2) == []
    (finding,) = _dead_masks(turns)  # sixteen samples a window: the last two suffice
    assert (finding.rule, finding.step) == ("dead", 16)
    # the same units off on every window: found as soon as with windows of sixteen
    (finding,) = _dead_masks(["xxxxxxxxxx......"] * 5, samples=2)
    assert (finding.rule, finding.step) == ("dead", 4)


def _switched_off(losses, **stats):
    """The dead rule's findings where ten of 16 ReLU units, all alive at step 1, go off one
    layer-sample at a time, with ``losses`` at steps 1, 2, ... and nothing else amiss."""
    masks = {1: "................", 2: "xxx.............", 4: "xxxxxx..........",
             8: "xxxxxxxxxx......", 16: "xxxxxxxxxx......", 32: "xxxxxxxxxx......"}
    rules, found = Rules(), []
    for step, loss in enumerate(losses, 1):
        rules.on_step(step, loss, 1.0, {"fc": 1.0}, 0.01)
        if step in masks:
            sample = _layer_sample(step, {"fc": (0.1, 0.05, 1e-3)})
            off = np.array([c == "x" for c in masks[step]])
            sample["activations"] = {"relu": dict(
                {"kind": "relu", "dead": off.mean(), "inputs": 32, "off": off, "after": "fc",
                 "units": 16}, **stats)}
            found += rules.on_sample(sample, 0.01)
    return found


def test_relu_units_that_learning_switched_off_are_not_reported():
    falling = [0.95 ** step for step in range(32)]  # to 0.2: the loss learns meanwhile
    assert _switched_off(falling, biases_natural=True) == []
    (finding,) = _switched_off([1.0] * 32, biases_natural=True)  # the loss never learned
    assert (finding.rule, finding.step) == ("dead", 32)
    (finding,) = _switched_off(falling, biases_natural=False)  # biases thrown out of range
    assert (finding.rule, finding.step) == ("dead", 32)
    # a loss with a high floor (BCE on pixel intensities) never halves: below every one of
    # its first eight losses, it has learned all the same
    spread = [1.0, 1.02, 0.99, 1.01, 0.98, 1.0, 1.01, 0.99]
    assert _switched_off(spread + [0.95 - 0.01 * i for i in range(24)],
                         biases_natural=True) == []
    (finding,) = _switched_off(spread * 4, biases_natural=True)  # within its first spread
    assert (finding.rule, finding.step) == ("dead", 32)


def test_units_nudged_off_in_a_layer_on_or_off_by_its_biases_are_not_counted():
    # 9 of 16 off at the first sample (by their biases' signs), 15 by the fourth, the biases
    # still in their initial range: the 6 more went off under updates of a healthy size
    natural = {"units": 16, "biases_natural": True}
    growing = ["xxxxxxxxx.......", "xxxxxxxxxxx.....", "xxxxxxxxxxxxxx..",
               "xxxxxxxxxxxxxxx.", "xxxxxxxxxxxxxxx."]
    assert _dead_masks(growing, **natural) == []
    (finding,) = _dead_masks(["xxxxxxxxxxxxxxx."] * 5, **natural)  # past chance at the first
    assert (finding.rule, finding.step) == ("dead", 4)
    # biases thrown out of their range: judged by dead_fraction, whichever units
    (finding,) = _dead_masks(growing, units=16, biases_natural=False)
    assert finding.rule == "dead"


def test_units_of_a_model_that_has_fit_its_data_are_not_reported():
    # L-BFGS memorising a batch saturates a tanh on its way to a loss of 1e-6: nothing is left
    # to learn, so units that pass no gradient cost nothing
    def run(losses):
        rules, found = Rules(), []
        for step, loss in enumerate(losses, 1):
            rules.on_step(step, loss, 1.0, {"fc": 1.0})
            sample = _layer_sample(step, {"fc": (0.1, 0.05, 1e-3)})
            saturated = 0.1 if step < 4 else 0.98
            sample["activations"] = {"act": {"kind": "tanh", "saturated": saturated,
                                             "inputs": 64}}
            found += rules.on_sample(sample)
        return found

    assert run([1.1, 0.8, 0.5, 1e-4, 1e-5, 1e-6, 1e-6]) == []
    (finding,) = run([1.1, 0.8, 0.5, 0.4, 0.4, 0.3, 0.3])  # still learning: saturation counts
    assert (finding.rule, finding.step) == ("saturation", 6)


def test_losses_an_explosion_threw_up_in_the_first_steps_are_not_the_untrained_level():
    # Adam at lr 3 on a CNN: 2.28 untrained, then 8.9e7 and 3.2e7; falling back to 1e3 and 14
    # is not a fit (the median of the three, 3.2e7, made it one and silenced the rules), and
    # the units that died on the way are reported
    def run(losses):
        rules, found = Rules(), []
        for step, loss in enumerate(losses, 1):
            rules.on_step(step, loss, 1.0, {"fc": 1.0})
            sample = _layer_sample(step, {"fc": (0.1, 0.05, 1e-3)})
            sample["activations"] = {"act": {"kind": "relu", "dead": 0.0 if step < 4 else 1.0,
                                             "inputs": 32}}
            found += rules.on_sample(sample)
        return rules, found

    rules, found = run([2.28, 8.9e7, 3.2e7, 1.4e3, 515.0, 216.0, 14.0])
    assert rules.explosions.start_loss == 2.28 and not rules._fitted()
    assert [(f.rule, f.step) for f in found] == [("dead", 6)]
    # within jump_factor squared of the first the median stands (an easy first batch too);
    # beyond, the lower of the rest; a loss with no floor (the first below zero) keeps it
    assert Rules().explosions.fitted(1.0) is False  # (no level before three losses)
    for losses, start in (([2.3, 2.0, 40.0], 2.3), ([0.05, 1.0, 1.2], 1.0),
                          ([2.3, 2.0, 400.0], 2.0), ([2.3, 400.0, 500.0], 2.3),
                          ([-0.5, -300.0, -0.4], -0.5)):
        rules, _ = run(losses + [1.0])
        assert rules.explosions.start_loss == start, losses


def test_a_learning_rate_of_exactly_zero_is_a_stall_not_a_decayed_schedule():
    # StepLR(gamma=0) (meant 0.5): from its first decay on, nothing moves
    def run(lrs):
        rules, found = Rules(), []
        for step, lr in zip((1, 2, 4, 8, 16), lrs):
            ratio = 1e-3 if lr >= 0.01 else 1e-8 * lr  # a decayed rate moves them little too
            found += rules.on_step(step, 1.0, 0.1, {"fc": 0.1}, lr)
            found += rules.on_sample(_layer_sample(step, {"fc": (0.1, 0.05, ratio)}), lr)
        return found

    # found by the schedule rule, which reads the rate on every step (the layers' stall needs
    # three samples: at step 16 here, and at the default rate 150 steps late where the rate
    # reached 0 at step 51), naming every layer; the layers' own stall is not said again
    (finding,) = run([0.05, 0.05, 0.0, 0.0, 0.0])
    assert (finding.rule, finding.step, finding.layers) == ("stalled", 8, ["fc"])
    assert "has been 0 since step 4" in finding.message
    # decayed, though: no layer has stalled (a rate 500x lower from the fourth step on is a
    # schedule far faster than the run, the model-wide finding tested below)
    assert all(f.layer is None for f in run([0.05, 0.05, 1e-4, 1e-4, 1e-4]))


def _schedule(lrs):
    """The findings of a run whose learning rate follows ``lrs``, one value per step, while
    its loss keeps falling."""
    rules = Rules()
    return [f for step, lr in enumerate(lrs, 1) for f in rules.on_step(step, 1.0 / step, 0.1,
                                                                       {"fc": 0.1}, lr)]


def test_a_rate_below_zero_is_divergence_at_its_first_step_and_a_floored_decay_is_not():
    # a linear decay to 0 at step 20 written without max(0, ...): negative from step 21 on
    decay = [0.1 * (1 - s / 20) for s in range(1, 31)]
    first, *rest = _schedule(decay)
    assert (first.rule, first.step) == ("exploding", 21) and "below 0" in first.message
    assert all(f.rule != "stalled" for f in rest)  # (not also a schedule slowed to near 0)
    assert all(f.rule != "exploding" for f in _schedule([max(0.0, lr) for lr in decay]))
    # LinearLR(opt, 1 / 3, 0.0, total_iters=7) at 0.1 ends at -4.2e-18 by rounding: not below 0
    rounded = [max(0.0, lr) for lr in decay[:20]] + [-4.2e-18] * 10
    assert all(f.rule != "exploding" for f in _schedule(rounded))


def test_a_rate_set_to_exactly_0_is_found_even_where_its_cut_came_after_a_plateau():
    # the lowest loss at step 10, the rate cut to 0 at step 20 (lr * 0 meant as lr * 0.1): a
    # plateau schedule never reaches 0; cut to a tenth at the same step, it is left alone
    rules, found = Rules(), []
    losses = [1.0 / s if s <= 10 else 0.2 for s in range(1, 41)]
    for step, loss in enumerate(losses, 1):
        found += rules.on_step(step, loss, 0.1, {"fc": 0.1}, 0.1 if step < 20 else 0.0)
    (finding,) = found
    assert (finding.rule, finding.step) == ("stalled", 24) and "has been 0" in finding.message
    rules, found = Rules(), []
    for step, loss in enumerate(losses, 1):
        found += rules.on_step(step, loss, 0.1, {"fc": 0.1}, 0.1 if step < 20 else 0.01)
    assert found == []


def test_a_schedule_stepped_per_batch_is_found_where_one_that_ends_low_is_not():
    # StepLR(step_size=30, gamma=0.1) meant per epoch, stepped per batch: 1e-2 of the peak from
    # step 60, found once it has stayed there 0.8 x the 59 steps before it (step 107)
    (finding,) = _schedule([0.1 * 0.1 ** (s // 30) for s in range(1, 200)])
    assert (finding.rule, finding.layer, finding.step) == ("stalled", None, 107)
    assert "per epoch" in finding.message and "step the scheduler once per epoch" in finding.message
    (finding,) = _schedule([0.1 * 0.9 ** s for s in range(1, 200)])  # ExponentialLR(0.9)
    # at 1e-2 of its first value from step 45; it fell by one ratio at every step from its
    # peak, which a schedule stepped per epoch never does: found 0.1 x 44 steps on (was 80,
    # 0.8 x 44 steps on, the staircase's share)
    assert finding.step == 49 and "0.9 at every step" in finding.message
    # the same gamma stepped per epoch of 10 batches, or per batch on purpose and ending with
    # the run a little below 1e-2 (0.95 over 95 steps: 1e-2 from step 91), is not found; run
    # on past a tenth of the steps before, the latter is
    assert _schedule([0.1 * 0.9 ** (s // 10) for s in range(1, 200)]) == []
    assert _schedule([0.1 * 0.95 ** s for s in range(1, 96)]) == []
    assert [f.step for f in _schedule([0.1 * 0.95 ** s for s in range(1, 120)])] == [99]
    # a cosine falls by a ratio that changes every step: judged by the shares alone (a cosine
    # to 0 over 60 steps run to 200: below 1e-3 from step 59, found 0.25 x 58 steps on, not
    # a patience after 1e-2 as a fall by one ratio would be)
    cosine = [0.05 * (1 + math.cos(math.pi * min(s, 60) / 60)) for s in range(1, 200)]
    assert [f.step for f in _schedule(cosine)] == [73]
    # the same staircase stepped per epoch (10 batches) ends with the run: 1e-2 for its last 40%
    assert _schedule([0.1 * 0.1 ** (s // 30) for s in range(1, 101)]) == []
    # cosine to 0 (the last 6% below 1e-2), a warm restart every 30 steps, one-cycle's floor
    assert _schedule([0.05 * (1 + math.cos(math.pi * s / 100)) for s in range(1, 101)]) == []
    assert _schedule([0.05 * (1 + math.cos(math.pi * (s % 30) / 30)) + 1e-9
                      for s in range(1, 301)]) == []
    # exactly 0 is not slow but stopped: found once it has stayed there patience steps and
    # 0.25 x the steps before it (here 3 steps from step 6)
    (finding,) = _schedule([0.1] * 5 + [0.0] * 100)
    assert (finding.rule, finding.step) == ("stalled", 8) and "has been 0" in finding.message
    # a rate that is 0 before it ever rose (a loop that passes the rate before a warm-up's
    # first step) is not a schedule that fell
    assert _schedule([0.0] * 5 + [0.1] * 100) == []


def test_a_schedule_that_first_cuts_the_rate_on_a_plateau_of_the_loss_follows_it():
    # ReduceLROnPlateau stepped per batch: the loss at its floor from step 40, the rate cut 10x
    # every 11 steps from then on; the same cuts on a timetable while the loss still fell are
    # a schedule stepped per batch
    lrs = [0.1 * 0.1 ** max(0, (s - 40) // 11) for s in range(1, 200)]
    plateau = [1.0 / s if s < 40 else 0.025 + 0.001 * (s % 3) for s in range(1, 200)]
    rules, found = Rules(), []
    for step, (lr, loss) in enumerate(zip(lrs, plateau), 1):
        found += rules.on_step(step, loss, 0.1, {"fc": 0.1}, lr)
    assert found == []
    rules, found = Rules(), []
    for step, lr in enumerate(lrs, 1):
        found += rules.on_step(step, 1.0 / step, 0.1, {"fc": 0.1}, lr)
    assert [(f.rule, f.layer) for f in found] == [("stalled", None)]


def test_a_timetable_whose_first_cut_fell_on_a_plateau_is_told_by_a_later_cut():
    # StepLR(10, 0.1) stepped per batch on a model that learns slowly: its lowest loss came at
    # step 1, so the first cut (step 11) looked like ReduceLROnPlateau's; the second cut comes
    # a step after a new lowest loss, which a plateau schedule never does
    lrs = [0.1 * 0.1 ** ((s - 1) // 10) for s in range(1, 120)]
    losses = [0.5 if s == 1 else 0.6 if s < 19 else 0.45 if s == 19 else 0.55
              for s in range(1, 120)]
    rules, found = Rules(), []
    for step, (lr, loss) in enumerate(zip(lrs, losses), 1):
        found += rules.on_step(step, loss, 0.1, {"fc": 0.1}, lr)
    assert [(f.rule, f.layer, f.step) for f in found] == [("stalled", None, 36)]
    # the same cuts, each one far from the lowest loss: the schedule follows the loss
    losses = [0.5 if s == 1 else 0.6 for s in range(1, 120)]
    rules, found = Rules(), []
    for step, (lr, loss) in enumerate(zip(lrs, losses), 1):
        found += rules.on_step(step, loss, 0.1, {"fc": 0.1}, lr)
    assert found == []


def test_a_timetable_is_told_when_its_cuts_wait_differently_after_new_lowest_losses():
    # StepLR(15, 0.1) stepped per batch on a noisy loss: one lucky batch (step 20) made the
    # lowest loss 5 steps before the first cut, as ReduceLROnPlateau with patience 4 would;
    # the next new lowest (step 29) came 11 steps before the next cut, which that schedule,
    # cutting 5 steps after every new best, cannot do
    lrs = [0.1 * 0.1 ** max(0, (s - 10) // 15) for s in range(1, 120)]

    def run(losses):
        rules, found = Rules(), []
        for step, (lr, loss) in enumerate(zip(lrs, losses), 1):
            found += rules.on_step(step, loss, 0.1, {"fc": 0.1}, lr)
        return [(f.rule, f.layer, f.step) for f in found]

    lucky = {20: 0.5, 29: 0.45}
    assert run([lucky.get(s, 0.6) for s in range(1, 120)]) == [("stalled", None, 68)]
    # no new lowest after the first cut: each later cut comes 15 steps after the one before,
    # as a plateau schedule's would on a loss that stopped improving (a cooldown lengthens
    # that wait, so it may exceed the first)
    assert run([0.5 if s == 20 else 0.6 for s in range(1, 120)]) == []


def test_a_run_at_the_data_scale_that_does_not_learn_is_stalled_whichever_batches_came_first():
    # targets 1000x their scale under Adam: every batch's loss is its targets' spread, 1e7 to
    # 5e7, and no update changes it. Drawn so that the first three came high, the recent
    # median is 0.6 of them, yet a later loss is below one of the first eight in about half of
    # their pairs: no fall beyond the batches' spread. A run that learns, however slowly,
    # falls below its first losses in nearly every pair
    rng = np.random.default_rng(0)
    spread = list(rng.uniform(1e7, 5e7, 100))
    noisy = [5e7, 4.8e7, 4.9e7] + spread

    def run(losses):
        rules, found = Rules(), []
        for step, loss in enumerate(losses[:60], 1):
            found += rules.on_step(step, loss, 0.1, {"fc": 0.1})
            if step in (16, 32, 50):
                found += rules.on_sample(_layer_sample(step, {"fc": (0.1, 0.05, 1e-3)}))
        return [(f.rule, f.layer, f.step) for f in found if "data's scale" in f.message]

    assert statistics.median(noisy[42:50]) < 0.9 * 4.9e7
    assert run(noisy) == [("stalled", None, 50)]
    # a summed loss that falls by 20% over 50 steps, steadily, with a little noise
    slow = [600 * (1 - 0.004 * s) * (1 + 0.01 * rng.standard_normal()) for s in range(60)]
    assert run(slow) == []


def _doubling(rules, step, growth, before=None, order=None):
    """A sample in which each layer of ``growth`` grew that many times in one update."""
    sample = _layer_sample(step, {n: (0.1, 0.05, 1e-3) for n in order or growth})
    for name, factor in growth.items():
        sample["layers"][name]["weight_matrices"] = factor
    for name, size in (before or {}).items():
        sample["layers"][name]["weight_before"] = size
    rules.on_step(step, 1.0, 1.0, {n: 1.0 for n in growth})
    found = rules.on_sample(sample)
    return found + rules.on_step(step + 1, None, 1.0, {n: 1.0 for n in growth})


def test_an_explosion_is_named_where_it_starts_not_where_it_grew_most():
    # a ReLU RNN's growth over time throws every layer: the head (small) grows most
    (finding,) = _doubling(Rules(recurrent=["rnn"]), 1, {"front": 3.0, "rnn": 15.0,
                                                         "head": 62.0})
    assert (finding.layer, finding.layers) == ("rnn", ["rnn", "front", "head"])
    assert "clip the gradient norm" in finding.message and "LSTM/GRU" in finding.message
    # of several recurrent layers, the one whose gradient sums the amplified signal over time
    rules = Rules(recurrent=["a", "b"])
    sample = _layer_sample(1, {"a": (2e9, 0.05, 1e-3), "b": (9e9, 0.05, 1e-3),
                               "head": (3e9, 0.05, 1e-3)})
    for name in sample["layers"]:
        sample["layers"][name]["weight_matrices"] = 1e6
    rules.on_step(1, 1.0, 1.0, {"fc": 1.0})
    (finding,) = rules.on_sample(sample) + rules.on_step(2, None, 1.0, {"fc": 1.0})
    assert finding.layers == ["b", "a", "head"]
    # across depth, growth compounds from the first layer in forward order...
    (finding,) = _doubling(Rules(), 1, {"0": 3.0, "2": 5.0, "4": 40.0})
    assert finding.layer == "0"
    # ...unless one layer is far larger than its natural size: it amplifies, the rest grow
    (finding,) = _doubling(Rules(), 1, {"6": 2.4}, before={"4": 100.0},
                           order=["0", "2", "4", "6"])
    assert finding.layer == "4" and "100x their natural size" in finding.message
    assert "initialise this layer's weights smaller" in finding.message


def test_of_several_recurrent_layers_one_started_large_is_named_before_a_larger_gradient():
    # three stacked ReLU RNNs, the middle one with recurrent gain 4 (2.9x its natural size):
    # at one draw the last had the larger gradient (9.8e8 against 8.4e8)
    rules = Rules(recurrent=["a", "b", "c"])
    sample = _layer_sample(1, {"a": (8e7, 0.05, 1e-3), "b": (8.4e8, 0.05, 1e-3),
                               "c": (9.8e8, 0.05, 1e-3), "head": (1e9, 0.05, 1e-3)})
    sample["layers"]["b"]["weight_before"] = 2.9
    for name in sample["layers"]:
        sample["layers"][name]["weight_matrices"] = 1e6
    rules.on_step(1, 1.0, 1.0, {"fc": 1.0})
    (finding,) = rules.on_sample(sample) + rules.on_step(2, None, 1.0, {"fc": 1.0})
    assert finding.layers == ["b", "a", "c", "head"]


def test_a_doubling_after_an_update_that_threw_another_layer_is_named_at_that_layer():
    # a trained LSTM under SGD at lr 5: the first update moved it 1.5x its size (short of
    # doubling it), the second doubled the head
    rules = Rules(recurrent=["rnn"])
    rules.on_step(1, 0.04, 4.5, {"rnn": 4.5, "head": 0.05})
    assert rules.on_sample(_layer_sample(1, {"rnn": (4.5, 0.2, 1.5),
                                             "head": (0.05, 0.01, 0.04)})) == []
    (finding,) = _doubling(rules, 2, {"head": 2.1}, order=["rnn", "head"])
    assert finding.layers == ["rnn", "head"]
    assert "after the update of step 1 had moved those of 'rnn' by 1.5x" in finding.message
    # a head thrown first is not where it starts: its gradient is its input's
    rules = Rules()
    rules.on_step(1, 0.04, 4.5, {"0": 4.5, "2": 0.05})
    rules.on_sample(_layer_sample(1, {"0": (0.05, 0.01, 0.04), "2": (4.5, 0.2, 60.0)}))
    (finding,) = _doubling(rules, 2, {"0": 30.0}, order=["0", "2"])
    assert finding.layer == "0" and "after the update" not in finding.message


def _thrown_everywhere(first_rho):
    """Samples 1 and 2 with ``first_rho`` ({layer: gradient/weight}), then one update that
    doubled 'f2' and threw 'f0' and the head as far as their weights: the finding."""
    rules = Rules()
    for step in (1, 2):
        rules.on_step(step, 1.4, 1.0, {})
        sample = _uniform_sample(step, first_rho)
        sample["heads"] = {"head"}
        assert rules.on_sample(sample) == []
    rules.on_step(4, 7.0, 1.0, {})
    sample = _layer_sample(4, {"f0": (12.0, 10.0, 1.1), "f2": (13.0, 10.0, 1.3),
                               "head": (17.0, 10.0, 1.3)})
    sample["layers"]["f2"]["weight_matrices"] = 2.0
    sample["heads"] = {"head"}
    return rules.on_sample(sample) + rules.on_step(5, 120.0, 1.0, {})


def test_an_explosion_everywhere_starts_where_a_gradient_stood_out_from_the_first_samples():
    # a gradient reversal 1000x too strong: from step 1 the features' last layer passes back
    # 20x more, against its weights, than the layers after it; once the weights are thrown
    # every layer moves alike, and the first in forward order was named
    (finding,) = _thrown_everywhere({"f0": 2.5, "f2": 4.0, "head": 0.2})
    assert finding.layer == "f2"
    # with no gradient standing out at first, an explosion everywhere starts at the first layer
    (finding,) = _thrown_everywhere({"f0": 2.5, "f2": 4.0, "head": 3.0})
    assert finding.layer == "f0"


def _oversized_run(losses, size):
    """Samples at steps 1, 2 and 4 of an MLP whose layer '4' is ``size`` x its natural size,
    with ``losses`` at steps 1 to 4."""
    rules = Rules()
    found = []
    for step, loss in enumerate(losses, 1):
        found += rules.on_step(step, loss, 1.0, {})
        if step in (1, 2, 4):
            sample = _layer_sample(step, {n: (1.0, 0.5, 0.3) for n in ("0", "2", "4", "6")})
            sample["layers"]["4"]["weight_before"] = size
            sample["layers"]["4"]["weight_matrices"] = size
            found += rules.on_sample(sample)
    return found


def test_a_layer_out_of_scale_from_the_start_with_the_loss_overshooting_is_an_explosion():
    # the middle layer of an MLP initialised 100x too large: the updates throw the head by
    # about its size each step, never doubling it, and the loss rises to 3.3x its first
    (finding,) = _oversized_run([0.96, 3.2, 2.7, 3.5], 100.0)
    assert (finding.rule, finding.layer, finding.step) == ("exploding", "4", 4)
    assert "100x their natural size" in finding.message
    assert "initialise this layer's weights smaller" in finding.message
    # a loss that stays near its first, or a layer of sound size, is no such explosion
    assert _oversized_run([0.96, 0.9, 0.95, 0.8], 100.0) == []
    assert _oversized_run([0.96, 3.2, 2.7, 3.5], 2.0) == []


def test_units_dead_after_an_explosion_at_a_layer_out_of_scale_name_that_layer():
    # the explosion confirmed (the loss rose after the throw) or not, the root cause is told
    rules = Rules()
    found = []
    for step, loss in enumerate([0.96, 3.2, 2.7, 3.5] + [0.7] * 12, 1):
        found += rules.on_step(step, loss, 1.0, {})
        if step in (1, 2, 4, 8, 16):
            sample = _layer_sample(step, {n: (1.0, 0.5, 0.3) for n in ("0", "2", "4", "6")})
            sample["layers"]["4"]["weight_before"] = 100.0
            sample["layers"]["4"]["weight_matrices"] = 100.0
            if step >= 4:
                sample["activations"] = {"7": {"kind": "relu", "dead": 0.9, "inputs": 32}}
            found += rules.on_sample(sample)
    assert [f.rule for f in found] == ["exploding", "dead"]
    assert "started where layer '4' was 100x its natural size" in found[1].message
    assert "initialise the layer named out of scale" in found[1].message


def _uniform_sample(step, rho):
    layers = {n: {"grad_norm": r, "rho": r, "weight_before": 1.0, "weight_matrices": 1.0,
                  "update_ratio": 1e-3, "ever_grad": True} for n, r in rho.items()}
    return {"step": step, "order": list(rho), "layers": layers, "activations": {},
            "natural": {n: 1.0 for n in rho}}


def test_gradients_a_hundred_times_the_square_root_of_the_loss_are_an_explosion_from_the_start():
    # the same gradients are healthy under a loss a million times larger (a squared error on
    # targets 1e3 times their scale: the gradient grows with the loss's square root), or with
    # a recurrent layer of healthy size (inputs far from unit scale); the recurrent layer's
    # own gradient, against the head's, is a healthy one's (0.05), so that only the size
    # against the loss can tell
    for loss, size, expected in ((1e2, 2.2, ["exploding"]), (1e8, 2.2, []), (1e2, 1.4, [])):
        rules = Rules(recurrent={"rnn"})
        found = []
        for step in (1, 2, 4):
            rules.on_step(step, loss, 1e5, {})
            sample = _uniform_sample(step, {"front": 1e4, "rnn": 1e3, "head": 2e4})
            # (the same size after the update: the updates here are 1e-3 of it)
            sample["layers"]["rnn"]["weight_before"] = size
            sample["layers"]["rnn"]["weight_matrices"] = size
            found += rules.on_sample(sample)
        assert [f.rule for f in found] == expected
        if expected:
            assert found[0].step == 4 and found[0].layer == "rnn"  # recurrent: where it starts


def test_weights_too_large_across_depth_with_large_gradients_are_an_explosion_from_the_start():
    # five layers at 10x their natural size: each multiplies the signal by 10 / sqrt(6) = 4.1
    # (4.1^4 = 280 past the first); under a normalisation the gradients shrink instead (0.1);
    # a norm before each branch of a residual net, the stream left out of scale, only divides
    # them by its scale (0.7)
    for rho, expected in ((50.0, ["exploding"]), (0.7, ["exploding"]), (0.1, [])):
        rules = Rules()
        found = []
        for step in (1, 2, 4):
            rules.on_step(step, 5.0, 1e2, {})
            sample = _uniform_sample(step, {n: rho for n in ("0", "2", "4", "6", "8")})
            for stats in sample["layers"].values():
                stats["weight_before"] = stats["weight_matrices"] = 10.0
            found += rules.on_sample(sample)
        assert [f.rule for f in found] == expected
        if expected:
            assert found[0].step == 4 and found[0].layer == "0"
            assert "initialise the weights smaller" in found[0].message
    # one layer 10x too large amplifies 4x: not across depth (the out-of-scale rule's case)
    rules = Rules()
    for step in (1, 2, 4):
        sample = _uniform_sample(step, {n: 50.0 for n in ("0", "2", "4")})
        sample["layers"]["2"]["weight_before"] = sample["layers"]["2"]["weight_matrices"] = 10.0
        assert rules.on_sample(sample) == []


def test_a_sample_without_gradients_neither_counts_for_nor_breaks_an_outsized_streak():
    # a batch of one that an exploded classifier gets right has loss 0 and no gradient at all
    rules = Rules(recurrent={"rnn"})
    found = []
    for step, rho in ((1, 3e4), (2, 0.0), (4, 3e4), (8, 3e4)):
        rules.on_step(step, 1e2 if rho else 0.0, rho, {})
        sample = _uniform_sample(step, {"front": rho, "rnn": rho, "head": rho})
        sample["layers"]["rnn"]["weight_before"] = sample["layers"]["rnn"]["weight_matrices"] = 2.2
        found += rules.on_sample(sample)
    assert [(f.rule, f.step, f.layer) for f in found] == [("exploding", 8, "rnn")]


def _through_time(ratios, size, steps=(1, 2, 4, 8, 16)):
    """Samples of a recurrent layer ``size`` times its natural size whose gradient/weight is
    ``ratio`` times the head's (None: a sample with no gradient at all)."""
    rules = Rules(recurrent={"rnn"})
    found = []
    for step, ratio in zip(steps, ratios):
        rules.on_step(step, 0.7 if ratio is not None else 0.0, 1.0, {})
        rho = {"rnn": 0.5 * ratio, "head": 0.5} if ratio is not None else {"rnn": 0.0,
                                                                         "head": 0.0}
        sample = _uniform_sample(step, rho)
        sample["layers"]["rnn"]["weight_before"] = sample["layers"]["rnn"]["weight_matrices"] = size
        found += rules.on_sample(sample)
    return found


def test_a_recurrent_layer_started_large_passing_back_more_than_the_head_amplifies_through_time():
    # a tanh RNN with recurrent gain 3 (2.1x its natural size): its ratio scatters
    (finding,) = _through_time((4.9, 3.2, 1.5), 2.1)
    assert (finding.rule, finding.layer, finding.step) == ("exploding", "rnn", 4)
    assert "through time" in finding.message and "a median 3.2x" in finding.message
    assert "initialise the recurrent weights smaller" in finding.message
    # a healthy recurrent layer's gradient fades through time: 0.05 to 0.2 of the head's
    assert _through_time((0.2, 0.15, 0.2, 0.18), 2.2) == []
    # a large one that trains (two GRU layers with every weight x5: 0.54 to 1.2)
    assert _through_time((0.61, 0.54, 1.2, 0.71, 0.85), 4.4) == []
    # one of default size: its inputs, not its weights
    assert _through_time((4.9, 3.2, 2.5), 1.28) == []
    # a sample with no gradient (a batch of one the model gets right) neither counts nor breaks
    (finding,) = _through_time((2.8, None, 4.0, None, 2.2), 2.1)
    assert finding.step == 16


def test_a_layer_nested_in_an_earlier_one_is_not_after_the_head():
    # MultiheadAttention uses its out_proj's weights without calling it: the forward order
    # holds it last; 10 times too large, its ratio is a tenth of the others'
    rho = {"attn": 0.02, "ffn": 0.05, "head": 0.4, "attn.out_proj": 0.002}
    rules = Rules()
    found = []
    for step in (1, 2, 4):
        found += rules.on_sample(_uniform_sample(step, rho))
    assert found == []
    # the same ratios with the small layer really after the head are an amplification there
    rules = Rules()
    for step in (1, 2, 4):
        found += rules.on_sample(_uniform_sample(step, {**rho, "out": 0.002}))
    assert [(f.rule, f.layer) for f in found] == [("exploding", "head")]


def test_broadcast_parameters_amplify_nothing():
    # a class token and learned positions (1, T, D) trained from zero: their gradient against
    # their small weights is large, but nothing passes through them to be amplified
    rho = {"ViT": 8.0, "patch": 0.3, "blocks": 0.05, "head": 0.06}
    found = []
    rules = Rules()
    for step in (1, 2, 4):
        found += rules.on_sample(_uniform_sample(step, rho))
    assert [(f.rule, f.layer) for f in found] == [("exploding", "ViT")]
    rules = Rules()
    rules.broadcast.add("ViT")
    for step in (1, 2, 4):
        assert rules.on_sample(_uniform_sample(step, rho)) == []


def test_broadcast_only_parameters_are_told_from_layers_by_shape_and_kind():
    import chainrule as torch
    from chainrule import nn
    from chainrule.diagnostics.monitor import broadcast_only

    class Tokens(nn.Module):
        def __init__(self, shape):
            super().__init__()
            self.value = nn.Parameter(torch.zeros(*shape))

    def own(module):
        return list(module._parameters.items())

    assert broadcast_only(Tokens((1, 1, 8)), own(Tokens((1, 1, 8))))
    assert broadcast_only(Tokens((1, 16, 8)), own(Tokens((1, 16, 8))))
    assert not broadcast_only(Tokens((16, 8)), own(Tokens((16, 8))))  # (a matrix)
    head = nn.Conv2d(16, 1, 3)  # a convolution with one output channel maps its input
    assert not broadcast_only(head, own(head))
    assert not broadcast_only(nn.LayerNorm(8), own(nn.LayerNorm(8)))  # (no matrix at all)


def test_the_optimizer_settings_are_named_as_the_cause_at_once():
    rules = Rules()
    rules.order = ["fc", "head"]
    (momentum,) = rules.on_optimizer(1, [("momentum", 0, 1.0)])
    assert (momentum.rule, momentum.layer) == ("exploding", None)
    assert "never decays" in momentum.message and "momentum below 1" in momentum.message
    # one cause, one finding: an explosion measured later joins it, not a second one
    assert rules.on_optimizer(2, [("momentum", 0, 1.0)]) == []
    rules = Rules()
    (beta2,) = rules.on_optimizer(1, [("beta2", 1, 0.0)])
    assert beta2.rule == "exploding" and "parameter group 1" in beta2.message
    rules = Rules()
    rules.order = ["fc", "head"]
    (eps,) = rules.on_optimizer(3, [("eps", 0, 150.0)])
    assert (eps.rule, eps.layers) == ("stalled", ["fc", "head"]) and "150x" in eps.message


# -- conv17: a run that has fit its data (loss at 1e-3 of its untrained level or below) -------
def _fit_then(after_losses, after_norms, grown=0.0):
    """20 steps that learn (loss 0.7 to 0, gradient 1 to 1e-20), then the given steps."""
    losses = [0.7] * 4 + [0.7 * 0.1 ** (i / 2) for i in range(12)] + [0.0] * 4 + after_losses
    norms = [1.0] * 4 + [0.1 ** (1.5 * i) for i in range(12)] + [1e-20] * 4 + after_norms
    return _feed(norms, losses, grown=grown)


def test_adams_spike_at_a_minimum_that_returns_to_it_is_no_explosion():
    # what a residual CNN that memorised its batch did under Adam (loss 0 -> 75 -> 3e-8): the
    # gradient norm 270x its early maximum for four steps, the loss up, then back
    spike = [0.2, 8.5, 6.8, 0.25, 3e-8, 0.0, 0.0, 0.0, 0.0, 0.0]
    norms = [30.0, 290.0, 250.0, 20.0, 1e-6, 1e-20, 1e-20, 1e-20, 1e-20, 1e-20]
    assert _fit_then(spike, norms) == []
    assert _fit_then(spike, norms, grown=3.0) == []  # (its weights thrown with it)
    # the same spike, weights thrown, before the loss ever reached its floor is an explosion
    steady = [1.0, 1.2, 0.9, 1.1, 1.0]
    assert [f.rule for f in _feed(steady + norms[1:], [0.7] * 5 + spike[1:], grown=3.0)] == [
        "exploding"]


def test_a_jump_that_undoes_the_fit_is_an_explosion():
    # the loss back at its untrained level (0.7) and staying there: recent_steps steps
    (finding,) = _fit_then([5.0] * 12, [100.0] * 12)
    assert finding.rule == "exploding" and finding.step == 20 + Thresholds().recent_steps
    # back up, but below the untrained level: the model still holds most of what it learned
    assert _fit_then([0.3] * 30, [100.0] * 30) == []


# -- sched17: a staircase whose cuts stopped early, against one that keeps cutting ------------
def test_a_staircase_that_stopped_cutting_early_is_found_where_one_still_cutting_is_not():
    # MultiStepLR([15, 30]) meant per epoch, stepped per batch: the lr passed after the
    # scheduler's step is 1e-2 of the peak from step 30 and never changes again; unchanged for
    # 0.65 x the 29 steps before, it is found at step 48 (was 53: 0.8 x 29 steps at 1e-2)
    (finding,) = _schedule([0.1 * 0.1 ** ((s >= 15) + (s >= 30)) for s in range(1, 100)])
    assert (finding.rule, finding.layer, finding.step) == ("stalled", None, 48)
    assert "not changed since step 30" in finding.message
    # a staircase stepped as meant cuts again one period later: its twin with 5-batch epochs
    # (StepLR(3 epochs) over 10 epochs) cuts at 15, 30 and 45 and is not found over its 50
    # steps; nor the same with 10-batch epochs over 100 (its 1e-2 level lasts 30 steps after 59)
    assert _schedule([0.1 * 0.1 ** (s // 15) for s in range(1, 51)]) == []
    assert _schedule([0.1 * 0.1 ** (s // 30) for s in range(1, 101)]) == []
    # the level is the rate's value: a per-batch decay below 1e-2 changes at every step and is
    # left to the shares (a cosine's tail), and a rate that rose above 1e-2 starts anew
    assert _schedule([0.1 * 0.1 ** ((s >= 15) + (s >= 30)) if s < 40 else 0.1
                      for s in range(1, 100)]) == []


def test_a_loss_falling_below_zero_without_bound_is_no_progress():
    # nll_loss of raw scores: its loss falls with the weights' growth (-5e14 to -1.6e28 in the
    # step its weights grew 3e4x); a fall to a tenth below zero of the loss before is no floor
    (finding,) = _doubled(Rules(), -5.0, -60.0)
    assert finding.rule == "exploding" and "no minimum" in finding.message
    assert "log_softmax" in finding.message
    assert _doubled(Rules(), -5.0, -9.0) == []  # a loss that may go below zero, falling: progress
    assert _doubled(Rules(), 4.0, -0.5) == []


def test_a_gradient_jump_while_the_loss_falls_without_bound_is_an_explosion():
    steady = [1.0, 1.2, 0.9, 1.1, 1.0]
    losses = [0.1, 0.05, -0.1, -0.2, -0.3, -5.0, -60.0, -900.0]
    (finding,) = _feed(steady + [30.0, 40.0, 60.0], losses)
    assert (finding.rule, finding.step) == ("exploding", 8)
    assert "fell below zero, to -900" in finding.message and "no minimum" in finding.message
    # the same jump while the loss falls a little, as a loss bounded below by 0 does: the
    # batches' noise, not an explosion
    assert _feed(steady + [30.0, 40.0, 60.0], [1.0] * 5 + [0.9, 0.8, 0.7]) == []


def _gates_sample(step, shut, opened):
    sample = _layer_sample(step, {"rnn": (0.1, 0.05, 1e-3), "head": (0.1, 0.05, 1e-3)})
    sample["activations"] = {"rnn": {"kind": "gates", "saturated": 0.3, "inputs": 32,
                                     "after": "rnn", "memory_shut": shut,
                                     "memory_open": opened}}
    return sample


def test_a_memory_gate_held_shut_is_vanishing_through_time_and_one_spread_wide_is_not():
    # shut (a forget bias of -5): none open; spread wide (weights too large): as many open
    for shut, opened, expected in ((0.95, 0.0, [("vanishing", "rnn", 4)]), (0.53, 0.47, []),
                                   (0.45, 0.0, [])):
        rules = Rules()
        found = [f for step in (1, 2, 4) for f in rules.on_sample(_gates_sample(step, shut,
                                                                                opened))]
        assert [(f.rule, f.layer, f.step) for f in found] == expected
        assert all("through time" in f.message and "forget" in f.message for f in found)


def test_a_model_no_gradient_ever_reached_is_cut_from_its_loss():
    # every layer without a gradient since the start while the loop passes a loss: the whole
    # model is cut (its output detached); without a loss, nothing says it was meant to train
    def cut(step):
        stats = {n: {"grad_norm": None, "rho": None, "update_ratio": None, "weight_before": 1.0,
                     "weight_matrices": 1.0, "ever_grad": False} for n in ("0", "2")}
        return {"step": step, "order": ["0", "2"], "layers": stats, "activations": {},
                "natural": {"0": 1.0, "2": 1.0}}
    rules = Rules()
    found = []
    for step in (1, 2, 4):
        rules.on_step(step, 0.7, 0.0, {})
        found += rules.on_sample(cut(step))
    assert [(f.rule, f.layer, f.step) for f in found] == [("stalled", "0", 4)]
    assert "no layer of the model" in found[0].message and ".detach()" in found[0].message
    quiet = Rules()
    assert [f for step in (1, 2, 4) for f in quiet.on_sample(cut(step))] == []


def _floorless(losses, sizes):
    """Samples at steps 1, 2, 4, ... with ``losses`` and the layer's weights at ``sizes`` times
    their natural size (before and after alike)."""
    rules = Rules()
    found = []
    for i, (loss, size) in enumerate(zip(losses, sizes)):
        step = 2 ** i
        found += rules.on_step(step, loss, 1.0, {"fc": 1.0})
        sample = _layer_sample(step, {"fc": (1.0, 0.1, 1e-3)})
        sample["layers"]["fc"].update(weight_before=size, weight_matrices=size)
        found += rules.on_sample(sample)
    return found


def test_a_loss_falling_without_a_floor_while_the_weights_grow_is_an_explosion():
    # a WGAN critic without a penalty: -0.08, then hundreds and thousands below zero, its
    # weights growing steadily (no single update doubles them)
    losses = [-0.08, -5.0, -20.0, -140.0, -700.0, -1700.0]
    found = _floorless(losses, [1.0, 1.2, 1.6, 2.5, 4.0, 6.0])
    # (the untrained loss is the median of the first three, -5: ten times it from step 8, the
    # weights twice their first size from step 8 too; three samples: 8, 16, 32)
    assert [(f.rule, f.layer, f.step) for f in found] == [("exploding", "fc", 32)]
    assert "no minimum" in found[0].message and "gradient penalty" in found[0].message
    # a healthy WGAN-GP's loss falls below zero too, twentyfold, with weights that stay put
    assert _floorless([-0.1, -0.3, -0.8, -1.4, -2.0, -2.2], [1.0] * 6) == []
    # and a loss bounded below by 0 never qualifies, however the weights grow
    assert _floorless([5.0, 3.0, 2.0, 1.0, 0.5, 0.2], [1.0, 1.5, 2.5, 4.0, 6.0, 9.0]) == []
    # nor a density's likelihood drifting down a noisy plateau below zero with a grown head
    # (an MDN near -2 from 0.15): three lower losses in a row, but not twice as far below zero
    plateau = [0.3, 0.15, 0.1, -1.42, -1.6, -1.8, -2.0]
    assert _floorless(plateau, [1.0, 1.5, 2.0, 2.5, 2.6, 2.6, 2.6]) == []


def test_a_nan_from_outside_the_model_confirms_no_jump():
    # a student's gradient rose tenfold when its teacher's softmax turned one-hot; the
    # teacher's overflow the step after is data, not the student's explosion
    from chainrule.diagnostics.nonfinite import Origin

    rules = Rules()
    for step, norm in enumerate([1.0, 1.1, 0.9, 50.0], 1):
        rules.on_step(step, norm, norm, {"fc": norm})
    found = rules.on_nonfinite(5, Origin("data", "forward", "nan"), "nan entered the loss")
    assert [f.rule for f in found] == ["nonfinite"]


def test_straightness_is_the_r_squared_of_a_line_through_depth():
    assert _straightness([-4.0, -3.0, -2.0, -1.0]) == pytest.approx(1.0)  # a steady rise
    assert _straightness([1.0, 1.0, 1.0]) == 0.0  # no trend
    # 0, 1, 0, 1: the line 0.2 x + 0.2 leaves 0.8 of the 1.0 around the mean: R^2 0.2
    assert _straightness([0.0, 1.0, 0.0, 1.0]) == pytest.approx(0.2)


def test_steadiness_takes_a_curved_but_steady_rise_and_not_one_layers_gap():
    # a rise that steepens through depth, 0.05 then 0.5 decades a layer: a curve (R^2 0.85),
    # yet it rises at every layer, as its ranks say
    curved = [-5.0, -4.95, -4.9, -4.85, -4.8, -4.3, -3.8, -3.3, -2.8]
    assert _straightness(curved) < 0.9
    assert _steadiness(curved) == pytest.approx(1.0)
    # one layer far below a flat chain (a sparse embedding's): neither line nor ranks
    gap = [-6.0, -1.0, -1.1, -0.9, -1.05, -0.95, -1.02]
    assert _steadiness(gap) < 0.5


def test_after_a_rebase_the_norms_of_more_parameters_are_no_jump():
    # layers made trainable at step 6: the total norm is of more parameters from there on,
    # 30x the head's alone, and steady; measured against the head's history it was a jump
    steady, joined = [1.0, 1.2, 0.9, 1.1, 1.0], [30.0, 31.0, 29.0, 30.0, 30.5]
    losses = [1.0, 1.1, 0.9, 1.0, 1.0, 1.2, 1.3, 1.4, 1.5, 1.6]  # (rising: no data shift)
    assert _feed(steady + joined, losses)  # without a rebase
    rules = Rules(weight_growth_now=lambda: (0.0, "fc"))
    found = []
    for step, (norm, loss) in enumerate(zip(steady + joined, losses), 1):
        if step == 6:
            rules.explosions.rebase()
        found += rules.on_step(step, loss, norm, {"fc": norm})
    assert found == []


def _ascent(step, loss):
    """The gradient norm of an ascent: the square root of the loss times the weights' size
    (``1 + step / 50``), as a squared error's |g|^2 = 2 L |J|^2 with the Jacobian growing
    with the weights (a CNN whose backward took the negated loss: 0.43 to 13.5 while its loss
    rose 6.5x)."""
    return (1 + step / 50) * (loss / 0.69) ** 0.5


def _climb(losses, samples=(1, 2, 4, 8, 16, 32, 50), size=lambda step: 1.0,
           lr=lambda step: None, thresholds=None, norm=lambda step, loss: 1.0):
    """Every step's loss at learning rate ``lr(step)``, its gradient norm ``norm(step,
    loss)``, and a sample of one layer moving 1e-3 of its size at the sampled steps, its
    weights ``size(step)`` times their natural size: the findings."""
    rules, found = Rules(thresholds), []
    for step, loss in enumerate(losses, 1):
        g = norm(step, loss)
        found += rules.on_step(step, loss, g, {"fc": g}, lr(step))
        if step in samples:
            sample = _sample(step, {"fc": 1e-3})
            sample["layers"]["fc"].update(weight_before=size(step), weight_matrices=size(step))
            found += rules.on_sample(sample, lr(step))
    return found


def test_a_loss_that_climbs_from_the_start_is_the_updates_ascending_it():
    # (-loss).backward(): 8% up a step; the gradient's norm steady, the weights growing with
    # the outputs the ascent pushes away (1.6x by step 32, Adam's lr-sized steps)
    losses = [0.69 * 1.08 ** step for step in range(50)]
    (finding,) = _climb(losses, size=lambda step: 1 + step / 50, norm=_ascent)
    assert (finding.rule, finding.layer, finding.step) == ("exploding", "fc", 32)
    assert "the loss climbs" in finding.message and "not its negative" in finding.message
    # the same climb while the weights stay as they were: the targets moved, not the model
    # (a student chasing a teacher trained alongside; weights 1.1x at step 32)
    assert _climb(losses, size=lambda step: 1 + step / 320, norm=_ascent) == []
    # nor where they grew as much but the gradient kept to the loss's square root: the loss's
    # slope per unit of loss where it was (a student whose head grew 1.3x as it learned)
    steady = lambda step, loss: (loss / 0.69) ** 0.5  # noqa: E731
    assert _climb(losses, size=lambda step: 1 + step / 50, norm=steady) == []


def test_a_climb_under_a_rate_that_swung_up_and_back_is_the_schedules():
    # warm restarts whose eta_min is 10x the base: each cycle of 10 steps climbs from 0.3 to 3
    # and restarts low; the loss climbs with it. (The diverging rule kept out, as a noisy
    # loss kept it out in a GRU: its loss must stand above all of its latest ones)
    losses = [0.69 * 1.08 ** step for step in range(50)]
    restarts = lambda step: 0.3 + 2.7 * ((step - 1) % 10) / 9  # noqa: E731
    unconfirmed = Thresholds(loss_quantile=1.0)
    (finding,) = _climb(losses, size=lambda step: 1 + step / 50, lr=restarts,
                        thresholds=unconfirmed, norm=_ascent)
    assert finding.rule == "exploding" and finding.step == 32
    assert "training is diverging" in finding.message and "rose from 0.3" in finding.message
    assert "check the learning-rate schedule" in finding.message
    # a warm-up to a rate it keeps: the climb is still the updates' (a loss with the wrong
    # sign climbs under a warm-up too)
    warm_up = lambda step: 0.3 * min(step, 10) / 10  # noqa: E731
    (finding,) = _climb(losses, size=lambda step: 1 + step / 50, lr=warm_up,
                        thresholds=unconfirmed, norm=_ascent)
    assert "the loss climbs" in finding.message and "not its negative" in finding.message


def test_a_moving_target_a_fall_then_a_rise_and_a_noisy_plateau_are_no_climb():
    rng = np.random.default_rng(0)
    # a student distilled from a teacher that sharpens: 0.024 to 0.054, rising all along
    assert _climb(list(np.linspace(0.024, 0.054, 50) * rng.uniform(0.8, 1.2, 50))) == []
    # a loss that halved first and then rose 6x past its start (the jump rules judge a fit
    # undone; an ascent never learns), the weights grown as an ascent's
    grown = lambda step: 1 + step / 50  # noqa: E731
    assert _climb([0.69] * 3 + [0.2] * 17 + list(np.linspace(0.2, 5.0, 30)), size=grown) == []
    # halved before the window of the last 50 losses began (a DQN's TD loss, 0.11 to 0.04 by
    # step 16, then rising with its values after each sync of its target network)
    assert _climb([0.69] * 3 + [0.2] * 17 + list(np.linspace(0.69, 8.0, 50)),
                  samples=(1, 2, 4, 8, 16, 20, 32, 50, 60, 70), size=grown) == []
    # heavy-tailed batches around a level: outliers 10x, no trend
    noisy = 0.69 * rng.uniform(0.5, 1.5, 50)
    noisy[::7] *= 10
    assert _climb(list(noisy)) == []


def _through_depth(norms, loss=0.69):
    """``Rules._through_depth`` on three samples (steps 16, 32, 50) of these gradient norms,
    first layer first, the loss still at its untrained level."""
    rules = Rules()
    rules.explosions.start_loss, rules.loss = 0.69, loss
    layers = {str(i): {"grad_norm": g} for i, g in enumerate(norms)}
    return [f for step in (16, 32, 50) for f in rules._through_depth(step, layers, list(layers))]


def test_vanishing_through_depth_is_a_rise_spread_over_the_layers_while_nothing_is_learned():
    steady = [10 ** (-4 + 0.3 * i) for i in range(13)]  # 3.6 decades, 0.3 a layer
    (finding,) = _through_depth(steady)
    assert (finding.rule, finding.layer, finding.step) == ("vanishing", "0", 50)
    assert "through depth" in finding.message
    assert _through_depth(steady, loss=0.3) == []  # a model that learns is not stopped by it
    # one layer's gap (a sparse embedding's 1e-3.5) under layers that creep up: steady by
    # its ranks, but the rise is that one layer's
    assert _through_depth([10 ** -4] + [10 ** (-0.5 + 0.01 * i) for i in range(1, 9)]) == []


def _starved_run(losses):
    """Every layer's gradient falls from 0.5 to 1e-7 after step 20, under ``losses(step)``."""
    rules = Rules()
    found = []
    for step in range(1, 101):
        g = 0.5 if step <= 20 else 1e-7
        found += rules.on_step(step, losses(step), g, {"0": g, "2": g}, lr=1e-2)
        if step % 10 == 0 or step == 1:
            found += rules.on_sample(_layer_sample(step, {"0": (g, g / 5, g / 50),
                                                          "2": (g, g / 5, g / 50)}), lr=1e-2)
    return found


def test_gradients_that_fall_everywhere_while_the_loss_stays_at_its_start_vanish_in_the_loss():
    # a GAN generator's log(1 - D(G(z))) against a discriminator that wins: the loss sits at
    # its worst (about 0) while every layer's gradient falls a millionfold
    found = _starved_run(lambda step: -0.002 if step <= 20 else -1e-6)
    assert [(f.rule, f.layer) for f in found] == [("vanishing", "2")], [str(f) for f in found]
    assert "from the loss" in found[0].message and "log(1 - D(G(z)))" in found[0].message


def test_gradients_that_fall_everywhere_as_the_loss_falls_are_a_model_that_learned():
    found = _starved_run(lambda step: 1.0 if step <= 3 else 0.5 / step)
    assert found == [], [str(f) for f in found]


def test_gradients_falling_back_from_a_spike_after_a_fit_are_not_starved_by_the_loss():
    # a batch memorised to a loss of 0 by step 10, then thrown to 4 at step 31 (Adam's steps
    # on gradients near 0), its gradient 300 there and 1 after: 1/300 of the spike's while the
    # recent losses hold the spike; it had learned, it is no loss that stopped its signal
    def run(fit_to):
        rules, found = Rules(), []
        for step in range(1, 41):
            loss = 1.0 if step <= 3 else fit_to if step <= 30 else 4.0
            g = 300.0 if step == 31 else 0.5 if step <= 10 else 1.0 if step > 31 else 1e-3
            found += rules.on_step(step, loss, g, {"0": g, "2": g}, lr=1e-2)
            if step % 10 == 0 or step == 1 or step > 30:
                found += rules.on_sample(_layer_sample(step, {"0": (g, g / 5, g / 50),
                                                              "2": (g, g / 5, g / 50)}), lr=1e-2)
        return [f for f in found if "from the loss" in f.message]

    assert run(fit_to=0.0) == []
    # (the same falls after a run that never fit: the loss's own signal gone, found)
    assert [f.rule for f in run(fit_to=1.0)] == ["vanishing"]


def test_a_layer_an_activation_follows_on_eight_calls_runs_in_a_loop():
    # a neural ODE's vector field over its Euler steps: its tanh after 'field.0' at every call
    loop = {f"field.1[{i}]": {"kind": "tanh", "after": "field.0"} for i in range(LOOP_CALLS)}
    assert _looped(loop) == {"field.0"}
    # one ReLU shared by many layers follows a different one each time; a block called twice
    # (a Siamese encoder) is no loop
    shared = {f"act[{i}]": {"kind": "relu", "after": str(2 * i)} for i in range(12)}
    twice = {f"enc.1[{i}]": {"kind": "relu", "after": "enc.0"} for i in range(2)}
    assert _looped({**shared, **twice}) == set()
    assert _looped(dict(list(loop.items())[:LOOP_CALLS - 1])) == set()


def _output_run(shares, losses, norms=None):
    """Steps 1..n with ``losses`` (and gradient ``norms``, 1 unless given) and a sample at
    steps 1, 2, 4, 8, 16 measuring the model's output sigmoid 'out' saturated on the share
    ``shares[i]`` of its outputs; the findings."""
    rules = Rules()
    found, shares = [], iter(shares)
    for step, loss in enumerate(losses, 1):
        norm = 1.0 if norms is None else norms[step - 1]
        found += rules.on_step(step, loss, norm, {"fc": norm})
        if step in (1, 2, 4, 8, 16):
            sample = _sample(step, {"fc": 0.01})
            sample["activations"] = {"output:out": {
                "kind": "saturated_output", "layer": "out", "saturated": next(shares),
                "after": "fc", "started": step}}
            found += rules.on_sample(sample)
    return found


def test_an_output_sigmoid_saturated_from_the_start_while_the_loss_stays_is_saturation():
    # (steps 4, 8 and 16: at 1 and 2 fewer than three losses tell its level)
    (finding,) = _output_run([0.97, 0.99, 0.98, 0.99, 0.98], [40.0, 45.0, 38.0] * 6)
    assert (finding.rule, finding.layer, finding.step) == ("saturation", "out", 16)
    assert "from step 1 (the untrained model's)" in finding.message


def test_an_output_sigmoid_that_grew_confident_or_learned_is_not_saturation():
    # confident only once trained (a classifier fitting its data), or from the start with the
    # loss fallen to a tenth (a fine-tuned model that was right from the start)
    assert _output_run([0.1, 0.3, 0.9, 0.99, 0.99], [0.7, 0.6, 0.65] * 6) == []
    assert _output_run([0.97, 0.99, 0.98, 0.99, 0.98], [40.0, 45.0] + [4.0] * 16) == []


def test_a_gradient_jump_from_a_start_starved_by_a_saturated_output_is_not_an_explosion():
    # the gradient of an output saturated from step 1 is tiny; a few outputs leaving the flat
    # tail raise it 1000x, the loss up a little: the saturation is the finding
    norms, losses = [1e-4, 1e-4] + [0.2] * 16, [40.0, 41.0] + [45.0, 52.0] * 8
    found = _output_run([0.99] * 5, losses, norms)
    assert [f.rule for f in found] == ["saturation"]
    assert [f.rule for f in _feed(norms, losses)] == ["exploding"]  # (without the evidence)


def _tanh_run(losses, shares):
    """Steps 1..n with ``losses``, samples at 1, 2, 4, 8, 16 and every 10th step measuring a
    tanh after 'rnn' saturated on ``shares[i]`` of its outputs; the findings."""
    rules = Rules()
    found, shares = [], iter(shares)
    for step, loss in enumerate(losses, 1):
        found += rules.on_step(step, loss, 1.0, {"rnn": 1.0})
        if step in (1, 2, 4, 8, 16) or step % 10 == 0:
            sample = _sample(step, {"rnn": 0.01})
            sample["activations"] = {"act": {"kind": "tanh", "saturated": next(shares),
                                             "inputs": 64, "after": "rnn"}}
            found += rules.on_sample(sample)
    return found


def test_units_saturated_as_the_loss_leaves_the_spread_it_started_in_are_learned():
    # a memory of +-1 learned while the loss falls from 0.62-0.75 to 0.45-0.5 (not yet half):
    # every loss of the last steps below every one of the first; the same saturation with
    # the loss still among its first values is reported
    rng = np.random.default_rng(0)
    start = list(rng.uniform(0.62, 0.75, 60))
    shares = [0.0] * 11 + [0.52] * 4  # (samples 1, 2, 4, 8, 10, 16, 20, ..., 60; 70 to 100)
    learning = start + list(rng.uniform(0.45, 0.5, 40))
    assert _tanh_run(learning, shares) == []
    (finding,) = _tanh_run(start + list(rng.uniform(0.62, 0.75, 40)), shares)
    assert (finding.rule, finding.step) == ("saturation", 90)
