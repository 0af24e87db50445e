"""The kernels' switches and the thread policy (no timing here: speed is judged in bench/)."""

import os
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import kernels
from chainrule.kernels import _jit, threads


def test_environment_variable_turns_kernels_off():
    code = ("import numpy as np; from chainrule import kernels; "
            "print(kernels.load('activation', np.zeros(1 << 20, np.float32)))")
    env = dict(os.environ, CHAINRULE_KERNELS="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "None"


def test_import_does_not_load_numba():
    code = "import sys, chainrule; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_without_numba_the_reference_runs(monkeypatch):
    monkeypatch.setattr(kernels, "_numba_ok", False)
    monkeypatch.setattr(kernels, "_loaded", {})
    x = np.linspace(-3, 3, 10000, dtype=np.float32)
    assert kernels.load("activation", x) is None
    y = cr.nn.functional.gelu(cr.tensor(x)).numpy()
    with kernels.use_kernels(False):
        np.testing.assert_array_equal(y, cr.nn.functional.gelu(cr.tensor(x)).numpy())


def test_unwritable_cache_still_compiles(monkeypatch):
    real = _jit.numba.njit

    def no_cache_location(*args, cache=False, **options):
        if cache:
            raise RuntimeError("cannot cache function: no locator available")
        return real(*args, **options)

    monkeypatch.setattr(_jit.numba, "njit", no_cache_location)

    def twice(a):
        return a * 2

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _jit.jit(twice)(np.float32(3.0)) == 6.0


def test_set_num_threads_caps_the_policy():
    saved = cr.get_num_threads()
    try:
        cr.set_num_threads(1)
        assert cr.get_num_threads() == 1
        assert threads.threads_for(1 << 40, 1) == 1
        with pytest.raises(ValueError, match="positive integer"):
            cr.set_num_threads(0)
    finally:
        cr.set_num_threads(saved)


def test_free_cores_is_between_one_and_the_cores():
    assert 1 <= threads.free_cores() <= os.cpu_count()


def _measured_free_cores(monkeypatch, seconds_ago, others_busy, runnable=0):
    """free_cores() on a 4-core machine after ``seconds_ago`` seconds in which other processes
    used ``others_busy`` cores and this one 0.5, with ``runnable`` threads runnable elsewhere."""
    monkeypatch.setattr(threads, "_CORES", 4)
    monkeypatch.setattr(threads, "_state", {**threads._state, "cap": 4})
    monkeypatch.setattr(threads, "_sample", {"at": time.monotonic() - seconds_ago,
                                             "busy": 100.0, "own": 10.0, "free": None})
    own = 10.0 + 0.5 * seconds_ago
    monkeypatch.setattr(threads, "_own_seconds", lambda: own)
    monkeypatch.setattr(threads, "_busy_seconds",
                        lambda: 100.0 + (others_busy + 0.5) * seconds_ago)
    monkeypatch.setattr(threads, "_runnable_elsewhere", lambda: runnable)
    return threads.free_cores()


def test_free_cores_counts_what_other_processes_used_since_the_last_sample(monkeypatch):
    assert _measured_free_cores(monkeypatch, 1.0, others_busy=0.0) == 4
    assert _measured_free_cores(monkeypatch, 1.0, others_busy=1.0) == 3
    assert _measured_free_cores(monkeypatch, 2.0, others_busy=2.9) == 1
    assert _measured_free_cores(monkeypatch, 1.0, others_busy=7.0) == 1  # never below one


def test_free_cores_counts_runnable_threads_when_the_interval_is_too_short(monkeypatch):
    # (the CPU-time measure would say 4 free: nothing was used in 10 ms)
    assert _measured_free_cores(monkeypatch, 0.01, others_busy=0.0, runnable=2) == 2
    assert _measured_free_cores(monkeypatch, 0.01, others_busy=0.0, runnable=0) == 4


def test_an_instant_count_holds_only_until_the_interval_can_be_measured(monkeypatch):
    """The runnable threads at one instant are a guess (a process's first product comes
    within 0.1 s of import): the interval since the last sample goes on, and is measured as
    soon as it is long enough, rather than the guess kept for half a second."""
    assert _measured_free_cores(monkeypatch, 0.01, others_busy=0.0, runnable=2) == 2
    assert threads.free_cores() == 2  # (still too short: the guess stands)
    threads._sample["at"] -= 0.2  # 0.21 s since the last sample, in which others used nothing
    assert threads.free_cores() == 4


def test_free_cores_keeps_its_answer_for_half_a_second(monkeypatch):
    first = _measured_free_cores(monkeypatch, 1.0, others_busy=3.0)
    monkeypatch.setattr(threads, "_busy_seconds", lambda: 1e9)  # (would say: all busy)
    assert first == 1 and threads.free_cores() == 1
    threads._sample["at"] -= 0.6
    threads._sample["busy"] = 1e9 - 0.1  # others used ~0.1 s of CPU in 0.6 s
    assert threads.free_cores() == 4


def test_a_core_shared_with_another_process_is_not_free(monkeypatch):
    """A process that keeps a core busy gets half of it while one of ours runs there too: half
    a core used by others means a core they want, not half a core free."""
    assert _measured_free_cores(monkeypatch, 1.0, others_busy=0.5) == 3
    assert _measured_free_cores(monkeypatch, 1.0, others_busy=1.5) == 2
    assert _measured_free_cores(monkeypatch, 1.0, others_busy=0.3) == 4  # a light load: free


def test_parallel_ranges_cover_every_row_once(monkeypatch):
    monkeypatch.setattr(threads, "free_cores", lambda: 2)
    monkeypatch.setitem(threads._state, "cap", 2)
    seen = np.zeros(1001, np.int64)
    parts = []

    def kernel(start, stop, part, out):
        out[start:stop] += 1
        parts.append(part)

    used = threads.parallel_ranges(kernel, 1001, 1 << 20, seen)
    assert used == 2 and sorted(parts) == [0, 1]
    assert (seen == 1).all()


def test_range_bounds_are_the_split_that_runs(monkeypatch):
    # a caller lays data out by these bounds (the LSTM's W_hh^T per thread), then runs them
    monkeypatch.setattr(threads, "free_cores", lambda: 4)
    monkeypatch.setitem(threads._state, "cap", 4)
    assert threads.range_bounds(5, 1 << 20, parts=2) == [0, 2, 5]
    assert threads.range_bounds(5, 1) == [0, 5]  # too little work: one range
    seen = []
    used = threads.run_ranges(lambda start, stop, part: seen.append((start, stop, part)),
                              [0, 2, 5])
    assert used == 2 and sorted(seen) == [(0, 2, 0), (2, 5, 1)]


def test_blas_matmul_is_matmul():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((300, 200)), rng.standard_normal((200, 100))
    np.testing.assert_allclose(threads.blas_matmul(a, b), a @ b)
    np.testing.assert_allclose(threads.blas_matmul(a[0], b), a[0] @ b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int64])
def test_a_small_product_is_matmul_bit_for_bit(dtype):
    """A small product of two matrices goes through ``ndarray.dot`` (the same BLAS GEMM, less
    dispatch): np.matmul's bits, for the layouts the ops pass (transposed operands, strided
    views, a dimension of 1 or 0) and for dtypes BLAS does not take (float16, ints)."""
    rng = np.random.default_rng(0)
    for m, k, n in [(8, 16, 16), (1, 7, 5), (33, 1, 2), (16, 16, 1), (0, 4, 3), (5, 0, 6)]:
        a = (rng.standard_normal((m, 2 * k)) * 4).astype(dtype)
        b = (rng.standard_normal((n, k)) * 4).astype(dtype)
        for left, right in [(a[:, :k], b.T), (a[:, ::2], b.T), (np.ascontiguousarray(a[:, :k]),
                                                                 np.ascontiguousarray(b.T)),
                            (np.asfortranarray(a[:, :k]), b[::-1].T)]:
            got = threads.blas_matmul(left, right)
            want = np.matmul(left, right)
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got, want)
            bias = rng.standard_normal(n).astype(dtype)
            want += bias
            np.testing.assert_array_equal(threads.blas_matmul(left, right, bias=bias), want)


def test_a_broken_numba_install_falls_back_with_a_warning(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def broken(name, *args, **kwargs):
        if name == "numba":
            raise AttributeError("module 'types' has no attribute 'Tracer'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", broken)
    monkeypatch.setattr(kernels, "_numba_ok", None)
    monkeypatch.setattr(kernels, "_loaded", {})
    with pytest.warns(RuntimeWarning, match="numba is installed but failed to import"):
        assert kernels.load("activation", np.zeros(1 << 18, np.float32)) is None


def test_parallel_gemms_cover_every_row_once_with_one_blas_thread(monkeypatch):
    monkeypatch.setattr(threads, "free_cores", lambda: 2)
    monkeypatch.setitem(threads._state, "cap", 2)
    seen = np.zeros(7, np.int64)
    blas = []

    def task(start, stop, matmul):
        seen[start:stop] += 1
        blas.append(threads._state["blas_threads"])
        a = np.ones((stop - start, 2, 3))
        assert (matmul(a, np.ones((3, 4))) == 3).all()

    assert threads.parallel_gemms(task, 7, 1 << 40) == 2
    assert (seen == 1).all() and set(blas) <= {1, None}
    seen[:] = 0
    assert threads.parallel_gemms(task, 7, 1) == 1  # small work: one call
    assert (seen == 1).all()


def test_parallel_claims_hand_out_every_piece_once(monkeypatch):
    monkeypatch.setattr(threads, "free_cores", lambda: 2)
    monkeypatch.setitem(threads._state, "cap", 2)
    seen = np.zeros(9, np.int64)
    parts = []

    def task(claim, matmul, part):
        parts.append(part)
        while (piece := claim()) is not None:
            seen[piece] += 1
            assert (matmul(np.ones((2, 3)), np.ones((3, 4))) == 3).all()

    assert threads.parallel_claims(task, 9, 1 << 40) == 2
    assert (seen == 1).all() and sorted(parts) == [0, 1]
    seen[:] = 0
    assert threads.parallel_claims(task, 9, 1) == 1  # small work: one call
    assert (seen == 1).all()


def test_parallel_claims_let_a_thread_that_falls_behind_take_fewer(monkeypatch):
    """A thread held up elsewhere (here: until the other has run out of pieces) leaves its
    pieces to the others instead of a fixed share that the caller would wait for."""
    import threading

    monkeypatch.setattr(threads, "free_cores", lambda: 2)
    monkeypatch.setitem(threads._state, "cap", 2)
    taken = {0: [], 1: []}
    caller_done = threading.Event()

    def task(claim, matmul, part):
        if part == 1:
            assert caller_done.wait(10)
        while (piece := claim()) is not None:
            taken[part].append(piece)
        if part == 0:
            caller_done.set()

    threads.parallel_claims(task, 8, 1 << 40)
    assert taken == {0: list(range(8)), 1: []}


@pytest.mark.parametrize("shape", [(2048, 64, 40), (40, 64, 2048), (2049, 33, 2048),
                                   (64, 4097, 40)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_big_gemm_split_over_the_pool_is_matmul(monkeypatch, shape, dtype):
    """Above GEMM_PARALLEL_MACS with two free cores, a product of matrices is cut into blocks of
    rows (or of columns when it is wider than tall; of the inner dimension, the partial
    products summed, when that is 4x longer than both), one per thread, BLAS on one thread:
    np.matmul's values, transposed views and ``out`` included."""
    monkeypatch.setattr(threads, "free_cores", lambda: 2)
    monkeypatch.setitem(threads._state, "cap", 2)
    m, k, n = shape
    assert m * k * n >= threads.GEMM_PARALLEL_MACS
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    want = np.matmul(a, b)
    np.testing.assert_allclose(threads.blas_matmul(a, b), want, rtol=1e-5, atol=1e-4)
    assert threads._state["blas_threads"] == 1
    at, bt = np.asfortranarray(a), np.asfortranarray(b)
    out = np.empty((m, n), dtype)
    assert threads.blas_matmul(at.T.T, bt, out=out) is out
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(threads.blas_matmul(b.T, a.T), want.T, rtol=1e-5, atol=1e-4)
    # from a pool thread it never waits on the pool (one thread: it would deadlock)
    pool_result = threads._pool().submit(threads.blas_matmul, a, b).result(timeout=60)
    np.testing.assert_allclose(pool_result, want, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("shape", [(2048, 64, 40), (40, 64, 2048), (64, 4097, 40)])
@pytest.mark.parametrize("bias_shape", [None, (1,)])
def test_a_split_gemm_adds_the_bias_block_by_block(monkeypatch, shape, bias_shape):
    """``blas_matmul(a, b, bias=...)``: split by rows or by columns, or in one call, the
    product plus the bias on every row (a split product rounds as BLAS blocks it)."""
    m, k, n = shape
    rng = np.random.default_rng(1)
    a, b = (rng.standard_normal(s).astype(np.float32) for s in ((m, k), (n, k)))
    bias = rng.standard_normal(bias_shape or (n,)).astype(np.float32)
    want = np.matmul(a, b.T)
    want += bias
    for cores in (1, 2):
        monkeypatch.setattr(threads, "free_cores", lambda cores=cores: cores)
        monkeypatch.setitem(threads._state, "cap", 2)
        np.testing.assert_allclose(threads.blas_matmul(a, b.T, bias=bias), want, rtol=1e-5,
                                   atol=1e-5 * np.sqrt(k))  # (float32 sums of k products)
