"""``threads.compiled_ranges``: compiled range kernels run side by side on numba's threading
layer, as jobs on the kernel pool's board while a pool thread spins, and fall back to the
kernel pool where that layer cannot be shared or after a fork."""

import os

import numba
import numpy as np
import pytest

from chainrule.kernels import _jit, activation, loss, norm, softmax, threads


@_jit.jit
def _count_rows(start, stop, part, seen, parts):
    for i in range(start, stop):
        seen[i] += 1
    parts[part] += 1


@_jit.side_by_side
def _count_rows_side_by_side(bounds, seen, parts):
    for part in numba.prange(bounds.size - 1):
        _count_rows(bounds[part], bounds[part + 1], part, seen, parts)


@pytest.fixture
def two_free_cores(monkeypatch):
    monkeypatch.setattr(threads, "free_cores", lambda: 2)
    monkeypatch.setitem(threads._state, "cap", 2)


def test_every_row_once_in_parts_side_by_side(two_free_cores):
    seen = np.zeros(1001, np.int64)
    parts = np.zeros(2, np.int64)
    used = threads.compiled_ranges(_count_rows, _count_rows_side_by_side, 1001, 1 << 20, seen,
                                   parts)
    assert used == 2 and parts.tolist() == [1, 1]
    assert (seen == 1).all()


def test_the_split_kernels_give_what_one_range_gives(two_free_cores, monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3000, 200)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    weight, bias = rng.standard_normal((2, 200)).astype(np.float32)
    results = []
    for size in (threads.KERNEL_PARALLEL_SIZE, 1 << 40):  # split, then one range
        monkeypatch.setattr(threads, "KERNEL_PARALLEL_SIZE", size)
        y = softmax.softmax(x, log=False)
        y_norm, mean, rstd = norm.layer_norm(x, weight, bias, 1e-5, 200)
        target = np.arange(3000) % 200
        target[::7] = -100  # (ignored rows)
        ce_loss, lse = loss.cross_entropy(x, target, -100, 0.1)
        ce_grad = loss.cross_entropy_backward(x, target, -100, 0.1, lse,
                                              np.full(3000, 0.5, np.float32))
        results.append([y, softmax.softmax_backward(y, dy, log=False), ce_loss, lse, ce_grad,
                        activation.gelu(x),
                        activation.gelu_backward(x, dy), y_norm,
                        *norm.layer_norm_backward(x, weight, dy, mean, rstd, 200,
                                                  (True, True, True))])
    split, whole = results
    # (row by row the same values, but for the order of a row's sums: a twin loaded from
    # numba's disk cache differs from a fresh compile there, by an ulp in some rows)
    for a, b in zip(split[:-2], whole[:-2]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    for a, b in zip(split[-2:], whole[-2:]):  # dweight, dbias: summed per part, then added
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4)


def test_without_a_shareable_threading_layer_the_pool_runs_the_ranges(two_free_cores,
                                                                       monkeypatch):
    monkeypatch.setitem(threads._state, "side_by_side", None)
    monkeypatch.setattr(_jit, "threading_layer_is_safe", lambda: False)
    ran = []
    monkeypatch.setattr(threads, "run_ranges", lambda kernel, bounds, *args: ran.append(bounds))
    threads.compiled_ranges(_count_rows, _count_rows_side_by_side, 1001, 1 << 20,
                            np.zeros(1001, np.int64), np.zeros(2, np.int64))
    assert ran == [[0, 500, 1001]]


def test_while_a_pool_thread_spins_the_pool_runs_the_ranges(two_free_cores, monkeypatch):
    monkeypatch.setattr(threads, "_pool_spinning", lambda: True)
    ran = []
    monkeypatch.setattr(threads, "run_ranges", lambda kernel, bounds, *args: ran.append(bounds))
    threads.compiled_ranges(_count_rows, _count_rows_side_by_side, 1001, 1 << 20,
                            np.zeros(1001, np.int64), np.zeros(2, np.int64))
    assert ran == [[0, 500, 1001]]


def test_while_a_pool_thread_spins_kernels_with_a_job_post_their_ranges(two_free_cores,
                                                                         monkeypatch):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1200, 500)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    weight, bias = rng.standard_normal((2, 500)).astype(np.float32)

    def everything():
        y, mean, rstd = norm.layer_norm(x, weight, bias, 1e-5, 500)
        return [activation.gelu(x), activation.gelu_backward(x, dy), activation.gelu_tanh(x),
                activation.gelu_tanh_backward(x, dy), activation.relu_backward(x, dy),
                activation.ndtr(x), y, mean, rstd,
                *norm.layer_norm_backward(x, weight, dy, mean, rstd, 500, (True, True, True)),
                *norm.layer_norm_backward(x, weight, dy, mean, rstd, 500, (False, True, True))[1:]]

    whole = everything()
    monkeypatch.setattr(threads, "_pool_spinning", lambda: True)
    posted = []
    pool = threads._pool()
    hand_off_ranges = pool.hand_off_ranges
    monkeypatch.setattr(pool, "hand_off_ranges",
                        lambda job, bounds, args: posted.append(bounds) or
                        hand_off_ranges(job, bounds, args))
    monkeypatch.setattr(threads, "run_ranges", None)  # (never the pool's tasks)
    split = everything()
    assert len(posted) == 9 and all(len(bounds) == 3 for bounds in posted)
    for a, b in zip(split[:-4], whole[:-4]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    for a, b in zip(split[-4:], whole[-4:]):  # dweight, dbias: summed per part, then added
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4)


def test_pool_spinning_reads_the_pools_board(monkeypatch):
    class Pool:
        _board = np.zeros(32, np.int64)

    monkeypatch.setitem(threads._state, "pool", Pool())
    assert not threads._pool_spinning()
    Pool._board[0] = 1  # (handoff's count of spinning threads)
    assert threads._pool_spinning()
    monkeypatch.setitem(threads._state, "pool", None)
    assert not threads._pool_spinning()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_runs_the_ranges_on_the_pool(two_free_cores):
    seen = np.zeros(1001, np.int64)
    threads.compiled_ranges(_count_rows, _count_rows_side_by_side, 1001, 1 << 20, seen,
                            np.zeros(2, np.int64))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: GNU OpenMP would end it in a parallel region its parent used
        try:
            child_seen = np.zeros(1001, np.int64)
            threads.compiled_ranges(_count_rows, _count_rows_side_by_side, 1001, 1 << 20,
                                    child_seen, np.zeros(2, np.int64))
            ok = threads._state["side_by_side"] is False and (child_seen == 1).all()
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    assert answer == b"1"


def test_the_threading_layer_answer_names_a_layer():
    assert _jit.threading_layer_is_safe() == (numba.threading_layer() in ("omp", "tbb"))
