"""Small data and a plain training loop under a GradientMonitor, shared by the diagnostics
tests."""

import numpy as np

import chainrule as torch
from chainrule.diagnostics import GradientMonitor
from chainrule.nn import functional as F


def classification_data(n=64, features=16, seed=0):
    """A linearly separable two-class problem on standard-normal inputs."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(np.float32)
    y = (x[:, :4].sum(1) > 0).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def train_monitored(model, optimizer, steps, data=None, loss_fn=None, every=50, **options):
    """Train on one fixed batch for ``steps`` steps; returns the monitor (closed)."""
    x, y = data if data is not None else classification_data()
    loss_fn = loss_fn or F.cross_entropy
    with GradientMonitor(model, every=every, **options) as monitor:
        for _ in range(steps):
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            if not np.isfinite(loss.item()):
                monitor.step(loss)
                break
            loss.backward()
            optimizer.step()
            monitor.step(loss, lr=optimizer.param_groups[0]["lr"])
    return monitor


def rules_found(monitor):
    return {finding.rule for finding in monitor.findings}
