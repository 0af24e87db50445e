"""The stale-gradient check (diagnostics/stale.py) on each way a loop may clear, or not clear,
its gradients and move its weights between a sample and the step after it."""

import pytest

import chainrule as torch
from chainrule import nn
from chainrule.diagnostics.stale import WITHIN_STEP, StaleGradientCheck


def backward(model):
    torch.manual_seed(len(model._modules))
    (model(torch.randn(8, 16)) ** 2).sum().backward()


def sgd_through_data(model):
    """A hand-written update through ``.data``: the parameters' version counters stay."""
    for p in model.parameters():
        p.data.sub_(0.01 * p.grad)


def sgd_in_place(model):
    with torch.no_grad():
        for p in model.parameters():
            p -= 0.01 * p.grad


def armed_after_a_sample():
    """A small model whose first backward made gradients, and the check armed on it, as at a
    sample."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 128), nn.ReLU(), nn.Linear(128, 2))
    check = StaleGradientCheck()
    backward(model)
    check.arm(model.parameters())
    return model, check


@pytest.mark.parametrize("update", [sgd_through_data, sgd_in_place])
@pytest.mark.parametrize("clear, stale", [(None, True), ("zeros", False), ("in place", False),
                                          ("none", False)])
def test_the_verdict_follows_what_the_gradient_holds(update, clear, stale):
    model, check = armed_after_a_sample()
    version = check._param._version
    update(model)
    assert (check._param._version == version) == (update is sgd_through_data)
    for p in model.parameters():
        if clear == "in place":  # zero_grad(set_to_none=False)
            p.grad.zero_()
        elif clear is not None:
            p.grad = None if clear == "none" else torch.zeros_like(p)
    backward(model)
    assert check.verdict() is stale


def test_no_verdict_where_the_weights_did_not_move():
    model, check = armed_after_a_sample()
    for p in model.parameters():
        p.grad = None
    backward(model)
    assert check.verdict() is None


def test_the_parameter_checked_is_chosen_again_when_it_no_longer_fits():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 128), nn.ReLU(), nn.Linear(128, 64))
    check = StaleGradientCheck()
    backward(model)
    check.arm(model.parameters())
    assert check._param is model[2].bias  # the smallest of at least 64 entries
    check.disarm()
    model[2].bias.grad = torch.zeros(64)  # all zero now: it says nothing
    check.arm(model.parameters())
    assert check._param is model[0].bias
    check.disarm()
    model[2].bias.grad = torch.ones(64)
    check.arm(model.parameters())  # the last one still fits: kept
    assert check._param is model[0].bias


@pytest.mark.parametrize("cleared", ["body", "head", "both"])
def test_a_part_left_uncleared_is_seen_whichever_part_the_first_choice_is_in(cleared):
    # a body and a head under two optimizers, one of them never cleared: the check follows a
    # second parameter at the other end of the model from its first choice
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 128), nn.ReLU(), nn.Linear(128, 32), nn.ReLU(),
                          nn.Linear(32, 1))
    params = list(model.parameters())
    check = StaleGradientCheck()
    backward(model)
    check.arm(params)
    sgd_in_place(model)
    for p in (params[:-2] if cleared == "body" else params[-2:] if cleared == "head"
              else params):
        p.grad = None
    backward(model)
    assert check.verdict() is (cleared != "both")
    if cleared != "both":  # named where it was not cleared
        held = {"body": "4.weight", "head": "0.bias"}[cleared]
        assert check.name(model) == held


@pytest.mark.parametrize("passes, clear, expected", [
    (4, None, "within"),  # a closure that never clears, called four times a step (L-BFGS)
    (3, None, "within"),  # three passes, two updates between them: the fewest that decide
    (2, None, True),  # a GAN's critic, reached again after its step: only the usual reading
    (4, "none", False),  # the closure clears (zero_grad(), to None)
    # the closure clears with zeros (zero_grad(set_to_none=False)): never "within"; the
    # step-to-step reading sees the last pass's gradient against the sum of four, no verdict
    (4, "zeros", None),
])
def test_passes_within_one_step_that_add_up_across_updates(passes, clear, expected):
    model, check = armed_after_a_sample()
    for i in range(passes):
        if clear is not None:
            for p in model.parameters():
                p.grad = None if clear == "none" else torch.zeros_like(p)
        backward(model)
        if i < passes - 1:
            sgd_in_place(model)  # the optimizer moves the weights between evaluations
    verdict = check.verdict()
    assert (verdict == WITHIN_STEP) if expected == "within" else verdict is expected


def test_micro_batches_between_two_updates_are_not_passes_of_a_closure():
    # gradient accumulation on purpose: four backward passes, no update between them
    model, check = armed_after_a_sample()
    for p in model.parameters():
        p.grad = None
    for _ in range(4):
        backward(model)
    sgd_in_place(model)
    assert check.verdict() is False


# -- sched17: armed before the first step (no gradient yet), at construction ---------------------
@pytest.mark.parametrize("clear, expected", [(False, "within"), (True, False)])
def test_armed_fresh_the_first_steps_passes_are_judged(clear, expected):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 128), nn.ReLU(), nn.Linear(128, 2))
    check = StaleGradientCheck()
    check.arm(model.parameters())  # (no gradients: nothing to check without ``fresh``)
    assert not check.armed
    check.arm(model.parameters(), fresh=True)
    assert check.armed and not check.within_step()
    for i in range(3):
        if clear:
            model.zero_grad()
        backward(model)
        if i < 2:
            sgd_in_place(model)
    # decided as the third pass ran, before the step's end (a value made non-finite then)
    assert check.within_step() is (expected == "within")
    verdict = check.verdict()
    assert (verdict == WITHIN_STEP) if expected == "within" else verdict is expected


@pytest.mark.parametrize("name", ["cnn_lbfgs_lr_one_closure_without_zero_grad",
                                  "transformer_lbfgs_lr_one_closure_without_zero_grad"])
def test_an_lbfgs_closure_that_blows_up_within_step_one_is_named_first(name):
    # lr=1 without a line search, the closure never clearing: a non-finite value within step 1
    # (was the first finding, its remedy the learning rate); the closure is named first, and
    # the non-finite value of the same step points to it
    from .suite.broken import BROKEN
    torch.manual_seed(0)
    _, monitor = BROKEN[name][2]()
    summary = [str(f) for f in monitor.findings]
    first, *later = monitor.findings
    assert (first.rule, first.step) == ("exploding", 1), summary
    assert "evaluations of one step" in first.message, summary
    nonfinite = [f for f in later if f.rule == "nonfinite"]
    assert nonfinite and nonfinite[0].step == 1, summary
    assert "gradients adding up over a closure's evaluations" in nonfinite[0].message, summary


def test_squared_norms_read_this_step_decide_whether_a_gradient_is_all_zero():
    """Given the squared norms the tap read (``squares``), a zero one rules a parameter out as
    the gradient read would, and a parameter not among them (or not finite) is read."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 128), nn.ReLU(), nn.Linear(128, 64))
    check = StaleGradientCheck(partner=False)
    backward(model)
    squares = {id(p): float((p.grad ** 2).sum()) for p in model.parameters()}
    squares[id(model[2].bias)] = 0.0  # read as all zero this step
    check.arm(model.parameters(), squares=squares)
    assert check._param is model[0].bias
    check.disarm()
    check._chosen = None
    squares[id(model[2].bias)] = float("nan")  # not a reading to trust: the gradient is read
    check.arm(model.parameters(), squares=squares)
    assert check._param is model[2].bias
    check.disarm()
    check._chosen = None
    model[2].bias.grad = torch.zeros(64)
    del squares[id(model[2].bias)]  # not read this step: read now, all zero
    check.arm(model.parameters(), squares=squares)
    assert check._param is model[0].bias
