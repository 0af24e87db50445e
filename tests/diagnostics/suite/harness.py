"""How the suite trains a setup under a monitor, and what it expects to be found."""

import dataclasses
import math
from pathlib import Path

import numpy as np

import chainrule
from chainrule import nn, optim
from chainrule.diagnostics import GradientMonitor
from chainrule.nn import functional as F

ANY = "any layer"  # the finding must name a layer of the model, whichever


@dataclasses.dataclass
class Expect:
    """The right diagnosis: ``rule`` and ``layer`` (a name, ANY, or None for model-wide); for
    non-finite values the ``op``, the ``pass_`` and the line marked ``# NAN: <marker>``;
    ``says``: a phrase the message must hold."""

    rule: str
    layer: object = ANY
    op: str | None = None
    pass_: str | None = None
    marker: str | None = None
    within: int = 50
    says: str | None = None  # a phrase the message must hold (the cause it names)


def fit(model, optimizer, batches, steps, loss_fn=F.cross_entropy, every=50, scheduler=None,
        stop_on_nan=False, monitor=None, clip=None, accumulate=1, epoch=None, **options):
    """Train ``model`` for ``steps`` steps under a GradientMonitor; returns it (closed).
    ``stop_on_nan``: stop before backward on a non-finite loss, as ``chainrule diagnose`` does
    (else the loop goes on, as most loops do); ``clip``: clip the gradient norm to it before
    the step; ``accumulate``: backward this many batches (each loss divided by it) per step;
    ``epoch``: step the scheduler once every this many steps (an epoch's batches; a
    ReduceLROnPlateau with the epoch's mean loss) instead of after every step."""
    monitor = monitor or GradientMonitor(model, every=every, **options)
    losses = []
    with monitor, np.errstate(all="ignore"):
        for step in range(1, steps + 1):
            optimizer.zero_grad()
            total = 0.0
            for micro in range(accumulate):
                x, y = batches(step if accumulate == 1 else step * accumulate + micro)
                loss = loss_fn(model(x), y)
                if stop_on_nan and not math.isfinite(loss.item()):
                    monitor.step(loss)
                    return monitor
                (loss / accumulate if accumulate > 1 else loss).backward()
                total += loss.item() / accumulate
            if clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            losses.append(loss.item())
            if scheduler is not None and (epoch is None or step % epoch == 0):
                if isinstance(scheduler, optim.lr_scheduler.ReduceLROnPlateau):
                    scheduler.step(sum(losses[-epoch:]) / epoch)
                else:
                    scheduler.step()
            monitor.step(loss if accumulate == 1 else total,
                         lr=optimizer.param_groups[0]["lr"])
    return monitor


def marked_line(marker):
    """(file, line) of the line carrying ``# NAN: <marker>`` in this folder's modules."""
    for path in sorted(Path(__file__).parent.glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if f"# NAN: {marker}" in line and "marked_line" not in line:
                return str(path), number
    raise LookupError(marker)


def check(monitor, expect, model_layers):
    """Raise AssertionError unless ``monitor`` made the expected finding in time."""
    summary = [str(f) for f in monitor.findings]
    matching = [f for f in monitor.findings if f.rule == expect.rule]
    assert matching, f"no {expect.rule} finding; found {summary}"
    finding = matching[0]
    assert finding.step <= expect.within, (
        f"found at step {finding.step}, after step {expect.within}", summary)
    if expect.layer is ANY:
        assert finding.layer in model_layers, (f"layer {finding.layer!r} is not the model's",
                                               summary)
    else:
        assert finding.layer == expect.layer, (
            f"layer {finding.layer!r}, expected {expect.layer!r}", summary)
    if expect.says is not None:
        assert expect.says in finding.message, (f"the message does not say {expect.says!r}",
                                                summary)
    if expect.op is not None:
        origin = finding.origin
        assert (origin.op, origin.pass_) == (expect.op, expect.pass_), (
            f"born in {origin.op!r} ({origin.pass_}), expected {expect.op!r} "
            f"({expect.pass_})", summary)
        if expect.marker is not None:
            assert (origin.file, origin.line) == marked_line(expect.marker), (
                f"at {origin.file}:{origin.line}, expected the line marked "
                f"{expect.marker!r}", summary)


def diagnosed(setup, seed):
    """Run a broken ``setup`` (an entry of broken.BROKEN) from torch seed ``seed``; raise
    AssertionError unless it is diagnosed as expected (``check``)."""
    _, _, run, expect = setup
    chainrule.manual_seed(seed)
    model, monitor = run()
    check(monitor, expect, {n or type(model).__name__ for n, _ in model.named_modules()})


def quiet(setup, seed):
    """Run a healthy ``setup`` (an entry of healthy.HEALTHY) from torch seed ``seed``; raise
    AssertionError at any alarm, a non-finite loss, or a run sampled fewer than 8 times."""
    _, run = setup
    chainrule.manual_seed(seed)
    for monitor in run():
        assert monitor.findings == [], [str(f) for f in monitor.findings]
        assert len(monitor.samples) >= 8, "fewer than 8 samples"  # it did look
        assert all(math.isfinite(loss) for _, loss, _ in monitor.steps), "a loss not finite"
