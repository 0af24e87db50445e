"""The every-step exploding rules on hand-made series (the lr-10 acceptance test trips the
loss-spike rule first, so the gradient-norm rules are checked here)."""

from chainrule.diagnostics.rules import Rules, Thresholds


def _feed(norms, losses=None):
    rules = Rules()
    found = []
    for step, norm in enumerate(norms, 1):
        loss = 1.0 if losses is None else losses[step - 1]
        found += rules.on_step(step, loss, norm)
    return found


def test_geometric_growth_fires_after_growth_steps():
    found = _feed([1.0, 2.5, 6.0, 15.0, 40.0])
    assert [f.rule for f in found] == ["exploding"] and found[0].step == 5
    assert "geometrically" in found[0].message
    assert _feed([1.0, 2.5, 6.0, 15.0]) == []  # one step short
    assert _feed([1.0, 1.9, 3.6, 7.0, 13.0]) == []  # under 2x per step


def test_spike_above_running_median():
    steady = [1.0, 1.2, 0.9, 1.1, 1.0, 0.95, 1.05, 1.0, 1.1, 0.9]
    found = _feed(steady + [25.0])
    assert len(found) == 1 and found[0].step == 11 and "spiked" in found[0].message
    assert _feed(steady + [15.0]) == []  # below spike_factor = 20
    assert _feed([1.0] * 5 + [100.0]) == []  # too little history to judge a spike


def test_loss_spike_and_thresholds_are_configurable():
    found = _feed([1.0] * 4, losses=[2.3, 2.0, 1.8, 7.5])
    assert len(found) == 1 and "loss spiked" in found[0].message
    rules = Rules(Thresholds(loss_spike_factor=5.0))
    assert sum((rules.on_step(s, loss, 1.0) for s, loss in
                enumerate([2.3, 2.0, 1.8, 7.5], 1)), []) == []


def test_each_rule_and_layer_is_reported_once():
    found = _feed([1.0, 2.5, 6.0, 15.0, 40.0, 100.0, 250.0])
    assert len(found) == 1
