"""``chainrule diagnose``: train a preset (or a config) for a few steps under a
``GradientMonitor`` and print the per-layer table and every finding.

Exit status: 0 when nothing was found, 1 when there are findings (so scripts and CI can use it);
notes (frozen layers) are information and do not count.
"""

import argparse
import math
from pathlib import Path

import numpy as np

from ..diagnostics.monitor import GradientMonitor
from ..diagnostics.plots import PLOTS_HINT, gradient_flow, histograms
from ..diagnostics.table import format_table
from ..nn.utils import clip_grad_norm_
from ..random import manual_seed
from .data import load_task
from .flag_advice import FlagAdvice, setting_notes
from .optimizers import build_optimizer
from .presets import build_model


def add_parser(subparsers, train_flags):
    """Add the ``diagnose`` subcommand (the ``train`` flags plus its own) to ``subparsers``."""
    parser = subparsers.add_parser(
        "diagnose", help="train a few steps and report vanishing/exploding/dead/NaN gradients",
        description="Train a preset (same flags as train) for --steps steps while monitoring "
                    "backpropagation; print the per-layer table and what is going wrong, where, "
                    "since when, and what to do. Exit status 1 when there are findings.",
    )
    parser.add_argument("--config", metavar="FILE.toml",
                        help="TOML file of settings (keys as the train flags)")
    for flag, field, kind, text in train_flags:
        parser.add_argument(flag, dest=field, type=kind, default=None, help=text)
    parser.add_argument("--quiet", action="store_true", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=200, help="training steps (default 200)")
    parser.add_argument("--every", type=int, default=10,
                        help="sample per-layer statistics every N steps (default 10)")
    parser.add_argument("--record-sites", action="store_true",
                        help="record every op's call site (slower; NaN sites are found anyway)")
    parser.add_argument("--plots", metavar="DIR",
                        help="write gradient_flow.png and gradient_histograms.png into DIR")
    return parser


def run(config, steps, every, record_sites=False, plots=None):
    """Run ``chainrule diagnose`` for a resolved config; returns the exit status."""
    if steps < 1 or every < 1:
        raise ValueError("--steps and --every must be at least 1")
    manual_seed(config.seed)
    task = load_task(config)
    model = build_model(config, task)
    optimizer = build_optimizer(config, model)
    print(f"diagnosing {config.model} on {task.name} for {steps} steps "
          f"(optimizer {config.optimizer}, lr {config.lr}, sampled every {every} steps)")
    for note in setting_notes(config):
        print(f"note: {note}")
    # NumPy's overflow warnings would only repeat, less clearly, what the findings say
    with GradientMonitor(model, every=every, record_sites=record_sites) as monitor, \
            np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        advice = FlagAdvice(config)

        def report(finding):
            print(f"{'finding' if finding.severity == 'alarm' else 'note'}: {finding}")
            line = advice(finding)
            if line:
                print(f"  {line}")

        monitor.on_finding = report
        _train(monitor, model, optimizer, task, config, steps)
    print(format_table(monitor))
    if plots:
        _plots(monitor, Path(plots))
    if monitor.findings:
        print(f"{len(monitor.findings)} finding(s), one per cause; see docs/diagnostics.md for "
              "each rule")
        return 1
    print("no problems found in backpropagation")
    return 0


def _train(monitor, model, optimizer, task, config, steps):
    step, epoch = 0, 0
    model.train()
    while step < steps:
        for inputs, targets in task.epoch_batches(epoch, config.seed, config.batch_size):
            optimizer.zero_grad()
            loss = task.loss(model(inputs), targets)
            if not math.isfinite(loss.item()):
                monitor.step(loss)
                return
            loss.backward()
            max_norm = config.grad_clip if config.grad_clip else math.inf
            grad_norm = float(clip_grad_norm_(model.parameters(), max_norm))
            optimizer.step()
            monitor.step(loss, grad_norm=grad_norm, lr=optimizer.param_groups[0]["lr"])
            step += 1
            if step >= steps:
                return
        epoch += 1


def _plots(monitor, directory):
    directory.mkdir(parents=True, exist_ok=True)
    try:
        for path in (gradient_flow(monitor, directory / "gradient_flow.png"),
                     histograms(monitor, directory / "gradient_histograms.png")):
            print(f"plot: {path}")
    except ImportError:
        print(PLOTS_HINT)
