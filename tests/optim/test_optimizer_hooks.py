"""Optimizer hooks, as PyTorch's: around step (pre-hooks may change its arguments), and around
state_dict / load_state_dict (hooks may replace the dict); handles remove them."""

import copy

import pytest

import chainrule as cr
from chainrule import nn


def _stepped_model():
    model = nn.Linear(2, 1)
    model(cr.ones(1, 2)).sum().backward()
    return model


def test_step_hooks_run_around_each_step_in_order_and_can_be_removed():
    model = _stepped_model()
    optimizer = cr.optim.SGD(model.parameters(), lr=0.5)
    seen = []
    pre = optimizer.register_step_pre_hook(lambda opt, args, kwargs: seen.append(("pre", opt)))
    optimizer.register_step_post_hook(
        lambda opt, args, kwargs: seen.append(("post", float(model.bias.detach()))))
    before = float(model.bias.detach())
    optimizer.step()
    assert seen == [("pre", optimizer), ("post", before - 0.5)]  # post sees the update
    pre.remove()
    optimizer.step()
    assert [kind for kind, _ in seen] == ["pre", "post", "post"]


def test_a_step_pre_hook_may_replace_the_closure():
    model = _stepped_model()
    optimizer = cr.optim.SGD(model.parameters(), lr=0.1)
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: ((lambda: cr.tensor(7.0),), {}))
    assert optimizer.step().item() == 7.0  # step returns what the (new) closure returned
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: "not a pair")
    with pytest.raises(RuntimeError, match=r"must return None or \(args, kwargs\)"):
        optimizer.step()


def test_hooks_belong_to_one_optimizer_and_survive_a_deepcopy():
    model = _stepped_model()
    first = cr.optim.Adam(model.parameters(), lr=0.1)
    second = cr.optim.Adam(model.parameters(), lr=0.1)
    calls = []
    first.register_step_post_hook(lambda opt, args, kwargs: calls.append(opt))
    second.step()
    assert calls == [] and "step" not in second.__dict__  # no hooks, no wrapper
    duplicate = copy.deepcopy(first)
    duplicate.step()
    assert calls == [duplicate]


def test_state_dict_hooks_see_and_may_replace_the_dict():
    model = _stepped_model()
    optimizer = cr.optim.Adam(model.parameters(), lr=0.1)
    optimizer.step()
    order = []
    optimizer.register_state_dict_pre_hook(lambda opt: order.append("pre"))
    optimizer.register_state_dict_post_hook(
        lambda opt, state: {**state, "note": "mine"} if order.append("post") is None else None)
    state = optimizer.state_dict()
    assert order == ["pre", "post"] and state["note"] == "mine"
    loaded = []
    optimizer.register_load_state_dict_pre_hook(
        lambda opt, sd: {k: v for k, v in sd.items() if k != "note"})
    optimizer.register_load_state_dict_post_hook(lambda opt: loaded.append(opt))
    optimizer.register_load_state_dict_post_hook(lambda opt: loaded.append("first"),
                                                  prepend=True)
    optimizer.load_state_dict(state)
    assert loaded == ["first", optimizer]

