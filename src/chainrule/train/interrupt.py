"""Ctrl-C or SIGTERM during training: finish the step, save it, stop.

SIGTERM is what ``kill``, systemd, Slurm and Docker send to stop a process; it is handled
exactly as Ctrl-C (SIGINT) is. A step is atomic with respect to interruption: the first signal
only asks the loop to stop once the step in progress is complete (its update applied, its
counters advanced, its records written); the loop then writes a checkpoint of that consistent
state and exits with the conventional status, 128 + the signal's number (130 for Ctrl-C, 143
for SIGTERM). A second signal stops at once without saving, leaving the previous checkpoint as
the one to resume from (which is just as consistent: checkpoints are only ever written between
steps).

Outside the training loop (reading data, the final evaluation, ``eval``), ``raising_on_stop``
makes SIGTERM raise as Ctrl-C does, so that a stopped command cleans up (temporary files, the
run's status) instead of vanishing."""

import contextlib
import os
import signal
import threading

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_NAMES = {signal.SIGINT: b"Ctrl-C", signal.SIGTERM: b"SIGTERM"}


def exit_status(signum):
    """The conventional exit status of a process stopped by signal ``signum``."""
    return 128 + int(signum)


class StoppedAtOnce(KeyboardInterrupt):
    """A stop signal that could not wait for the step to finish; ``signum`` says which."""

    def __init__(self, signum):
        super().__init__()
        self.signum = signum


def stop_status(error):
    """The exit status for a KeyboardInterrupt (Ctrl-C, or a StoppedAtOnce of either signal)."""
    return exit_status(getattr(error, "signum", signal.SIGINT))


def _on_main_thread():
    # signal handlers belong to the main thread; elsewhere the signals never reach us anyway
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def _handling(handler):
    previous = {}
    if _on_main_thread():
        # a signal ignored when we started (SIGINT of a job started with `&` or nohup) stays
        # ignored, as Python itself leaves it
        previous = {number: signal.signal(number, handler) for number in STOP_SIGNALS
                    if signal.getsignal(number) is not signal.SIG_IGN}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def _raise_at_once(signum, frame):
    raise StoppedAtOnce(signum)


def raising_on_stop():
    """A context in which SIGINT and SIGTERM raise StoppedAtOnce (a KeyboardInterrupt)."""
    return _handling(_raise_at_once)


class StopRequest:
    """A context in which SIGINT or SIGTERM asks for a stop instead of raising; ``signal`` is
    the first one received (None while none has been)."""

    def __init__(self, console):
        self.console = console
        self.signal = None
        self._context = None

    @property
    def requested(self):
        return self.signal is not None

    def __enter__(self):
        self._context = _handling(self._on_signal)
        self._context.__enter__()
        return self

    def __exit__(self, *exc):
        self._context.__exit__(*exc)
        return False

    def _on_signal(self, signum, frame):
        if self.requested:
            raise StoppedAtOnce(signum)
        self.signal = signum
        if self.console.rank0:
            # straight to the descriptor: the handler may run while a buffered stream is busy
            # writing (a progress bar), and re-entering it would raise
            name = _NAMES.get(signum, b"a stop signal")
            os.write(2, b"\n" + name + b": finishing this step, then saving a checkpoint (Ctrl-C "
                     b"or SIGTERM again to stop at once without saving)\n")
