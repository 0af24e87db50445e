"""Non-finite values: the first op that made one, in forward or backward, and its line."""

import numpy as np

import chainrule as torch
from chainrule import nn
from chainrule.diagnostics import GradientMonitor, NonFiniteTracer
from chainrule.nn import functional as F


def _line_of(marker):
    with open(__file__) as source:
        return next(i for i, line in enumerate(source, 1)
                    if marker in line and "_line_of" not in line)


class SqrtOfRelu(nn.Module):
    """sqrt(0) = 0 is fine going forward; its gradient 1 / (2 sqrt(0)) is not."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(x).relu().sqrt()  # SQRT LINE


def test_backward_origin_names_the_op_and_its_line():
    torch.manual_seed(0)
    model = SqrtOfRelu()
    x = torch.randn(8, 4)
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        model(x).sum().backward()
        (finding,) = monitor.step()
    assert finding.rule == "nonfinite"
    origin = monitor.watch.origin
    assert (origin.op, origin.pass_, origin.kind) == ("Sqrt", "backward", "inf")
    assert origin.line == _line_of("# SQRT LINE") and origin.layer == "SqrtOfRelu"
    assert "Sqrt produced inf in the backward pass" in finding.message


def test_finite_training_reports_nothing_and_closing_removes_hooks():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    monitor = GradientMonitor(model)
    model(torch.randn(2, 4)).sum().backward()
    assert monitor.step() == []
    monitor.close()
    assert not model._forward_hooks and not model[1]._forward_hooks
    assert monitor.watch.origin is None


def test_parameter_already_nan_is_named():
    model = nn.Sequential(nn.Linear(4, 3))
    with torch.no_grad():
        model[0].weight[0, 0] = float("nan")
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        model(torch.randn(2, 4)).sum().backward()
        (finding,) = monitor.step()
    assert monitor.watch.origin.op == "parameter"
    assert "'0.weight'" in finding.message


def test_nan_loss_outside_the_model_is_attributed_to_the_loss():
    model = nn.Sequential(nn.Linear(4, 1))
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        loss = torch.log(model(torch.randn(3, 4)) * 0).sum()  # -inf in the loss, not the model
        (finding,) = monitor.step(loss)
    assert monitor.watch.origin.op == "loss" and finding.rule == "nonfinite"


def test_tracer_skips_propagation_and_masking():
    x = torch.tensor([1.0, 0.0, 2.0])
    with NonFiniteTracer() as tracer, np.errstate(all="ignore"):
        masked = x.masked_fill(x == 0, float("-inf"))  # placing -inf on purpose: not an origin
        y = (masked * 2).exp()  # propagation of a non-finite input: not an origin
        torch.log(x - x)  # TRACER LINE: the first op to make -inf from finite inputs
    assert y is not None
    assert tracer.origin.op == "Log" and tracer.origin.line == _line_of("# TRACER LINE")


def test_forward_nan_found_before_the_loss_is_computed():
    """A non-finite model output is located inside the forward itself (the trainer stops on
    a NaN loss before any hook would see the step)."""
    seen = []
    model = nn.Sequential(nn.Linear(4, 2), nn.ReLU())
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        monitor.on_finding = seen.append
        x = torch.randn(3, 4)
        out = model(x)
        F.mse_loss(out, torch.zeros(3, 2))
        assert seen == []
        with torch.no_grad():
            model[0].weight.fill_(3e38)  # finite, but x @ w.T overflows
        model(torch.ones(3, 4))
    assert len(seen) == 1 and seen[0].rule == "nonfinite"
    origin = monitor.watch.origin
    assert (origin.pass_, origin.kind, origin.layer) == ("forward", "inf", "0")
    assert origin.op not in ("parameter", "input")
    assert origin.file == __file__
