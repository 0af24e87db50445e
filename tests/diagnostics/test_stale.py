"""The stale-gradient check (diagnostics/stale.py) on each way a loop may clear, or not clear,
its gradients and move its weights between a sample and the step after it."""

import pytest

import chainrule as torch
from chainrule import nn
from chainrule.diagnostics.stale import StaleGradientCheck


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


@pytest.mark.parametrize("update", [sgd_through_data, sgd_in_place])
@pytest.mark.parametrize("clear, stale", [(None, True), ("zeros", False), ("in place", False),
                                          ("none", False)])
def test_the_verdict_follows_what_the_gradient_holds(update, clear, stale):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 128), nn.ReLU(), nn.Linear(128, 2))
    check = StaleGradientCheck()
    backward(model)
    check.arm(model.parameters())
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
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 128), nn.ReLU(), nn.Linear(128, 2))
    check = StaleGradientCheck()
    backward(model)
    check.arm(model.parameters())
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
