"""The kernels' sgemm: MKL's where the ``mkl`` wheel is installed on an Intel CPU, NumPy's
otherwise (``kernels._native.kernel_sgemm_address``); the recurrences agree with the reference
on either, however the backward's two threads share its weight gradients, and the ops' big
products (``threads.blas_matmul``) run on it, every block of a split product alike."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.kernels import _mkl, _native, threads

from .check import assert_directional_derivative, assert_paths_agree
from .test_pool_recurrent import _gru_run, _lstm_run

_MKL_HERE = _mkl.library_path() is not None and _mkl._intel_cpu()


def test_kernel_sgemm_is_mkl_where_it_is_installed():
    if not _MKL_HERE:
        pytest.skip("the mkl wheel is not installed here, or the CPU is not Intel's")
    address, bits = _native.kernel_sgemm_address()
    assert (address, bits) == _mkl.sgemm()
    assert address != _native.sgemm_address()[0]


def test_mkl_is_left_out_when_asked(monkeypatch):
    monkeypatch.setenv("CHAINRULE_MKL", "0")
    assert _mkl.sgemm() == (0, 0)


def test_mkl_is_left_out_where_it_is_not_installed(monkeypatch):
    monkeypatch.setattr(_mkl, "library_path", lambda: None)
    assert _mkl.sgemm() == (0, 0)
    monkeypatch.delitem(_native._found, "kernel_sgemm", raising=False)
    assert _native.kernel_sgemm_address() == _native.sgemm_address()


@pytest.fixture(params=["numpy", "mkl"])
def blas(request, monkeypatch):
    """The recurrences' sgemm set to NumPy's or to MKL's (skipped where MKL is not here)."""
    if request.param == "mkl":
        if not _MKL_HERE:
            pytest.skip("the mkl wheel is not installed here, or the CPU is not Intel's")
        monkeypatch.delitem(_native._found, "kernel_sgemm", raising=False)
        assert _native.kernel_sgemm_address() == _mkl.sgemm()
    else:
        monkeypatch.setitem(_native._found, "kernel_sgemm", _native.sgemm_address())
    return request.param


def test_the_kernels_sgemm_is_named_as_it_is_chosen(blas):
    from importlib import metadata

    expected = f"MKL {metadata.version('mkl')}" if blas == "mkl" else "NumPy's BLAS"
    assert _native.kernel_sgemm_name() == expected


@pytest.mark.parametrize("cores", [1, 2])
def test_recurrences_match_reference_on_either_blas(blas, monkeypatch, cores):
    # two cores: the forward split by units, the backward's weight gradients on the pool
    monkeypatch.setattr(threads, "free_cores", lambda: cores)
    monkeypatch.setitem(threads._state, "cap", cores)
    monkeypatch.setattr(threads, "KERNEL_PARALLEL_SIZE", 1)
    monkeypatch.setattr(threads, "GEMM_PARALLEL_MACS", 1)
    x = (np.random.default_rng(2).standard_normal((3, 7, 6)) * 2).astype(np.float32)
    assert_paths_agree(_lstm_run(2, True), x, rtol=1e-4, atol=2e-6)
    assert_paths_agree(_gru_run(2, True), x, rtol=1e-4, atol=2e-6)


def test_wide_lstm_matches_reference_on_either_blas(blas):
    # products big enough for a BLAS's blocked path (64 units: 256 gate columns)
    def run(x):
        cr.manual_seed(0)
        lstm = nn.LSTM(24, 64, batch_first=True)
        out, (h, c) = lstm(x)
        (out.square().sum() + h.sum() + c.sum()).backward()
        return [out.detach().numpy(), x.grad.numpy()] + [p.grad.numpy()
                                                          for p in lstm.parameters()]

    x = np.random.default_rng(3).standard_normal((16, 9, 24)).astype(np.float32)
    assert_paths_agree(run, x, rtol=2e-4, atol=2e-5)


def test_lstm_gradient_matches_finite_differences_on_either_blas(blas):
    x = np.random.default_rng(1).standard_normal((2, 4, 6)).astype(np.float32)
    cr.manual_seed(0)
    lstm = nn.LSTM(6, 5, batch_first=True)
    w = np.random.default_rng(3).standard_normal((2, 4, 5)).astype(np.float32)

    def loss(a):
        return float((lstm(cr.tensor(a))[0] * cr.tensor(w)).sum())

    def gradient(a):
        t = cr.tensor(a, requires_grad=True)
        (lstm(t)[0] * cr.tensor(w)).sum().backward()
        return t.grad.numpy()

    assert_directional_derivative(loss, gradient, x)


class _LatePool:
    """The kernel pool, but a task submitted runs only when its result is asked for: after
    the calling thread has run BPTT and claimed every chunk of the weight gradients itself.
    (Only for independent tasks: the forward's units, which meet at a barrier, stay whole.)"""

    def __init__(self, pool):
        self._pool = pool

    def __getattr__(self, name):
        return getattr(self._pool, name)

    def submit(self, function, *args):
        class Late:
            def result(self):
                return function(*args)

        return Late()


def test_backward_when_this_thread_takes_every_weight_chunk(blas, monkeypatch):
    # the pool thread then takes none, and its sums are never written (_pipelined)
    monkeypatch.setattr(threads, "free_cores", lambda: 2)
    monkeypatch.setitem(threads._state, "cap", 2)
    monkeypatch.setattr(threads, "GEMM_PARALLEL_MACS", 1)
    late = _LatePool(threads._pool())
    monkeypatch.setattr(threads, "_pool", lambda: late)
    x = (np.random.default_rng(4).standard_normal((3, 7, 6)) * 2).astype(np.float32)
    assert_paths_agree(_lstm_run(1, False), x, rtol=1e-4, atol=2e-6)
    assert_paths_agree(_gru_run(1, False), x, rtol=1e-4, atol=2e-6)


def test_packed_operand_gives_the_product_on_either_blas(blas):
    # BPTT's dh = d_gates W_hh by W_hh packed once where the sgemm is MKL's, a plain sgemm else
    # (the plain call reads b: the same product either way)
    import numba

    @numba.njit
    def product(blas_address, packed, a, b, c):
        m, k = a.shape
        _native.sgemm_by(blas_address, packed, m, b.shape[1], k, a.ctypes.data, k,
                         b.ctypes.data, b.shape[1], np.float32(0.0), c.ctypes.data, b.shape[1])

    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((7, 40), dtype=np.float32), rng.standard_normal((40, 24),
                                                                              dtype=np.float32)
    packed = _native.packed_operand(b, 7)
    assert (packed[0] != 0) == (blas == "mkl")
    c = np.zeros((7, 24), np.float32)
    product(_native.kernel_sgemm_address(), packed, a, b, c)
    np.testing.assert_allclose(c, a @ b, rtol=1e-5, atol=1e-5)
    # the forward's h W_hh^T: W_hh (24 x 40 here) packed as its transpose
    w = np.ascontiguousarray(b.T)
    packed = _native.packed_operand(w, 7, transposed=True)
    assert (packed[0] != 0) == (blas == "mkl")
    c = np.zeros((7, 24), np.float32)
    product(_native.kernel_sgemm_address(), packed, a, b, c)
    np.testing.assert_allclose(c, a @ w.T, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cores", [1, 2])
@pytest.mark.parametrize("trans_a, trans_b", [(False, False), (False, True), (True, True)])
def test_the_ops_big_products_run_on_the_kernels_sgemm(blas, monkeypatch, cores, trans_a,
                                                       trans_b):
    """A big float32 product (one thread, or split: every block) runs through MKL's sgemm
    where it is the kernels' sgemm (``threads._gemm_elsewhere``), through NumPy's matmul
    where NumPy's is; the same product either way, bias included."""
    from chainrule import kernels

    kernels.load("optim", np.zeros(1, np.float32), size=kernels.min_size())  # (numba loaded)
    monkeypatch.setattr(threads, "free_cores", lambda: cores)
    monkeypatch.setitem(threads._state, "cap", cores)
    ran = []
    elsewhere = threads._gemm_elsewhere
    monkeypatch.setattr(threads, "_gemm_elsewhere",
                        lambda *args: ran.append(elsewhere(*args)) or ran[-1])
    rng = np.random.default_rng(4)
    a = rng.standard_normal((300, 200) if trans_a else (200, 300), dtype=np.float32)
    b = rng.standard_normal((120, 300) if trans_b else (300, 120), dtype=np.float32)
    a, b = (a.T if trans_a else a), (b.T if trans_b else b)
    bias = np.linspace(-1, 1, 120, dtype=np.float32)
    got = threads.blas_matmul(a, b, bias=bias)
    np.testing.assert_allclose(got, a.astype(np.float64) @ b + bias, rtol=1e-4, atol=1e-4)
    assert ran and all(r == (blas == "mkl") for r in ran)
    dx, dw = threads.blas_matmul_pair((a, b), (a, b))
    np.testing.assert_allclose(dx, got - bias, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(dx, dw)


def test_a_product_blas_cannot_take_as_laid_out_goes_to_numpy(blas):
    a = np.random.default_rng(5).standard_normal((400, 600), dtype=np.float32)[:, ::2]
    b = np.ones((300, 200), np.float32)
    out = np.empty((400, 200), np.float32)
    assert not threads._gemm_elsewhere(a, b, out)
    np.testing.assert_allclose(threads.blas_matmul(a, b), a @ b, rtol=1e-5, atol=1e-3)


def test_stacks_of_products_with_b_transposed_run_on_mkl(blas):
    """``threads._stacked_elsewhere``: q k^T per head, on MKL where it is the kernels' sgemm
    (None where NumPy's is, or where B is not transposed); broadcast stack dims included."""
    from chainrule import kernels

    kernels.load("optim", np.zeros(1, np.float32), size=kernels.min_size())  # (numba loaded)
    rng = np.random.default_rng(6)
    qkv = rng.standard_normal((3, 5, 2, 3, 4, 8), dtype=np.float32)
    q, k = qkv[:, :, 0].transpose(0, 2, 1, 3, 4), qkv[:, :, 1].transpose(0, 2, 1, 3, 4)
    shared = np.broadcast_to(rng.standard_normal((1, 1, 7, 8), dtype=np.float32), (3, 3, 7, 8))
    for a, b in ((q[:, :, 0], np.swapaxes(k[:, :, 0], -1, -2)),  # (3, 3, 5, 8) by (3, 3, 8, 5)
                 (q[0], np.swapaxes(k[0], -1, -2)),  # one stack dim fewer
                 (q[:, :, 1, :, :], np.swapaxes(shared, -1, -2))):  # B broadcast
        expected = np.matmul(a.astype(np.float64), b)
        got = threads._stacked_elsewhere(a, b)
        if blas == "numpy":
            assert got is None
            continue
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
        out = np.full(expected.shape, np.nan, np.float32)
        assert threads._stacked_elsewhere(a, b, out) is out
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    not_transposed = np.ascontiguousarray(np.swapaxes(k[:, :, 0], -1, -2))
    assert threads._stacked_elsewhere(q[:, :, 0], not_transposed) is None
