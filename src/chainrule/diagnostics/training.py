"""``TrainingDiagnostics``: the trainer hook that runs a ``GradientMonitor`` during
``chainrule train``, prints each finding once, and adds a section to the run report."""

from pathlib import Path

from .monitor import GradientMonitor
from .plots import PLOTS_HINT, gradient_flow, histograms
from .table import format_table, markdown_table


class TrainingDiagnostics:
    """A ``Trainer`` hook: ``trainer.hooks.append(TrainingDiagnostics(every=50))``.

    The monitor attaches to ``trainer.model`` at the first ``on_step`` (or earlier, through
    ``attach(model)``, so that step 1 is measured in full)."""

    def __init__(self, every=50, thresholds=None, record_sites=False, advice=None):
        self.every = every
        # advice(finding): a line to print under it, or None (the command's flags to change)
        self.advice = advice
        self.thresholds = thresholds
        self.record_sites = record_sites
        self.monitor = None

    def attach(self, model, start_step=0):
        """Start monitoring ``model``; the next training step is ``start_step + 1``."""
        if self.monitor is None:
            self.monitor = GradientMonitor(model, every=self.every, thresholds=self.thresholds,
                                           record_sites=self.record_sites, start_step=start_step)
        return self.monitor

    def close(self):
        if self.monitor is not None:
            self.monitor.close()

    def on_step(self, trainer, record):
        monitor = self._attached(trainer, trainer.step - 1)
        monitor.step(record.get("loss"), grad_norm=record.get("grad_norm"), lr=record.get("lr"))

    def on_nonfinite_loss(self, trainer, loss):
        """The trainer stops on a non-finite loss before backward: say where it was born."""
        self._attached(trainer, trainer.step).step(loss)

    def _attached(self, trainer, start_step):
        if self.monitor is None:
            self.attach(trainer.model, start_step=start_step)
        # a non-finite value is found inside the forward or backward, before the trainer may
        # stop on the loss: findings are printed the moment they are made
        self.monitor.on_finding = lambda finding: self._print(trainer, finding)
        return self.monitor

    def _print(self, trainer, finding):
        trainer.console.print(f"diagnostics: {finding}")
        line = self.advice(finding) if self.advice is not None else None
        if line:
            trainer.console.print(f"diagnostics:   {line}")

    def on_epoch(self, trainer, record):
        """Nothing to do at an epoch's end: findings are printed as they are made."""

    def final_table(self):
        """The per-layer table for the end of the run (plain text)."""
        if self.monitor is None:
            return "gradient diagnostics: no step was monitored"
        lines = [format_table(self.monitor)]
        if not self.monitor.findings:
            lines.append("no problems found in backpropagation")
        lines += [str(note) for note in self.monitor.notes]
        return "\n".join(lines)

    def report_sections(self, run_path):
        """Markdown for the run report; writes gradient_flow.png and gradient_histograms.png
        into ``run_path`` when matplotlib is installed."""
        if self.monitor is None or not self.monitor.samples:
            return []
        monitor = self.monitor
        lines = ["## Gradient diagnostics", ""]
        if monitor.findings or monitor.notes:
            lines += [f"- {finding}" for finding in monitor.findings + monitor.notes]
        else:
            lines.append("No problems found: no vanishing, exploding, dead, saturated, stalled "
                         "or non-finite gradients at the sampled steps.")
        lines += ["", f"Sampled every {monitor.every} steps (and steps 1, 2, 4, 8, 16, 32).", ""]
        try:
            flow = gradient_flow(monitor, Path(run_path) / "gradient_flow.png")
            hist = histograms(monitor, Path(run_path) / "gradient_histograms.png")
            lines += [f"![gradient flow]({flow.name})", "",
                      f"![gradient histograms]({hist.name})", ""]
        except ImportError:
            lines += [PLOTS_HINT, ""]
        lines.append(markdown_table(monitor))
        return ["\n".join(lines)]
