"""Ctrl-C during training: finish the step, save it, stop.

A step is atomic with respect to interruption: the first Ctrl-C only asks the loop to stop once
the step in progress is complete (its update applied, its counters advanced, its records
written); the loop then writes a checkpoint of that consistent state and exits with 130. A second
Ctrl-C stops at once without saving, leaving the previous checkpoint as the one to resume from
(which is just as consistent: checkpoints are only ever written between steps)."""

import os
import signal
import threading


class StopRequest:
    """A context in which SIGINT asks for a stop instead of raising KeyboardInterrupt."""

    def __init__(self, console):
        self.console = console
        self.requested = False
        self._previous = None

    def __enter__(self):
        # signal handlers belong to the main thread; elsewhere Ctrl-C never reaches us anyway
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_interrupt)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return False

    def _on_interrupt(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        if self.console.rank0:
            # straight to the descriptor: the handler may run while a buffered stream is busy
            # writing (a progress bar), and re-entering it would raise
            os.write(2, b"\ninterrupt: finishing this step, then saving a checkpoint "
                        b"(Ctrl-C again to stop at once without saving)\n")
