"""The schedulers PyTorch has beyond the common ones, against PyTorch's own trajectories of
learning rate and momentum (``torch_schedulers.json``, written by
``bench/record_layer_fixtures.py``)."""

import json
from pathlib import Path

import pytest

import chainrule as cr
from chainrule import optim
from chainrule.optim import lr_scheduler

FIXTURE = json.loads((Path(__file__).parent / "torch_schedulers.json").read_text())["cases"]


def _flat(groups):
    """[lr, momentum, betas] per group as one list of numbers (None where a group lacks one)."""
    out = []
    for lr, momentum, betas in groups:
        out += [lr, momentum] + (list(betas) if betas is not None else [None, None])
    return out


def _optimizer(kind):
    w, b = cr.zeros(2, requires_grad=True), cr.zeros(1, requires_grad=True)
    if kind == "adam":
        return optim.Adam([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1)
    return optim.SGD([w, b], lr=0.1, momentum=0.9)


@pytest.mark.parametrize("name", sorted(FIXTURE))
def test_trajectory_matches_pytorch(name):
    case = FIXTURE[name]
    opt = _optimizer(case["optimizer"])
    sched = eval(case["expr"], {"lr_scheduler": lr_scheduler, "opt": opt})
    for step, want in enumerate(case["history"], start=1):
        opt.step()
        sched.step()
        got = [[g["lr"], g.get("momentum"), list(g["betas"]) if "betas" in g else None]
               for g in opt.param_groups]
        got, want = _flat(got), _flat(want)
        assert [v is None for v in got] == [v is None for v in want], f"{name}, step {step}"
        assert [v for v in got if v is not None] == pytest.approx(
            [v for v in want if v is not None], rel=1e-12, abs=1e-15), f"{name}, step {step}"
    assert sched.get_last_lr() == pytest.approx([g[0] for g in case["history"][-1]])


def test_the_trajectories_are_not_flat():
    for name, case in FIXTURE.items():
        rates = {round(step[0][0], 12) for step in case["history"]}
        assert len(rates) > 1, name


def test_state_dict_round_trip_resumes_the_schedule():
    opt = _optimizer("sgd")
    sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2)
    for _ in range(4):
        opt.step()
        sched.step()
    saved = sched.state_dict()
    other_opt = _optimizer("sgd")
    other = lr_scheduler.CosineAnnealingWarmRestarts(other_opt, T_0=3, T_mult=2)
    other.load_state_dict(saved)
    for _ in range(3):
        opt.step()
        sched.step()
        other_opt.step()
        other.step()
    assert other.get_last_lr() == pytest.approx(sched.get_last_lr())


def test_bad_arguments():
    opt = _optimizer("sgd")
    with pytest.raises(ValueError, match="between 0 and 1"):
        lr_scheduler.ConstantLR(opt, factor=2.0)
    with pytest.raises(ValueError, match="positive integer T_0"):
        lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="mode is invalid"):
        lr_scheduler.CyclicLR(opt, 0.01, 0.1, mode="sawtooth")
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        lr_scheduler.ChainedScheduler([lr_scheduler.ReduceLROnPlateau(opt)])
