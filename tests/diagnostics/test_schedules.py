"""Causes the optim19 held-out batch (2026-12-05) found misnamed: a schedule that falls to 0
and back every few steps (its stall put down to a misplaced zero_grad()), and a 0/0 in
Adagrad's update put down to Adam alone."""

import numpy as np

import chainrule as torch
from chainrule import nn
from chainrule.diagnostics import GradientMonitor
from chainrule.nn import functional as F

from .suite import data, models

CYCLE = "falls to 0 and back"


def _train(model, optimizer, schedule, batches, steps, lr_after_step=True):
    """A loop that hands the monitor the rate after scheduler.step() (the next step's), or
    the rate this step's update used."""
    monitor = GradientMonitor(model)
    with monitor, np.errstate(all="ignore"):
        for step in range(1, steps + 1):
            x, y = batches(step)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            used = optimizer.param_groups[0]["lr"]
            optimizer.step()
            schedule.step()
            monitor.step(loss, lr=optimizer.param_groups[0]["lr"] if lr_after_step else used)
    return monitor


def _stalls(monitor):
    return [f for f in monitor.findings if f.rule == "stalled"]


def test_a_cosine_of_one_step_is_named_whichever_rate_the_loop_reports():
    for lr_after_step in (True, False):
        torch.manual_seed(0)
        model = models.cnn()
        optimizer = torch.optim.Adam(model.parameters(), 1e-3)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=1)
        monitor = _train(model, optimizer, schedule, data.images(), 30, lr_after_step)
        stalls = _stalls(monitor)
        assert stalls and CYCLE in stalls[0].message, [str(f) for f in monitor.findings]
        assert "every 2 steps" in stalls[0].message
        assert "zero_grad" not in stalls[0].message


def test_a_cosine_of_one_step_under_sgd_in_a_gru_is_named():
    # (SGD with momentum: its buffer keeps growing at the steps at 0, the update is still 0)
    torch.manual_seed(0)
    model = models.Recurrent("GRU", hidden=16)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=1)
    monitor = _train(model, optimizer, schedule, data.sequences(), 30, lr_after_step=False)
    stalls = _stalls(monitor)
    assert stalls and CYCLE in stalls[0].message, [str(f) for f in monitor.findings]


def test_a_cycle_the_samples_never_land_on_zero_is_not_reported():
    # CyclicLR from 0 over one step up: 0 at the odd steps, the samples (1, 2, 4, 8, 16) see
    # updates at the peak after the first; nothing stalls where the monitor looks
    torch.manual_seed(0)
    model = models.Recurrent("GRU", hidden=16)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    schedule = torch.optim.lr_scheduler.CyclicLR(optimizer, base_lr=0.0, max_lr=0.05,
                                                 step_size_up=1)
    monitor = _train(model, optimizer, schedule, data.sequences(), 30)
    assert _stalls(monitor) == [], [str(f) for f in monitor.findings]


def test_a_rate_that_reached_zero_for_good_is_not_called_a_cycle():
    # StepLR(gamma=0): 0 from step 6 on and never back; a loop that reports the rate its update
    # used, so the stall rule sees lr == 0 at its samples
    torch.manual_seed(0)
    model = models.mlp([16, 64, 64, 2])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    schedule = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.0)
    monitor = _train(model, optimizer, schedule, data.classes(), 50, lr_after_step=False)
    stalls = _stalls(monitor)
    assert stalls, [str(f) for f in monitor.findings]
    assert all(CYCLE not in f.message for f in monitor.findings)


def test_adagrad_without_eps_on_a_gradient_zero_at_first_is_named():
    # a zero-initialised second layer: the first gets a gradient of exactly 0 at step 1
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(256, 2))
    nn.init.zeros_(model[3].weight)
    optimizer = torch.optim.Adagrad(model.parameters(), 1e-2, eps=0.0)
    schedule = torch.optim.lr_scheduler.StepLR(optimizer, step_size=100)
    monitor = _train(model, optimizer, schedule, data.images(), 10)
    found = [f for f in monitor.findings if f.rule == "nonfinite"]
    assert found and found[0].layer == "0.weight", [str(f) for f in monitor.findings]
    assert "Adagrad" in found[0].message and "0/0" in found[0].message
