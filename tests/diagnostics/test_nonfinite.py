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
        loss = model(torch.randn(2, 4)).sum()
        loss.backward()
        (finding,) = monitor.step(loss)  # before any update: not an explosion
    assert monitor.watch.origin.op == "parameter" and finding.rule == "nonfinite"
    assert "'0.weight'" in finding.message


def test_nan_loss_outside_the_model_is_found_in_the_loss_with_its_line():
    model = nn.Sequential(nn.Linear(4, 1))
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        loss = torch.log(model(torch.randn(3, 4)) * 0).sum()  # LOSS LINE: -inf in the loss
        (finding,) = monitor.step(loss)
    origin = finding.origin
    assert (origin.op, origin.pass_, origin.in_loss) == ("Log", "forward", True)
    assert origin.line == _line_of("# LOSS LINE") and origin.layer is None
    assert "Log produced inf in the forward pass in the loss computation" in finding.message


def test_a_masked_softmax_over_a_row_that_is_all_minus_inf_gives_birth_to_nan():
    scores = torch.randn(2, 3)
    mask = torch.tensor([[False, True, False], [True, True, True]])
    with NonFiniteTracer() as tracer, np.errstate(all="ignore"):
        scores.masked_fill(mask, float("-inf")).softmax(-1)  # SOFTMAX LINE
    origin = tracer.origin
    assert (origin.op, origin.kind) == ("Softmax", "nan")
    assert origin.line == _line_of("# SOFTMAX LINE")


def test_nan_in_the_loss_backward_names_the_op_and_the_pass():
    model = nn.Sequential(nn.Linear(4, 2))
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        out = model(torch.randn(3, 4))
        loss = (out - out.detach()).pow(2).sum().sqrt()  # ROOT LINE: sqrt(0), gradient 1/0
        loss.backward()
        (finding,) = monitor.step(loss)
    origin = finding.origin
    assert (origin.op, origin.pass_, origin.in_loss) == ("Sqrt", "backward", True)
    assert origin.line == _line_of("# ROOT LINE")


def test_tracer_skips_propagation_and_masking():
    x = torch.tensor([1.0, 0.0, 2.0])
    with NonFiniteTracer() as tracer, np.errstate(all="ignore"):
        masked = x.masked_fill(x == 0, float("-inf"))  # placing -inf on purpose: not an origin
        y = (masked * 2).exp()  # propagation of a non-finite input: not an origin
        torch.log(x - x)  # TRACER LINE: the first op to make -inf from finite inputs
    assert y is not None
    assert tracer.origin.op == "Log" and tracer.origin.line == _line_of("# TRACER LINE")


def test_an_overflow_in_the_forward_is_traced_when_the_loss_turns_non_finite():
    """The loop stops on the non-finite loss before backward: the model's forward is run again
    (weights unchanged) and the op that overflowed is named, with the layer and the line."""
    model = nn.Sequential(nn.Linear(4, 2), nn.ReLU())
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        with torch.no_grad():
            model[0].weight.fill_(3e38)  # finite, but x @ w.T overflows
        loss = F.mse_loss(model(torch.ones(3, 4)), torch.zeros(3, 2))  # MODEL CALL
        (finding,) = monitor.step(loss)
    origin = finding.origin
    assert (origin.pass_, origin.kind, origin.layer) == ("forward", "inf", "0")
    assert origin.op not in ("parameter", "input") and not origin.in_loss
    assert origin.file == __file__ and origin.line == _line_of("# MODEL CALL")
