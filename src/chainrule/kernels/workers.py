"""The kernel threads: a few Python threads that run ranges of work beside the calling thread
(``threads.parallel_ranges``, the split GEMMs), whose idle threads spin a moment before they
sleep.

NOTE: why spin. A thread asleep for the next range took 100-160 us to wake on this VM (its
virtual core had halted; measured at real-time priority, the round trip of an empty task after
2 ms idle: median 157 us, against 45 us for tasks back to back), where one half of a split
GEMM of the mlp step takes 0.5 ms; the step hands out ten such ranges. So after each task a
worker polls, with the GIL released (``_native.spin_while``), a counter that ``submit`` raises,
for ``SPIN_SECONDS``, and only then sleeps on the queue. Spinning needs numba (compiled code
that reads the counter without the GIL), so it happens only once numba is loaded and kernels
are on; the NumPy reference path never spins.
"""

import queue
import sys
import threading
import time
from concurrent.futures import Future

import numpy as np

__all__ = ["Workers", "SPIN_SECONDS"]

# A training step's ranges come within a millisecond or two of each other; a gap longer than
# this sleeps, so an idle process stops using the core soon after its last range.
SPIN_SECONDS = 0.002
_CALIBRATION_SPINS = 20_000


class Workers:
    """``count`` threads named ``prefix``_i that run ``submit(fn, *args)`` (returns a
    ``concurrent.futures.Future``)."""

    def __init__(self, count, prefix):
        self._tasks = queue.SimpleQueue()
        self._posted = np.zeros(1, np.int64)  # raised by submit, polled by spinning workers
        self._spins = None
        for index in range(count):
            threading.Thread(target=self._work, name=f"{prefix}_{index}", daemon=True).start()

    def submit(self, fn, *args):
        future = Future()
        self._tasks.put((future, fn, args))
        self._posted[0] += 1  # (under the GIL: one in-place add at a time)
        return future

    def _work(self):
        seen = int(self._posted[0])
        while True:
            spin = _spinner()
            if spin is not None:
                seen = spin(self._posted, seen, self._spin_rounds(spin))
            future, fn, args = self._tasks.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as error:  # noqa: BLE001 - handed to the caller, as a pool does
                future.set_exception(error)
            del future, fn, args  # (the arrays of a finished task are not held while idle)

    def _spin_rounds(self, spin):
        """How many spin rounds take ``SPIN_SECONDS`` here (timed once: a round's ``pause``
        takes 10-140 cycles, by CPU)."""
        if self._spins is None:
            still = np.zeros(1, np.int64)
            spin(still, 0, 1)  # (compiled or loaded from the cache before it is timed)
            start = time.perf_counter()
            spin(still, 0, _CALIBRATION_SPINS)
            elapsed = max(time.perf_counter() - start, 1e-6)
            self._spins = max(int(_CALIBRATION_SPINS * SPIN_SECONDS / elapsed), 1)
        return self._spins


def _spinner():
    """``_native.spin_while`` once numba is loaded and kernels are on, else None."""
    from . import _settings, available

    if "numba" not in sys.modules or not _settings["enabled"] or not available():
        return None
    from ._native import spin_while

    return spin_while
