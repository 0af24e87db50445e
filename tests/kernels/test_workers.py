"""The kernel threads (``kernels/workers.py``): every task runs once and hands back its result
or its exception, whether the worker was spinning or asleep when it came."""

import threading
import time

import numpy as np
import pytest

from chainrule import kernels
from chainrule.kernels import handoff, workers


def test_serve_returns_the_new_value_or_the_old_one_after_its_rounds():
    counter, board, blas = np.array([5], np.int64), handoff.new_board(1), (0, 0)
    finished = np.zeros(1, np.int64)
    assert handoff.serve(counter, 4, 10**12, board, blas, finished, 0) == 5  # changed: at once
    assert finished[0] == 1  # (the flag of the task run before is raised first)
    assert handoff.serve(counter, 5, 1000, board, blas, finished, 0) == 5  # unchanged: 1000 rounds
    assert handoff.spinners(board) == 0


def test_serve_sees_another_threads_change():
    counter, board = np.zeros(1, np.int64), handoff.new_board(1)
    seen = []
    waiter = threading.Thread(
        target=lambda: seen.append(handoff.serve(counter, 0, 10**12, board, (0, 0),
                                                 np.zeros(1, np.int64), 0)))
    waiter.start()
    time.sleep(0.01)  # (it spins without the GIL: this thread runs meanwhile)
    counter[0] = 3
    waiter.join(timeout=60)
    assert seen == [3]


def test_tasks_run_once_with_results_and_exceptions_spinning_or_asleep(monkeypatch):
    spins = []
    real = workers._native_calls

    def counting():
        native = real()
        spins.append(native)
        return native

    monkeypatch.setattr(workers, "_native_calls", counting)
    pool = workers.Workers(2, "test-workers")
    seen = np.zeros(40, np.int64)

    def task(i):
        seen[i] += 1
        if i == 7:
            raise ValueError("task 7")
        return i * i

    futures = [pool.submit(task, i) for i in range(20)]  # back to back: spinning
    time.sleep(workers.SPIN_SECONDS * 5)  # past the spin: the next ones find it asleep
    futures += [pool.submit(task, i) for i in range(20, 40)]
    for i, future in enumerate(futures):
        if i == 7:
            with pytest.raises(ValueError, match="task 7"):
                future.result(timeout=60)
        else:
            assert future.result(timeout=60) == i * i
    assert (seen == 1).all()
    assert any(native is not None for native in spins)  # kernels on: the workers spun


def test_no_spinning_on_the_reference_path():
    with kernels.use_kernels(False):
        assert workers._native_calls() is None


def test_a_worker_woken_by_a_task_spins_again_after_it():
    """After a task that woke it from sleep, the worker spins (serves the board) rather than
    going back to sleep at once."""
    kernels.load("optim", np.zeros(1, np.float32), size=kernels.min_size())  # (numba loaded)
    pool = workers.Workers(1, "test-respin")
    assert pool.submit(lambda: 1).result(timeout=60) == 1  # (its spin length is timed)
    time.sleep(workers.SPIN_SECONDS * 5 + 0.05)  # past its spin: asleep on the queue
    pool._spins = 10**15  # from now on it spins until the next task, however long we look
    try:
        assert pool.submit(lambda: 7).result(timeout=60) == 7
        deadline = time.monotonic() + 10
        while handoff.spinners(pool._board) == 0:
            assert time.monotonic() < deadline, "the worker went back to sleep"
            time.sleep(0.001)
    finally:
        pool._spins = 1
        pool.submit(lambda: None).result(timeout=60)  # (it stops spinning)
