"""GEMM jobs handed to the kernel threads (``kernels/handoff.py``): each runs exactly once,
by a spinning thread, a woken one or the caller itself, and the split products it carries
equal NumPy's, in every layout the board takes; layouts it cannot take go as tasks."""

import threading
import time

import numpy as np
import pytest

from chainrule import kernels
from chainrule.kernels import _native, handoff, threads, workers

BLAS = _native.sgemm_address()
pytestmark = pytest.mark.skipif(not BLAS[0], reason="NumPy's sgemm was not found")


def _operands(m, k, n, trans_a=False, trans_b=False, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((k, m) if trans_a else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if trans_b else (k, n), dtype=np.float32)
    return (a.T if trans_a else a), (b.T if trans_b else b)


def _wait_for(board, slot, state):
    deadline = time.monotonic() + 60
    while board[slot * handoff.FIELDS + handoff.STATE] != state:
        assert time.monotonic() < deadline, "the job never reached its state"
        time.sleep(0.001)


def test_a_serving_thread_runs_the_job_and_the_caller_collects_it():
    a, b = _operands(40, 30, 20, trans_b=True)
    bias = np.arange(20, dtype=np.float32)
    out = np.full((40, 20), np.nan, np.float32)
    posted, board = np.zeros(1, np.int64), handoff.new_board(1)
    server = threading.Thread(target=handoff.serve,
                              args=(posted, 0, 10**12, board, BLAS, np.zeros(1, np.int64),
                                    _native.yield_address()))
    server.start()
    handoff.post(board, 1, *handoff.fields(a, b, out, bias))
    _wait_for(board, 1, handoff.DONE)  # (done before finish: the serving thread ran it)
    handoff.finish(board, 1, BLAS, 0)
    posted[0] += 1  # (the server leaves)
    server.join(timeout=60)
    np.testing.assert_allclose(out, a @ b + bias, rtol=1e-5, atol=1e-4)
    assert board[handoff.FIELDS + handoff.STATE] == handoff.IDLE


def test_the_caller_runs_a_job_that_nobody_took():
    a, b = _operands(33, 17, 9, trans_a=True)
    out = np.zeros((33, 9), np.float32)
    board = handoff.new_board(2)
    handoff.post(board, 2, *handoff.fields(a, b, out))
    handoff.finish(board, 2, BLAS, _native.yield_address())
    np.testing.assert_allclose(out, a @ b, rtol=1e-5, atol=1e-4)


def test_a_range_job_runs_its_kernel_on_a_serving_thread_or_the_caller():
    from chainrule.kernels import activation

    rng = np.random.default_rng(2)
    x = rng.standard_normal(10_000, dtype=np.float32)
    expected = np.empty_like(x)
    activation._gelu_range(0, x.size, 0, x, expected)
    for served in (True, False):
        y = np.full_like(x, np.nan)
        args = np.array([x.size, x.ctypes.data, y.ctypes.data], np.int64)
        posted, board = np.zeros(1, np.int64), handoff.new_board(2)
        server = threading.Thread(target=handoff.serve,
                                  args=(posted, 0, 10**12, board, BLAS, np.zeros(1, np.int64),
                                        _native.yield_address()))
        if served:
            server.start()
        handoff.post_call(board, 1, activation._gelu_job.address, 0, 4000, 0, args.ctypes.data)
        handoff.post_call(board, 2, activation._gelu_job.address, 4000, x.size, 1,
                          args.ctypes.data)
        if served:
            _wait_for(board, 2, handoff.DONE)
        handoff.finish(board, 1, BLAS, 0)
        handoff.finish(board, 2, BLAS, 0)
        posted[0] += 1
        if served:
            server.join(timeout=60)
        np.testing.assert_array_equal(y, expected)


def test_a_sleeping_worker_is_woken_for_its_job():
    kernels.load("optim", np.zeros(1, np.float32), size=kernels.min_size())  # (numba loaded)
    pool = workers.Workers(1, "test-handoff")
    time.sleep(workers.SPIN_SECONDS * 5 + 0.05)  # past its spin, if it ever spun: asleep
    a, b = _operands(64, 64, 64, seed=1)
    out = np.zeros((64, 64), np.float32)
    assert pool.hand_off([(a, b, out, None)])
    _wait_for(pool._board, 1, handoff.DONE)
    pool.finish(1)
    np.testing.assert_allclose(out, a @ b, rtol=1e-5, atol=1e-4)


def test_fields_refuse_what_row_major_blas_cannot_take():
    a, b = _operands(8, 6, 4)
    out = np.zeros((8, 4), np.float32)
    assert handoff.fields(a, b, out) is not None
    wide = np.zeros((8, 12), np.float32)
    assert handoff.fields(wide[:, ::2], b, out) is None  # no unit stride
    assert handoff.fields(a, b, np.zeros((4, 8), np.float32).T) is None  # columns of out
    assert handoff.fields(a.astype(np.float64), b, out) is None
    assert handoff.fields(a, b, out, np.ones(1, np.float32)) is None  # a broadcast bias
    assert handoff.fields(a, b, out, np.ones(8, np.float32)[::2]) is None


@pytest.mark.parametrize("trans_a, trans_b", [(False, False), (False, True), (True, False),
                                              (True, True)])
@pytest.mark.parametrize("by_rows", [True, False])
def test_a_blocks_fields_are_those_of_its_views(trans_a, trans_b, by_rows):
    """``block_fields``, arithmetic on the whole product's fields, gives what ``fields`` gives
    for the block's own views (a split product's blocks, bias row included)."""
    a, b = _operands(96, 40, 72, trans_a, trans_b)
    out = np.empty((96, 72), np.float32)[:, :70]  # (a row stride longer than the row)
    b, bias = b[:, :70], np.linspace(-1, 1, 70, dtype=np.float32)
    whole = handoff.fields(a, b, out, bias)
    for start, stop in [(0, 33), (33, 70)]:
        if by_rows:
            views = a[start:stop], b, out[start:stop], bias
        else:
            views = a, b[:, start:stop], out[:, start:stop], bias[start:stop]
        assert handoff.block_fields(whole, by_rows, start, stop) == handoff.fields(*views)


_POOLS = {}  # kernel threads per count (made once: their threads live on)
SHAPES = [(128, 784, 512), (512, 128, 784), (300, 160, 100), (96, 2048, 64)]


@pytest.mark.parametrize("m, k, n", SHAPES)
@pytest.mark.parametrize("trans_a, trans_b", [(False, False), (False, True), (True, False),
                                              (True, True)])
@pytest.mark.parametrize("cores", [2, 3])
def test_split_products_equal_numpys(monkeypatch, m, k, n, trans_a, trans_b, cores):
    """Rows, columns and the inner dimension (the last shape) split over 2 and 3 threads,
    through the board (kernels on) and as tasks (off), with and without a bias."""
    monkeypatch.setattr(threads, "free_cores", lambda: cores)
    monkeypatch.setitem(threads._state, "cap", cores)
    if cores not in _POOLS:
        _POOLS[cores] = workers.Workers(cores - 1, "chainrule-kernel-test")
    monkeypatch.setitem(threads._state, "pool", _POOLS[cores])
    handed = []
    real = workers.Workers.hand_off
    monkeypatch.setattr(workers.Workers, "hand_off",
                        lambda self, blocks, *given: handed.append(real(self, blocks, *given))
                        or handed[-1])
    a, b = _operands(m, k, n, trans_a, trans_b)
    bias = np.linspace(-1, 1, n, dtype=np.float32)
    expected = a.astype(np.float64) @ b
    kernels.load("optim", np.zeros(1, np.float32), size=kernels.min_size())
    for enabled in (True, False):
        with kernels.use_kernels(enabled):
            for row in (None, bias):
                got = threads.blas_matmul(a, b, bias=row)
                np.testing.assert_allclose(got, expected + (0 if row is None else row),
                                           rtol=1e-4, atol=1e-3)
    assert handed == [True, True, False, False]  # the board with kernels on, tasks without


def test_two_callers_at_once_both_get_their_products(monkeypatch):
    """The board takes one caller's jobs at a time; the other's go as tasks meanwhile."""
    monkeypatch.setattr(threads, "free_cores", lambda: 2)
    monkeypatch.setitem(threads._state, "cap", 2)
    kernels.load("optim", np.zeros(1, np.float32), size=kernels.min_size())
    failures = []

    def caller(seed):
        a, b = _operands(256, 256, 128, seed=seed)
        expected = a @ b
        for _ in range(50):
            if not np.allclose(threads.blas_matmul(a, b), expected, rtol=1e-4, atol=1e-3):
                failures.append(seed)

    callers = [threading.Thread(target=caller, args=(seed,)) for seed in (1, 2)]
    for thread in callers:
        thread.start()
    for thread in callers:
        thread.join(timeout=120)
    assert not failures


@pytest.mark.parametrize("cores", [1, 2])
def test_a_pair_of_products_side_by_side_equals_numpys(monkeypatch, cores):
    """A Linear's two backward products: with two free cores, each whole on its own thread
    (one block each), else one after the other; the values are NumPy's either way."""
    monkeypatch.setattr(threads, "free_cores", lambda: cores)
    monkeypatch.setitem(threads._state, "cap", 2)
    kernels.load("optim", np.zeros(1, np.float32), size=kernels.min_size())
    runs = []
    real = threads._run_blocks
    monkeypatch.setattr(threads, "_run_blocks", lambda blocks, *given: runs.append(
        [block[2].shape for block in blocks]) or real(blocks, *given))
    grad, w = _operands(128, 512, 300, seed=3)  # dy (128 x 512) and W (512 x 300)
    first, second = threads.blas_matmul_pair((grad, w), (grad.T, grad))
    np.testing.assert_allclose(first, grad.astype(np.float64) @ w, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(second, grad.T.astype(np.float64) @ grad, rtol=1e-4, atol=1e-3)
    assert runs == ([[(128, 300), (512, 512)]] if cores == 2 else [])
