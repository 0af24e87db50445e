"""Learning-rate schedulers against hand-computed sequences (closed forms written out here)."""

import math
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.optim import lr_scheduler as sched


def make_optimizer(lrs=(1.0,), kind="sgd"):
    groups = [{"params": [cr.tensor([1.0], requires_grad=True)], "lr": lr} for lr in lrs]
    if kind == "adam":
        return optim.Adam(groups)
    return optim.SGD(groups, momentum=0.9)


def lr_sequence(scheduler, epochs):
    """The rates of group 0 at epochs 0 .. epochs-1, stepping in the documented order."""
    rates = [scheduler.get_last_lr()[0]]
    for _ in range(epochs - 1):
        scheduler.optimizer.step()
        scheduler.step()
        rates.append(scheduler.get_last_lr()[0])
    return rates


def close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-15)


def test_step_lr():
    opt = make_optimizer()
    close(lr_sequence(sched.StepLR(opt, step_size=3, gamma=0.1), 8),
          [1, 1, 1, 0.1, 0.1, 0.1, 0.01, 0.01])
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01)
    assert opt.param_groups[0]["initial_lr"] == 1.0


def test_multistep_lr_counts_repeated_milestones():
    opt = make_optimizer()
    close(lr_sequence(sched.MultiStepLR(opt, milestones=[2, 5, 5], gamma=0.1), 7),
          [1, 1, 0.1, 0.1, 0.1, 1e-3, 1e-3])


def test_exponential_lr():
    close(lr_sequence(sched.ExponentialLR(make_optimizer([0.8]), gamma=0.5), 5),
          [0.8 * 0.5**e for e in range(5)])


def test_lambda_lr_per_group():
    class Halve:
        def __init__(self):
            self.factor = 0.5

        def __call__(self, epoch):
            return self.factor**epoch

    opt = make_optimizer([1.0, 2.0])
    scheduler = sched.LambdaLR(opt, [lambda e: 1 / (e + 1), Halve()])
    rates = [scheduler.get_last_lr()]
    for _ in range(3):
        opt.step()
        scheduler.step()
        rates.append(scheduler.get_last_lr())
    close(rates, [[1 / (e + 1), 2.0 * 0.5**e] for e in range(4)])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [None, {"factor": 0.5}]  # functions are not saved
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas"):
        sched.LambdaLR(opt, [lambda e: 1.0])


def test_cosine_annealing_matches_the_closed_form_past_t_max():
    t_max, eta_min = 4, 0.1
    expected = [eta_min + (1.0 - eta_min) * (1 + math.cos(math.pi * e / t_max)) / 2
                for e in range(11)]
    actual = lr_sequence(sched.CosineAnnealingLR(make_optimizer(), T_max=t_max,
                                                 eta_min=eta_min), 11)
    np.testing.assert_allclose(actual, expected, rtol=1e-9)
    assert actual[4] == pytest.approx(eta_min) and actual[8] == pytest.approx(1.0)


def test_linear_lr_defaults():
    actual = lr_sequence(sched.LinearLR(make_optimizer([0.3])), 8)
    expected = [0.3 * (1 / 3 + (2 / 3) * min(e, 5) / 5) for e in range(8)]
    np.testing.assert_allclose(actual, expected, rtol=1e-12)


def test_linear_lr_bad_factors():
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        sched.LinearLR(make_optimizer(), start_factor=0)
    with pytest.raises(ValueError, match="Ending multiplicative factor"):
        sched.LinearLR(make_optimizer(), end_factor=1.5)


def test_sequential_lr_warmup_then_decay():
    opt = make_optimizer()
    warmup = sched.LinearLR(opt, start_factor=0.1, total_iters=2)
    decay = sched.ExponentialLR(opt, gamma=0.5)
    scheduler = sched.SequentialLR(opt, [warmup, decay], milestones=[3])
    close(lr_sequence(scheduler, 7), [0.1, 0.55, 1.0, 1.0, 0.5, 0.25, 0.125])


def test_sequential_lr_errors():
    opt = make_optimizer()
    first, second = sched.StepLR(opt, 2), sched.ExponentialLR(opt, 0.5)
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        sched.SequentialLR(opt, [first, second], milestones=[1, 2])
    with pytest.raises(ValueError, match="same optimizer"):
        sched.SequentialLR(opt, [first, sched.StepLR(make_optimizer(), 2)], milestones=[1])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        sched.SequentialLR(opt, [first, sched.ReduceLROnPlateau(opt)], milestones=[1])


def test_one_cycle_lr_and_momentum():
    opt = make_optimizer()
    scheduler = sched.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    rates, momenta = [scheduler.get_last_lr()[0]], [opt.param_groups[0]["momentum"]]
    for _ in range(9):
        opt.step()
        scheduler.step()
        rates.append(scheduler.get_last_lr()[0])
        momenta.append(opt.param_groups[0]["momentum"])
    initial, peak_step = 1.0 / 25, 0.3 * 10 - 1
    final = initial / 1e4

    def cos_anneal(start, end, pct):
        return end + (start - end) / 2 * (1 + math.cos(math.pi * pct))

    close(rates[0], initial)
    close(rates[1], cos_anneal(initial, 1.0, 1 / peak_step))
    close(rates[2], 1.0)
    close(rates[5], cos_anneal(1.0, final, (5 - peak_step) / (9 - peak_step)))
    close(rates[9], final)
    close([momenta[0], momenta[2], momenta[9]], [0.95, 0.85, 0.95])
    opt.step()
    scheduler.step()  # PyTorch tolerates step total_steps itself, one past the last rate
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        scheduler.step()


def test_one_cycle_three_phase_linear_with_adam_betas():
    opt = make_optimizer(kind="adam")
    scheduler = sched.OneCycleLR(opt, max_lr=2.0, epochs=2, steps_per_epoch=5,
                                 anneal_strategy="linear", three_phase=True, pct_start=0.4)
    rates, betas = [scheduler.get_last_lr()[0]], [opt.param_groups[0]["betas"]]
    for _ in range(9):
        opt.step()
        scheduler.step()
        rates.append(scheduler.get_last_lr()[0])
        betas.append(opt.param_groups[0]["betas"])
    # phases end at steps 3 (peak), 6 (back to initial) and 9 (final).
    initial = 2.0 / 25
    expected = [initial + (2.0 - initial) * s / 3 for s in range(4)]
    expected += [2.0 + (initial - 2.0) * s / 3 for s in range(1, 4)]
    expected += [initial + (initial / 1e4 - initial) * s / 3 for s in range(1, 4)]
    close(rates, expected)
    assert [b[1] for b in betas] == [0.999] * 10
    close([betas[0][0], betas[3][0], betas[6][0]], [0.95, 0.85, 0.95])


def test_one_cycle_errors():
    with pytest.raises(ValueError, match="total_steps OR"):
        sched.OneCycleLR(make_optimizer(), max_lr=1.0)
    with pytest.raises(ValueError, match="anneal_strategy"):
        sched.OneCycleLR(make_optimizer(), max_lr=1.0, total_steps=5, anneal_strategy="exp")
    with pytest.raises(ValueError, match="max_lr must have the same length"):
        sched.OneCycleLR(make_optimizer(), max_lr=[1.0, 2.0], total_steps=5)
    no_momentum = optim.Adagrad([cr.tensor([1.0], requires_grad=True)])
    with pytest.raises(ValueError, match="momentum or beta1"):
        sched.OneCycleLR(no_momentum, max_lr=1.0, total_steps=5)


# -- ReduceLROnPlateau --------------------------------------------------------------------------
def plateau_rates(metrics, **options):
    opt = make_optimizer()
    scheduler = sched.ReduceLROnPlateau(opt, factor=0.5, patience=2, **options)
    rates = []
    for metric in metrics:
        scheduler.step(metric)
        rates.append(scheduler.get_last_lr()[0])
    return rates


def test_plateau_waits_for_patience_then_reduces():
    # epoch 1 sets the best; epochs 2-3 are within patience; epoch 4 is the third bad one.
    assert plateau_rates([1.0] * 7) == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]


def test_plateau_improvement_resets_the_count():
    assert plateau_rates([1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5]) == [1, 1, 1, 1, 1, 1, 0.5]


def test_plateau_cooldown_ignores_bad_epochs():
    assert plateau_rates([1.0] * 8, cooldown=1) == [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25]


def test_plateau_threshold_modes():
    # 0.95 is below 1.0 but not by 10 % (rel), so it counts as no improvement.
    assert plateau_rates([1.0, 0.95, 0.95, 0.95], threshold=0.1) == [1, 1, 1, 0.5]
    assert plateau_rates([1.0, 0.95, 0.9, 0.85], threshold=0.01, threshold_mode="abs") == [1] * 4
    assert plateau_rates([1.0, 1.05, 1.1, 1.2], mode="max") == [1] * 4
    assert plateau_rates([1.0, 0.9, 0.8, 0.7], mode="max") == [1, 1, 1, 0.5]


def test_plateau_min_lr_and_eps():
    assert plateau_rates([1.0] * 10, min_lr=0.3) == [1, 1, 1, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3, 0.3]
    # A reduction smaller than eps is skipped.
    assert plateau_rates([1.0] * 4, eps=0.6) == [1, 1, 1, 1]


def test_plateau_errors():
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        sched.ReduceLROnPlateau(make_optimizer(), factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        sched.ReduceLROnPlateau(make_optimizer(), mode="best")
    with pytest.raises(ValueError, match="expected 1 min_lrs"):
        sched.ReduceLROnPlateau(make_optimizer(), min_lr=[0.1, 0.2])


def test_plateau_accepts_a_tensor_metric_and_round_trips():
    opt = make_optimizer()
    scheduler = sched.ReduceLROnPlateau(opt, patience=0)
    scheduler.step(cr.tensor(2.0))
    state = scheduler.state_dict()
    assert "optimizer" not in state and state["best"] == 2.0
    other = sched.ReduceLROnPlateau(make_optimizer())
    other.load_state_dict(state)
    assert other.best == 2.0 and other.patience == 0


# -- the base class -----------------------------------------------------------------------------
def test_chained_schedulers_multiply():
    opt = make_optimizer()
    exponential = sched.ExponentialLR(opt, gamma=0.5)
    step = sched.StepLR(opt, step_size=2, gamma=0.1)
    rates = [opt.param_groups[0]["lr"]]
    for _ in range(5):
        opt.step()
        exponential.step()
        step.step()
        rates.append(opt.param_groups[0]["lr"])
    close(rates, [0.5**e * 0.1 ** (e // 2) for e in range(6)])


def test_state_dict_resumes_the_schedule():
    opt = make_optimizer()
    scheduler = sched.CosineAnnealingLR(opt, T_max=6)
    for _ in range(3):
        opt.step()
        scheduler.step()
    opt_state, sched_state = opt.state_dict(), scheduler.state_dict()
    assert "optimizer" not in sched_state and sched_state["last_epoch"] == 3
    expected = lr_sequence(scheduler, 4)

    resumed_opt = make_optimizer()
    resumed = sched.CosineAnnealingLR(resumed_opt, T_max=6)
    resumed_opt.load_state_dict(opt_state)
    resumed.load_state_dict(sched_state)
    assert lr_sequence(resumed, 4) == expected


def test_resuming_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        sched.StepLR(make_optimizer(), step_size=2, last_epoch=3)


def test_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        sched.StepLR(object(), step_size=2)


def test_warns_when_stepped_before_the_optimizer():
    opt = make_optimizer()
    scheduler = sched.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        scheduler.step()

    opt = make_optimizer()
    scheduler = sched.StepLR(opt, step_size=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        scheduler.step()


def test_step_with_epoch_is_deprecated_and_uses_the_closed_form():
    scheduler = sched.StepLR(make_optimizer(), step_size=3, gamma=0.1)
    scheduler.optimizer.step()
    with pytest.warns(UserWarning, match="deprecated"):
        scheduler.step(7)
    close(scheduler.get_last_lr(), [0.01])


def test_get_lr_outside_step_warns():
    scheduler = sched.StepLR(make_optimizer(), step_size=3)
    with pytest.warns(UserWarning, match="get_last_lr"):
        scheduler.get_lr()


def test_multistep_state_dict_with_plain_dict_milestones():
    opt = make_optimizer()
    scheduler = sched.MultiStepLR(opt, milestones=[2, 4], gamma=0.5)
    state = scheduler.state_dict()
    state["milestones"] = dict(state["milestones"])  # as a JSON round trip returns it
    other = sched.MultiStepLR(make_optimizer(), milestones=[9])
    other.load_state_dict(state)
    other.optimizer.step()
    with pytest.warns(UserWarning, match="deprecated"):
        other.step(5)
    close(other.get_last_lr(), [0.25])
