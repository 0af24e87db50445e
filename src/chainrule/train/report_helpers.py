"""Starting the report's plot helpers (diagnostics/plot_helpers.py) while the run trains."""

import time

from ..diagnostics.plot_helpers import Helpers, core_idle, wanted

START_AFTER = 1.0  # seconds of training; a shorter run draws its figures before a helper starts


class ReportHelpers:
    """A trainer hook: starts the plot helpers once training has run ``START_AFTER`` seconds,
    so that they are ready (matplotlib imported, on a core the training leaves idle) when the
    report is written; ``helpers`` is None until then, and stays None when no core is idle
    then. ``end()`` stops them."""

    def __init__(self, count=None):
        self.count = wanted() if count is None else count
        self.helpers = None
        self.started = None

    def on_step(self, trainer, record):
        if self.helpers is not None or not self.count:
            return
        now = time.perf_counter()
        if self.started is None:
            self.started = now
        elif now - self.started >= START_AFTER:
            if core_idle():
                self.helpers = Helpers(self.count)
            else:  # a busy machine: the figures are drawn in-process, after training
                self.count = 0

    def end(self):
        if self.helpers is not None:
            self.helpers.close()
            self.helpers = None
