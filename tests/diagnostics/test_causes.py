"""Causes a held-out batch (2026-12-03) found unnamed or misnamed: units
killed by one or two updates as large as the weights, a signal cut to zeros before a layer,
gradients never cleared between steps, layers kept in a plain list, and an op run by a helper
method of the model's forward."""

import math

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn
from chainrule.diagnostics import GradientMonitor
from chainrule.diagnostics.rules import Rules
from chainrule.diagnostics.stale import StaleGradientCheck
from chainrule.diagnostics.unregistered import unregistered_parameters
from chainrule.nn import functional as F


def _sample(step, layers, activations=None):
    """{name: (grad_norm, rho, update_ratio)} in forward order, and activation measurements."""
    stats = {name: {"grad_norm": g, "rho": rho, "update_ratio": ratio, "weight_before": 1.0,
                    "weight_matrices": 1.0, "ever_grad": True}
             for name, (g, rho, ratio) in layers.items()}
    return {"step": step, "order": list(layers), "layers": stats,
            "activations": activations or {}, "natural": {name: 1.0 for name in layers}}


def _relu(dead, after="2"):
    return {"1": {"kind": "relu", "dead": dead, "inputs": 64, "after": after}}


def test_units_killed_after_a_large_update_point_to_it():
    rules = Rules()
    found = rules.on_sample(_sample(1, {"0": (1.0, 0.5, 0.05), "2": (1.0, 0.5, 0.05)},
                                    _relu(0.0)))
    # one update as large as the head (too few in a row for an explosion), then dead units
    found += rules.on_sample(_sample(2, {"0": (1.0, 0.5, 0.4), "2": (1.0, 0.5, 1.1)},
                                     _relu(0.0)))
    for step in (4, 8, 16):
        found += rules.on_sample(_sample(step, {"0": (0.0, 0.0, 0.0), "2": (1.0, 0.5, 0.1)},
                                         _relu(1.0)))
    (dead,) = found
    assert dead.rule == "dead" and dead.step == 16
    assert "update of step 2 moved layer '2' by 1.1x its size" in dead.message
    assert "summed over the batch" in dead.message  # the remedy for that cause


def test_units_dead_from_the_start_do_not_blame_a_later_update():
    rules = Rules()
    found = []
    for step, ratio in ((1, 1.2), (2, 0.05), (4, 0.05)):
        found += rules.on_sample(_sample(step, {"0": (0.0, 0.0, 0.0), "2": (1.0, 0.5, ratio)},
                                         _relu(1.0)))
    (dead,) = found
    assert dead.rule == "dead" and "update of step" not in dead.message


def test_units_behind_a_layer_fed_only_zeros_are_the_cut_not_the_cause():
    # '0' gets exactly no gradient and '3' a gradient in its bias only: everything between
    # them was zeroed (Dropout(p=1)); the ReLU after '3' sees its bias alone
    rules = Rules()
    found = []
    for step in (1, 2, 4):
        found += rules.on_sample(_sample(step, {"0": (0.0, 0.0, 0.0), "3": (0.1, 0.0, 0.0),
                                                "5": (0.1, 0.5, 1e-3)}, _relu(0.7, after="3")))
    (finding,) = found
    assert (finding.rule, finding.layer) == ("vanishing", "0")
    assert "layer '3' receives only zeros" in finding.message and "Dropout" in finding.message


def test_a_relu_dead_at_the_first_layer_is_still_dead():
    # the first layer's input is not zero (no layer above it lost its gradient): dead units
    rules = Rules()
    found = []
    for step in (1, 2, 4):
        found += rules.on_sample(_sample(step, {"0": (0.1, 0.5, 1e-3), "2": (0.0, 0.0, 0.0)},
                                         _relu(0.9, after="0")))
    assert [f.rule for f in found] == ["dead"]


def _train(model, optimizer, steps, clear="step", accumulate=1, clip=None):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 16)).astype(np.float32)
    y = (x[:, :4].sum(1) > 0).astype(np.int64)
    monitor = GradientMonitor(model)
    with monitor:
        for _ in range(steps):
            if clear == "step":
                optimizer.zero_grad()
            for _ in range(accumulate):
                rows = rng.integers(0, 256, 16)
                loss = F.cross_entropy(model(torch.from_numpy(x[rows])),
                                       torch.from_numpy(y[rows])) / accumulate
                loss.backward()
            if clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            monitor.step(loss, lr=optimizer.param_groups[0]["lr"])
    return monitor


def _mlp():
    return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 2))


def test_gradients_never_cleared_are_found_and_cleared_ones_are_not():
    torch.manual_seed(0)
    model = _mlp()
    monitor = _train(model, torch.optim.Adam(model.parameters(), 1e-3), 12, clear=None)
    (finding,) = monitor.findings
    assert (finding.rule, finding.layer, finding.step) == ("exploding", None, 5)
    assert "never cleared" in finding.message and "zero_grad()" in finding.message
    for accumulate, clip in ((1, None), (4, None), (4, 0.01)):  # clipped: a scaled sum
        model = _mlp()
        monitor = _train(model, torch.optim.SGD(model.parameters(), 0.05, momentum=0.9), 12,
                         accumulate=accumulate, clip=clip)
        assert monitor.findings == []
    assert monitor.stale.armed is False or monitor.stale._handle is None


def test_the_stale_check_says_nothing_when_the_optimizer_did_not_step():
    # monitor.step per micro-batch, the optimizer every fourth: accumulating on purpose
    model = _mlp()
    check = StaleGradientCheck()
    (model(torch.randn(8, 16)).sum()).backward()
    check.arm(model.parameters())
    (model(torch.randn(8, 16)).sum()).backward()
    assert check.armed and check.verdict() is None and not check.armed


def test_the_stale_check_reads_only_the_gradient_it_chooses(monkeypatch):
    # the smallest parameter of at least 64 entries whose gradient is not all zero, read
    # alone: the large weight before it is not read (a sample's cost), nor the zero bias
    model = nn.Sequential(nn.Linear(300, 256), nn.ReLU(), nn.Linear(256, 128),
                          nn.Linear(128, 2))
    (model(torch.randn(8, 300)).sum()).backward()
    model[2].bias.grad = torch.zeros(128)
    read = []
    real_any = np.any
    monkeypatch.setattr(np, "any", lambda array: read.append(array.size) or real_any(array))
    check = StaleGradientCheck()
    check.arm(model.parameters())
    # (and the second check's, at the other end: the head's weight, of 256 entries)
    assert check._param is model[0].bias and read == [128, 256, 256]
    assert check._partner._param is model[3].weight
    check.disarm()


def test_layers_in_a_plain_list_are_found_and_reported_when_they_do_not_train():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = nn.Linear(16, 32)
            self.hidden = [nn.Linear(32, 32), nn.Linear(32, 32)]
            self.scales = {"out": nn.Parameter(torch.ones(2))}
            self.head = nn.Linear(32, 2)

        def forward(self, x):
            h = F.relu(self.inp(x))
            for layer in self.hidden:
                h = F.relu(layer(h))
            return self.head(h) * self.scales["out"]
    torch.manual_seed(0)
    model = Net()
    names = [n for n, _ in unregistered_parameters(model)]
    assert names == ["hidden[0].weight", "hidden[0].bias", "hidden[1].weight",
                     "hidden[1].bias", "scales['out']"]
    monitor = _train(model, torch.optim.Adam(model.parameters(), 1e-3), 10)
    (finding,) = monitor.findings
    assert (finding.rule, finding.layer, finding.step) == ("stalled", "hidden[0]", 8)
    assert finding.layers == ["hidden[0]", "hidden[1]", "scales['out']"]
    assert "nn.ModuleList" in finding.message
    # the same layers put in the optimizer by hand train: nothing to report
    model = Net()
    extra = [p for _, p in unregistered_parameters(model)]
    monitor = _train(model, torch.optim.Adam(list(model.parameters()) + extra, 1e-3), 10)
    assert monitor.findings == []


def test_an_op_in_a_helper_of_the_forward_is_placed_in_the_model():
    class Masked(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def mask(self, n):
            return torch.triu(torch.ones(n, n), diagonal=1) * float("-inf")

        def forward(self, x):
            return self.fc(x) + self.mask(4)[0]
    model = Masked()
    monitor = GradientMonitor(model)
    with monitor, np.errstate(all="ignore"):
        loss = model(torch.randn(2, 4)).sum()
        monitor.step(loss)
    (finding,) = monitor.findings
    assert (finding.origin.op, finding.origin.pass_, finding.layer) == ("Mul", "forward",
                                                                          "Masked")


# -- held-out batch of 2026-12-04: coin-tossed units, constant inputs, temperatures ------------
def test_the_chance_share_is_where_a_fair_coins_binomial_tail_falls_below_one_percent():
    from chainrule.diagnostics.rules import CHANCE, _chance_share

    pmf = np.array([1.0])
    for units in range(1, 65):
        pmf = np.convolve(pmf, [0.5, 0.5])  # the count of dead units, each by a fair coin
        if units not in (8, 16, 32, 64):
            continue
        tail = pmf[::-1].cumsum()[::-1]  # tail[k] = P(count >= k)
        share = _chance_share(units)
        assert tail[math.floor(share * units) + 1] < CHANCE  # beyond it: rarer than 1%...
        assert tail[math.floor(share * units)] >= CHANCE  # ...one unit less is not


def _coin(dead, natural=True):
    return {"1": {"kind": "relu", "dead": dead, "inputs": 64, "after": "0", "units": 32,
                  "biases_natural": natural}}


def test_units_dead_from_the_start_within_chance_are_not_dead_unless_their_biases_were_pushed():
    layers = {"0": (1.0, 1e-3, 1e-3), "2": (1.0, 1e-3, 1e-3)}
    for natural, found_rules in ((True, []), (False, ["dead"])):
        rules = Rules()
        found = []
        for step in (1, 2, 4, 8):  # 20 of 32 dead: below 24, the share chance reaches
            found += rules.on_sample(_sample(step, layers, _coin(0.625, natural)))
        assert [f.rule for f in found] == found_rules
    rules, found = Rules(), []
    for step, dead in ((1, 0.1), (2, 0.625), (4, 0.625), (8, 0.625)):  # alive at first
        found += rules.on_sample(_sample(step, layers, _coin(dead)))
    assert [f.rule for f in found] == ["dead"]
    rules, found = Rules(), []
    for step in (1, 2, 4):  # 26 of 32: beyond chance, whatever the biases
        found += rules.on_sample(_sample(step, layers, _coin(26 / 32)))
    assert [f.rule for f in found] == ["dead"]


def test_inputs_the_same_for_every_row_are_told_apart_from_data_that_varies():
    from chainrule.diagnostics.activations import constant_inputs

    x = torch.randn(8, 4)
    assert constant_inputs((torch.zeros(8, 4),)) == "zero"
    assert constant_inputs((torch.ones(8, 3, 5),)) == "constant"
    assert constant_inputs((x,)) is None
    assert constant_inputs((x, torch.ones(8, 4))) is None  # a constant mask beside real data
    assert constant_inputs((torch.zeros(1, 4),)) is None  # one row: nothing to compare
    rows = torch.ones(8, 4)
    rows[5, 2] = 2.0  # one value differs, past the first two rows
    assert constant_inputs((rows,)) is None


def test_a_softmax_after_a_temperature_counts_rows_flat_for_the_undivided_scores():
    tau = 0.1

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.logits, self.head = nn.Linear(4, 8), nn.Linear(8, 2)

        def forward(self, x):
            return self.head((self.logits(x) / tau).softmax(-1))

    torch.manual_seed(0)
    model, x = Net(), torch.randn(64, 4) * 3.0
    with GradientMonitor(model) as monitor:
        loss = model(x).sum()
        loss.backward()
        monitor.step(loss)  # (no update: the weights are those of the measured forward)
    with torch.no_grad():
        p = (model.logits(x) / tau).softmax(-1).numpy().max(-1)
    measured = monitor.activations["Net"]
    assert measured["temperature"] == pytest.approx(tau)
    assert measured["saturated"] == np.mean(p > 1 - 0.02 * tau)  # (1 - p) / tau < eps
    assert np.mean(p > 0.98) > measured["saturated"]  # the undivided rule counts fewer
