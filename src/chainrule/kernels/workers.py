"""The kernel threads: a few Python threads that run ranges of work beside the calling thread
(``threads.parallel_ranges``, the split GEMMs), whose idle threads spin a moment before they
sleep, and take the split GEMMs' blocks and compiled kernels' ranges as they spin
(``handoff.py``).

NOTE: why spin. A thread asleep for the next range took 100-160 us to wake on this VM (its
virtual core had halted; measured at real-time priority, the round trip of an empty task after
2 ms idle: median 157 us, against 45 us for tasks back to back), where one half of a split
GEMM of the mlp step takes 0.5 ms; the step hands out ten such ranges. So after each task a
worker polls, with the GIL released (``handoff.serve``), a counter that ``submit`` raises,
for ``SPIN_SECONDS``, and only then sleeps on the queue. Spinning needs numba (compiled code
that reads the counter without the GIL), so it happens only once numba is loaded and kernels
are on; the NumPy reference path never spins.
"""

import math
import queue
import sys
import threading
import time

import numpy as np

from .threads import lazy_module

__all__ = ["Workers", "SPIN_SECONDS"]

# A training step's ranges come within a millisecond or two of each other; a gap longer than
# this sleeps, so an idle process stops using the core soon after its last range.
SPIN_SECONDS = 0.002
_CALIBRATION_SPINS = 5_000
_CALIBRATIONS = 5


class Workers:
    """``count`` threads named ``prefix``_i that run ``submit(fn, *args)`` (returns a
    ``Task``, whose ``result()`` waits for it), and GEMMs posted with ``hand_off``."""

    def __init__(self, count, prefix):
        self._tasks = queue.SimpleQueue()
        self._posted = np.zeros(1, np.int64)  # raised by submit, polled by spinning workers
        self._taken = np.zeros(1, np.int64)  # raised as a worker takes a task from the queue
        self._spins = None
        self._board = None  # the GEMM jobs' board (handoff.py), made with the compiled code
        self._board_lock = threading.Lock()  # one caller's jobs on the board at a time
        self._count = count
        for index in range(count):
            threading.Thread(target=self._work, name=f"{prefix}_{index}", daemon=True).start()

    def submit(self, fn, *args):
        task = Task(self)
        self._tasks.put((task, fn, args))
        self._posted[0] += 1  # (under the GIL: one in-place add at a time)
        return task

    def hand_off(self, blocks, native=None, fields=None):
        """Post GEMMs ``out = a @ b (+ bias)``, one per block ``(a, b, out, bias)``, as jobs
        for the kernel threads (``handoff.py``), and wake those that are not spinning; True
        when posted: the caller must then call ``finish(len(blocks))``. False, with nothing
        posted, without the compiled code, for a block BLAS cannot take as it is, for more
        blocks than threads, or while another caller's jobs are on the board (the caller then
        submits tasks instead). ``native``: ``_native_calls()`` where the caller has it;
        ``fields``: each block's ``handoff.fields`` where the caller has them."""
        if native is None:
            native = _native_calls()
        if native is None or len(blocks) > self._count:
            return False
        handoff = native[0]
        jobs = fields if fields is not None else [handoff.fields(*block) for block in blocks]
        if None in jobs:
            return False
        return self._post(handoff, [(handoff.post, job) for job in jobs])

    def hand_off_ranges(self, job, bounds, args):
        """Post parts 1, 2, ... of ``bounds`` (``threads.range_bounds``) as calls of the range
        job ``job`` (``_jit.RangeJob``) with the argument block ``args`` (an int64 array the
        caller keeps until ``finish``); True when posted, as ``hand_off``: the caller runs
        part 0 itself, then calls ``finish(len(bounds) - 2)``."""
        native = _native_calls()
        if native is None or len(bounds) - 2 > self._count:
            return False
        handoff, address, block = native[0], job.address, args.ctypes.data
        return self._post(handoff, [(handoff.post_call, (address, lo, hi, part, block))
                                    for part, (lo, hi) in enumerate(zip(bounds[1:-1],
                                                                        bounds[2:]), 1)])

    def _post(self, handoff, posts):
        """Each ``(post, fields)`` into its own slot (1, 2, ...) of the board, if no other
        caller's jobs are there; the threads that are not spinning woken for them."""
        if not self._board_lock.acquire(blocking=False):
            return False
        board = self._ensure_board(handoff)
        for slot, (post, fields) in enumerate(posts, 1):
            post(board, slot, *fields)
        for _ in range(len(posts) - handoff.spinners(board)):
            self.submit(_nothing)  # a thread asleep on the queue wakes, then serves the board
        return True

    def finish(self, count, native=None):
        """Wait for the ``count`` jobs of ``hand_off`` (running those no thread took);
        ``native`` as there."""
        handoff, blas, yield_to = native or _native_calls()
        try:
            for slot in range(1, count + 1):
                handoff.finish(self._board, slot, blas, yield_to)
        finally:
            self._board_lock.release()

    def _ensure_board(self, handoff):
        if self._board is None:
            self._board = handoff.new_board(self._count)
        return self._board

    def _work(self):
        finished = np.zeros(1, np.int64)  # the flag of the task this thread ran last
        while True:
            native = _native_calls()
            if native is not None:
                handoff, blas, yield_to = native
                # NOTE: spin while every task posted has been taken. (Spinning while the count
                # posted stayed as this thread last saw it lagged one task behind after any
                # sleep: woken by a task, the thread saw the count move, went back to sleep
                # on the queue at once, and never spun again.)
                handoff.serve(self._posted, int(self._taken[0]),
                              self._spin_rounds(handoff, blas), self._ensure_board(handoff),
                              blas, finished, yield_to)
            else:
                finished[0] = 1
            task, fn, args = self._tasks.get()
            self._taken[0] += 1  # (under the GIL: one in-place add at a time)
            try:
                value, error = fn(*args), None
            except BaseException as caught:  # noqa: BLE001 - handed to the caller, as a pool does
                value, error = None, caught
            task._finish(value, error)
            finished = task._done  # (raised by serve, or above)
            del task, fn, args, value, error  # (a finished task's arrays are not held while idle)

    def _spin_rounds(self, handoff, blas):
        """How many spin rounds take ``SPIN_SECONDS`` here (timed once: a round's ``pause``
        takes 10-140 cycles, by CPU). The fastest of a few timings: a thread that loses its
        core while timed (a loaded machine) counts each round too long, and would then spin
        for less than meant, for the life of the process."""
        if self._spins is None:
            still, flag = np.zeros(1, np.int64), np.zeros(1, np.int64)
            empty = handoff.new_board(0)
            handoff.serve(still, 0, 1, empty, blas, flag, 0)  # (compiled or loaded first)
            fastest = math.inf
            for _ in range(_CALIBRATIONS):
                start = time.perf_counter()
                handoff.serve(still, 0, _CALIBRATION_SPINS, empty, blas, flag, 0)
                fastest = min(fastest, time.perf_counter() - start)
            self._spins = max(int(_CALIBRATION_SPINS * SPIN_SECONDS / max(fastest, 1e-6)), 1)
        return self._spins


class Task:
    """A submitted task's outcome: ``result()`` returns its value or raises its exception.
    NOTE: the caller waits spinning, without the GIL, on a flag the worker raises (at most
    ``SPIN_SECONDS``, then asleep on a lock): woken through a futex instead, the caller took
    26-40 us to return after the worker had finished, where a range of a split kernel takes
    0.1-0.3 ms."""

    __slots__ = ("_pool", "_done", "_asleep", "_value", "_error")

    def __init__(self, pool):
        self._pool = pool
        self._done = np.zeros(1, np.int64)  # 1 once the task ran
        self._asleep = threading.Lock()  # held until the task ran
        self._asleep.acquire()
        self._value = self._error = None

    def _finish(self, value, error):
        """The worker's part, with the GIL: the outcome, and the caller woken if asleep; the
        flag a spinning caller waits on is raised after, once the worker has let go of the GIL
        (``handoff.serve``): woken while the worker still held it, the caller waited 20-60 us
        to take it (CPython wakes a thread waiting for the GIL through a futex)."""
        self._value, self._error = value, error
        self._asleep.release()

    def result(self, timeout=None):
        """The task's return value (or its exception, raised), once it ran; TimeoutError
        after ``timeout`` seconds."""
        if not self._done[0]:
            native = _native_calls()
            if native is not None:
                handoff, blas, yield_to = native
                handoff.spin_while(self._done, 0, self._pool._spin_rounds(handoff, blas),
                                   yield_to)
            if not self._done[0] and not self._asleep.acquire(
                    timeout=-1 if timeout is None else timeout):
                raise TimeoutError(f"the task did not finish in {timeout} s")
        if self._error is not None:
            raise self._error
        return self._value


def _nothing():
    """The task that wakes a sleeping worker (it then serves the board)."""


def _native_calls():
    """(the ``handoff`` module, the sgemm of the GEMM jobs as ``(address, bits)``,
    ``sched_yield``'s address) once numba is loaded, kernels are on and NumPy's sgemm was
    found; else None. The jobs' sgemm is MKL's where the ``mkl`` wheel is there
    (``_native.kernel_sgemm_address``; ``threads`` then runs the caller's blocks on it too),
    else NumPy's. NOTE: asked two or three times per split product: the modules it reads come
    from ``threads.lazy_module`` (an import statement in a function costs ~0.5 us a call)."""
    if "numba" not in sys.modules:
        return None
    kernels = sys.modules[__package__]  # (this module's package: imported before it)
    if not kernels.enabled() or not kernels.available():
        return None
    native = lazy_module("_native")
    if not native.sgemm_address()[0]:
        return None
    return lazy_module("handoff"), native.kernel_sgemm_address(), native.yield_address()
