"""TrainingDiagnostics as a trainer hook, and the ``chainrule diagnose`` command."""

import types

import numpy as np

import chainrule as torch
from chainrule import nn
from chainrule.cli import main
from chainrule.diagnostics import TrainingDiagnostics
from chainrule.nn import functional as F

from .suite import data


class FakeTrainer:
    """What a hook may use of chainrule.train.loop.Trainer."""

    def __init__(self, model, optimizer, path):
        self.model, self.optimizer, self.step = model, optimizer, 0
        self.run = types.SimpleNamespace(path=path)
        self.printed = []
        self.console = types.SimpleNamespace(print=self.printed.append)


def _fit(hook, trainer, steps):
    batches = data.classes(size=64)
    for step in range(steps):
        x, y = batches(step)
        trainer.optimizer.zero_grad()
        loss = F.cross_entropy(trainer.model(x), y)
        loss.backward()
        trainer.optimizer.step()
        trainer.step += 1
        hook.on_step(trainer, {"kind": "step", "step": trainer.step, "loss": loss.item(),
                               "lr": 0.1, "grad_norm": None})
    hook.on_epoch(trainer, {"kind": "epoch", "step": trainer.step})


def test_hook_prints_each_finding_once_and_reports(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 2))
    with torch.no_grad():
        model[0].bias.fill_(-6.0)
    trainer = FakeTrainer(model, torch.optim.SGD(model.parameters(), lr=0.1), tmp_path)
    hook = TrainingDiagnostics(every=10)
    _fit(hook, trainer, 60)
    assert len(trainer.printed) == 1 and "[dead]" in trainer.printed[0]
    table = hook.final_table()
    assert "0 (Linear)" in table and "1 (relu)" in table and "dead" in table
    (section,) = hook.report_sections(tmp_path)
    assert section.startswith("## Gradient diagnostics") and "[dead]" in section
    assert "![gradient flow](gradient_flow.png)" in section
    assert (tmp_path / "gradient_flow.png").stat().st_size > 0
    assert (tmp_path / "gradient_histograms.png").stat().st_size > 0
    hook.close()


def test_hook_is_silent_on_a_healthy_run(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 2))
    trainer = FakeTrainer(model, torch.optim.Adam(model.parameters(), lr=1e-3), tmp_path)
    hook = TrainingDiagnostics(every=10)
    _fit(hook, trainer, 60)
    assert trainer.printed == []
    assert "no problems found" in hook.final_table()
    hook.close()


def test_hook_says_where_a_nan_loss_was_born_when_the_trainer_stops_before_backward(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 1))
    with torch.no_grad():
        model[0].weight.mul_(1000.0)  # sigmoid rounds to exactly 0 for some samples
    trainer = FakeTrainer(model, torch.optim.SGD(model.parameters(), lr=0.1), tmp_path)
    hook = TrainingDiagnostics()
    hook.attach(model)
    x, _ = data.classes(size=64)(0)
    with np.errstate(all="ignore"):
        loss = -torch.log(torch.sigmoid(model(x))).mean()  # what the trainer checks, then stops
    hook.on_nonfinite_loss(trainer, loss)
    (printed,) = trainer.printed
    assert "[nonfinite]" in printed and "Log produced inf in the forward pass" in printed
    assert "in the loss computation" in printed and "test_training_hook.py" in printed
    hook.close()


def _diagnose(*argv):
    return main(["diagnose", *argv])


def test_diagnose_command_healthy_and_broken(capsys):
    assert _diagnose("--steps", "12", "--every", "4", "--hidden-size", "32") == 0
    out = capsys.readouterr().out
    assert "diagnosing mlp" in out and "no problems found" in out and "(Linear)" in out
    status = _diagnose("--steps", "12", "--hidden-size", "32", "--optimizer", "sgd", "--lr",
                       "10", "--grad-clip", "0")
    out = capsys.readouterr().out
    assert status == 1 and "finding: [exploding]" in out
