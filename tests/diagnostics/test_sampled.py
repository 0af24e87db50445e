"""What a sampled step keeps besides the rules' inputs (diagnostics/monitor.py): each layer's
gradient values for the histograms, and a note for layers frozen after the monitor started."""

import numpy as np

import chainrule as torch
from chainrule import nn
from chainrule.diagnostics import GradientMonitor
from chainrule.diagnostics import monitor as monitor_module


def train(model, steps, every=5, before_step=None, after_step=None):
    """``steps`` steps under a monitor sampling every ``every``; ``before_step(step)`` and
    ``after_step(step, monitor)`` run around each."""
    torch.manual_seed(0)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
    x, y = torch.randn(32, 300), torch.randn(32, 4)
    with GradientMonitor(model, every=every) as monitor:
        for step in range(1, steps + 1):
            if before_step is not None:
                before_step(step)
            optimizer.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            optimizer.step()
            monitor.step(loss)
            if after_step is not None:
                after_step(step, monitor)
    return monitor


def test_each_layers_histogram_holds_its_own_gradients_values():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(300, 256), nn.ReLU(), nn.Linear(256, 4))
    monitor = train(model, 5)  # step 5 is sampled, and the last
    for name, layer in (("0", model[0]), ("2", model[2])):
        expected = np.concatenate([monitor_module.GradientMonitor._histogram_values(p.grad._data)
                                   for p in (layer.weight, layer.bias)]).astype(np.float64)
        np.testing.assert_array_equal(monitor.histograms[name], expected)


def test_histograms_taken_at_one_sample_are_not_written_over_by_the_next():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(300, 256), nn.ReLU(), nn.Linear(256, 4))
    kept, at_five = {}, {}

    def keep(step, monitor):
        if step == 5:
            kept.update(monitor.histograms)
            at_five.update({name: np.array(values, copy=True) for name, values in kept.items()})

    monitor = train(model, 10, after_step=keep)  # samples at 5 and 10
    for name in ("0", "2"):
        # what the caller kept is still the step-5 sample, though step 10's differs from it
        np.testing.assert_array_equal(kept[name], at_five[name])
        assert not np.array_equal(monitor.histograms[name], at_five[name])
        # and a caller writing its copy leaves the monitor's own values as they were
        mine = monitor.histograms[name]
        mine[:] = 0.0
        assert np.any(monitor.histograms[name] != 0.0)


def test_a_layer_frozen_after_the_monitor_started_is_noted():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(300, 32), nn.ReLU(), nn.Linear(32, 4))

    def freeze(step):
        if step == 12:
            model[0].requires_grad_(False)

    monitor = train(model, 20, before_step=freeze)
    assert [(n.rule, n.layer, n.step) for n in monitor.notes] == [("frozen", "0", 15)]
