"""The kernel threads (``kernels/workers.py``): every task runs once and hands back its result
or its exception, whether the worker was spinning or asleep when it came."""

import threading
import time

import numpy as np
import pytest

from chainrule import kernels
from chainrule.kernels import _native, workers


def test_spin_while_returns_the_new_value_or_the_old_one_after_its_rounds():
    counter = np.array([5], np.int64)
    assert _native.spin_while(counter, 4, 10**12) == 5  # already changed: returns at once
    assert _native.spin_while(counter, 5, 1000) == 5  # unchanged: gives up after 1000 rounds


def test_spin_while_sees_another_threads_change():
    counter = np.zeros(1, np.int64)
    seen = []
    waiter = threading.Thread(target=lambda: seen.append(_native.spin_while(counter, 0, 10**12)))
    waiter.start()
    time.sleep(0.01)  # (it spins without the GIL: this thread runs meanwhile)
    counter[0] = 3
    waiter.join(timeout=60)
    assert seen == [3]


def test_tasks_run_once_with_results_and_exceptions_spinning_or_asleep(monkeypatch):
    spins = []
    real = workers._spinner

    def counting():
        spin = real()
        spins.append(spin)
        return spin

    monkeypatch.setattr(workers, "_spinner", counting)
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
    assert any(spin is _native.spin_while for spin in spins)  # kernels on: the workers spun


def test_no_spinning_on_the_reference_path():
    with kernels.use_kernels(False):
        assert workers._spinner() is None
