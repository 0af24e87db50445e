import numpy as np
import pytest

import chainrule as cr
from chainrule import kernels
from chainrule.nn import functional as F

from .check import assert_directional_derivative, assert_paths_agree


@pytest.mark.parametrize("stride, padding, dilation, groups", [
    (1, 0, 1, 1), (2, 1, 1, 1), ((1, 2), (2, 0), (2, 1), 1), (1, 1, 1, 2), (3, 2, 2, 2)])
def test_conv_input_gradient_matches_reference(stride, padding, dilation, groups):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 9, 8)).astype(np.float32)
    w = rng.standard_normal((6, 4 // groups, 3, 2)).astype(np.float32)

    def run(t, weight):
        y = F.conv2d(t, weight, stride=stride, padding=padding, dilation=dilation, groups=groups)
        upstream = np.random.default_rng(5).standard_normal(tuple(y.shape)).astype(np.float32)
        (y * cr.tensor(upstream)).sum().backward()
        return [y.detach().numpy(), t.grad.numpy(), weight.grad.numpy()]

    # the kernel adds each plane's kernel positions in another order than the reference
    assert_paths_agree(run, x, w, rtol=1e-5, atol=1e-5)


def _conv_run(stride, padding, dilation, groups, bias):
    def run(t, weight, b=None):
        y = F.conv2d(t, weight, b if bias else None, stride=stride, padding=padding,
                     dilation=dilation, groups=groups)
        upstream = np.random.default_rng(5).standard_normal(tuple(y.shape)).astype(np.float32)
        (y * cr.tensor(upstream)).sum().backward()
        grads = [t.grad.numpy(), weight.grad.numpy()] + ([b.grad.numpy()] if bias else [])
        return [y.detach().numpy()] + grads

    return run


# blocks of one sample, of 2-4 (a short last block: 10 kB over 2.4-4.7 kB a sample), all 5
@pytest.mark.parametrize("block_bytes", [1, 10_000, None])
@pytest.mark.parametrize("stride, padding, dilation, groups", [
    (1, 0, 1, 1), (2, 1, 1, 1), ((1, 2), (2, 0), (2, 1), 2)])
def test_conv_blocks_of_samples_match_reference(monkeypatch, block_bytes, stride, padding,
                                                 dilation, groups):
    from chainrule.kernels import conv as kernel

    if block_bytes is not None:
        monkeypatch.setattr(kernel, "_BLOCK_BYTES", block_bytes)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 4, 9, 8)).astype(np.float32)
    w = rng.standard_normal((6, 4 // groups, 3, 2)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    assert_paths_agree(_conv_run(stride, padding, dilation, groups, True), x, w, b, rtol=1e-5,
                       atol=1e-5)


def test_conv_blocks_split_over_threads_match_one_call(monkeypatch):
    from chainrule.kernels import conv as kernel
    from chainrule.kernels import threads

    rng = np.random.default_rng(8)
    x = rng.standard_normal((5, 3, 7, 7)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    run = _conv_run(1, 1, 1, 1, True)

    def results():
        with kernels.use_kernels(True, min_size=0):
            return run(*(cr.tensor(a, requires_grad=True) for a in (x, w, b)))

    one = results()
    monkeypatch.setattr(kernel, "_BLOCK_BYTES", 1)  # one sample a block, split 2 + 3
    monkeypatch.setattr(threads, "free_cores", lambda: 2)
    monkeypatch.setitem(threads._state, "cap", 2)
    monkeypatch.setattr(threads, "GEMM_PARALLEL_MACS", 1)
    split = results()
    for a, c in zip(one, split):
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-5)


def test_conv_weight_and_bias_gradients_match_finite_differences():
    rng = np.random.default_rng(9)
    x = cr.tensor(rng.standard_normal((3, 2, 6, 6)).astype(np.float32))
    upstream = cr.tensor(rng.standard_normal((3, 4, 3, 3)).astype(np.float32))
    wb = rng.standard_normal(4 * 2 * 3 * 3 + 4).astype(np.float32)

    def split(a):
        return a[:-4].reshape(4, 2, 3, 3), a[-4:]

    def loss(a):
        w, b = split(a)
        y = F.conv2d(x, cr.tensor(w), cr.tensor(b), stride=2, padding=1)
        return float((y * upstream).sum())

    def gradient(a):
        w, b = (cr.tensor(p, requires_grad=True) for p in split(a))
        (F.conv2d(x, w, b, stride=2, padding=1) * upstream).sum().backward()
        return np.concatenate([w.grad.numpy().reshape(-1), b.grad.numpy()])

    assert_directional_derivative(loss, gradient, wb)


def test_conv_transpose_matches_reference():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 5, 6, 7)).astype(np.float32)
    w = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)

    def run(t, weight):
        y = F.conv_transpose2d(t, weight, stride=2, padding=1, output_padding=1)
        return [y.detach().numpy()]

    assert_paths_agree(run, x, w, rtol=1e-5, atol=1e-5)


def test_conv_input_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 7, 7)).astype(np.float32)
    w = cr.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32))
    upstream = cr.tensor(rng.standard_normal((2, 4, 4, 4)).astype(np.float32))

    def loss(a):
        return float((F.conv2d(cr.tensor(a), w, stride=2, padding=1) * upstream).sum())

    def gradient(a):
        t = cr.tensor(a, requires_grad=True)
        (F.conv2d(t, w, stride=2, padding=1) * upstream).sum().backward()
        return t.grad.numpy()

    assert_directional_derivative(loss, gradient, x)


def test_conv_kernel_is_used_for_float32_2d(monkeypatch):
    from chainrule.kernels import conv as kernel

    calls = []
    monkeypatch.setattr(kernel, "_im2col_range", lambda *a: calls.append(a))
    x = cr.tensor(np.zeros((1, 1, 4, 4), np.float32))
    with kernels.use_kernels(True, min_size=0):
        F.conv2d(x, cr.tensor(np.zeros((1, 1, 3, 3), np.float32)))
        F.conv2d(x.double(), cr.tensor(np.zeros((1, 1, 3, 3))))  # float64: the reference
    assert len(calls) == 1


def test_kernels_are_chosen_by_the_work_size_when_given():
    x = np.zeros((1, 1, 4, 4), np.float32)  # a small input whose columns can be large
    with kernels.use_kernels(True, min_size=100):
        assert kernels.load("conv", x) is None
        assert kernels.load("conv", x, size=144) is not None
        assert kernels.load("conv", x, size=99) is None
        assert kernels.load("conv", x.astype(np.float64), size=144) is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_bias_gradient_is_the_sum_over_batch_and_space(dtype):
    """The bias gradient's fast sum (planes times ones) against NumPy's sum, and the recorded
    one (create_graph, whose gradient is itself differentiable) against both."""
    rng = np.random.default_rng(10)
    x = cr.tensor(rng.standard_normal((4, 3, 9, 7)).astype(dtype))
    w = cr.tensor(rng.standard_normal((5, 3, 3, 3)).astype(dtype))
    upstream = rng.standard_normal((4, 5, 7, 5)).astype(dtype)
    expected = upstream.sum((0, 2, 3))
    for create_graph in (False, True):
        b = cr.tensor(rng.standard_normal(5).astype(dtype), requires_grad=True)
        F.conv2d(x, w, b).backward(cr.tensor(upstream), create_graph=create_graph)
        assert b.grad.dtype == b.dtype and b.grad.shape == (5,)
        np.testing.assert_allclose(b.grad.detach().numpy(), expected,
                                   rtol=1e-5 if dtype == np.float32 else 1e-12)


def _float64_conv(x, w, b, padding):
    from chainrule.ops import conv as ops_conv

    y = ops_conv._conv_whole(x.astype(np.float64), w.astype(np.float64), (1, 1),
                             ((padding, padding),) * 2, (1, 1), 1)
    return y + b.astype(np.float64).reshape(1, -1, 1, 1)


@pytest.mark.parametrize("shape, padding", [((3, 16, 10, 8), 0), ((2, 20, 8, 10), 1),
                                            ((2, 32, 26, 26), 0)])
def test_winograd_conv_matches_float64_reference(monkeypatch, shape, padding):
    """3x3 stride-1 convs with enough channels and an even output take Winograd's F(2x2, 3x3):
    against the float64 im2col product, as close as float32 im2col is, on one thread and split
    (samples claimed by two threads)."""
    from chainrule.kernels import conv as kernel
    from chainrule.kernels import threads, winograd

    calls = []
    monkeypatch.setattr(kernel, "_winograd", lambda *a, _f=kernel._winograd: calls.append(1)
                        or _f(*a))
    rng = np.random.default_rng(11)
    x = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal((24, shape[1], 3, 3)) / np.sqrt(9 * shape[1])).astype(np.float32)
    b = rng.standard_normal(24).astype(np.float32)
    expected = _float64_conv(x, w, b, padding)
    with kernels.use_kernels(False):
        im2col = F.conv2d(cr.tensor(x), cr.tensor(w), cr.tensor(b), padding=padding).numpy()
    for free in (1, 2):
        monkeypatch.setattr(threads, "free_cores", lambda free=free: free)
        monkeypatch.setitem(threads._state, "cap", 2)
        monkeypatch.setattr(threads, "GEMM_PARALLEL_MACS", 1)
        with kernels.use_kernels(True, min_size=0):
            y = F.conv2d(cr.tensor(x), cr.tensor(w), cr.tensor(b), padding=padding).numpy()
        assert y.dtype == np.float32
        error = np.abs(y - expected).max()
        assert error <= 4 * max(np.abs(im2col - expected).max(), 1e-6), error
        np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    assert len(calls) == 2
    assert winograd.applies((3, 3), (1, 1), (1, 1), 1, (8, 6), 16)


@pytest.mark.parametrize("kernel_size, stride, dilation, groups, out, channels", [
    ((3, 3), (1, 1), (1, 1), 1, (7, 6), 16), ((3, 3), (2, 2), (1, 1), 1, (8, 6), 16),
    ((3, 3), (1, 1), (2, 2), 1, (8, 6), 16), ((3, 3), (1, 1), (1, 1), 2, (8, 6), 16),
    ((5, 5), (1, 1), (1, 1), 1, (8, 6), 16), ((3, 3), (1, 1), (1, 1), 1, (8, 6), 1)])
def test_winograd_is_only_for_whole_tiles_of_plain_3x3_convs(kernel_size, stride, dilation,
                                                            groups, out, channels):
    from chainrule.kernels import winograd

    assert not winograd.applies(kernel_size, stride, dilation, groups, out, channels)


def test_winograd_conv_gradients_match_finite_differences():
    rng = np.random.default_rng(12)
    w = cr.tensor((rng.standard_normal((4, 16, 3, 3)) / 12).astype(np.float32))
    upstream = cr.tensor(rng.standard_normal((2, 4, 6, 4)).astype(np.float32))
    x0 = rng.standard_normal((2, 16, 6, 4)).astype(np.float32)

    def loss(a):
        return float((F.conv2d(cr.tensor(a), w, padding=1) * upstream).sum())

    def gradient(a):
        t = cr.tensor(a, requires_grad=True)
        (F.conv2d(t, w, padding=1) * upstream).sum().backward()
        return t.grad.numpy()

    assert_directional_derivative(loss, gradient, x0)


@pytest.mark.parametrize("shape, padding", [((3, 16, 10, 8), 0), ((2, 20, 8, 10), 1)])
def test_winograd_weight_gradient_matches_float64_reference(monkeypatch, shape, padding):
    """The weight gradient by Winograd (dy's and x's tiles transformed, 16 products summed over
    the samples, then G^T Q G): against the float64 im2col product, on one thread and split."""
    from chainrule.kernels import conv as kernel
    from chainrule.kernels import threads
    from chainrule.ops import conv as ops_conv

    calls = []
    monkeypatch.setattr(kernel, "_winograd_weight_grad",
                        lambda *a, _f=kernel._winograd_weight_grad: calls.append(1) or _f(*a))
    rng = np.random.default_rng(13)
    x = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal((24, shape[1], 3, 3)) / np.sqrt(9 * shape[1])).astype(np.float32)
    out = tuple(s + 2 * padding - 2 for s in shape[2:])
    upstream = rng.standard_normal((shape[0], 24) + out).astype(np.float32)
    expected = ops_conv._conv_weight_whole(
        x.astype(np.float64), upstream.astype(np.float64), (1, 1), ((padding, padding),) * 2,
        (1, 1), 1, w.shape)
    for free in (1, 2):
        monkeypatch.setattr(threads, "free_cores", lambda free=free: free)
        monkeypatch.setitem(threads._state, "cap", 2)
        monkeypatch.setattr(threads, "GEMM_PARALLEL_MACS", 1)
        weight = cr.tensor(w, requires_grad=True)
        with kernels.use_kernels(True, min_size=0):
            F.conv2d(cr.tensor(x), weight, padding=padding).backward(cr.tensor(upstream))
        assert weight.grad.dtype == cr.float32 and weight.grad.shape == w.shape
        np.testing.assert_allclose(weight.grad.numpy(), expected, rtol=1e-5, atol=1e-5)
    assert len(calls) == 2


def test_winograd_weight_gradient_matches_finite_differences():
    rng = np.random.default_rng(14)
    x = cr.tensor(rng.standard_normal((2, 16, 6, 4)).astype(np.float32))
    upstream = cr.tensor(rng.standard_normal((2, 4, 6, 4)).astype(np.float32))
    w0 = (rng.standard_normal((4, 16, 3, 3)) / 12).astype(np.float32)

    def loss(a):
        return float((F.conv2d(x, cr.tensor(a), padding=1) * upstream).sum())

    def gradient(a):
        t = cr.tensor(a, requires_grad=True)
        (F.conv2d(x, t, padding=1) * upstream).sum().backward()
        return t.grad.numpy()

    assert_directional_derivative(loss, gradient, w0)


@pytest.mark.parametrize("shape, padding", [((3, 16, 10, 8), 0), ((2, 20, 8, 10), 1)])
def test_winograd_input_gradient_matches_float64_reference(monkeypatch, shape, padding):
    """The input gradient by Winograd (the forward's adjoint: dy's tiles transformed, times
    U^T, the input transform's adjoint added up over overlapping tiles): against the float64
    col2im of the reference, on one thread and split."""
    from chainrule.kernels import conv as kernel
    from chainrule.kernels import threads
    from chainrule.ops import conv as ops_conv

    calls = []
    monkeypatch.setattr(kernel, "_winograd_input_grad",
                        lambda *a, _f=kernel._winograd_input_grad: calls.append(1) or _f(*a))
    rng = np.random.default_rng(15)
    x = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal((24, shape[1], 3, 3)) / np.sqrt(9 * shape[1])).astype(np.float32)
    out = tuple(s + 2 * padding - 2 for s in shape[2:])
    upstream = rng.standard_normal((shape[0], 24) + out).astype(np.float32)
    expected = ops_conv._conv_transpose_whole(
        upstream.astype(np.float64), w.astype(np.float64), (1, 1), ((padding, padding),) * 2,
        (1, 1), 1, shape)
    for free in (1, 2):
        monkeypatch.setattr(threads, "free_cores", lambda free=free: free)
        monkeypatch.setitem(threads._state, "cap", 2)
        monkeypatch.setattr(threads, "GEMM_PARALLEL_MACS", 1)
        t = cr.tensor(x, requires_grad=True)
        with kernels.use_kernels(True, min_size=0):
            F.conv2d(t, cr.tensor(w), padding=padding).backward(cr.tensor(upstream))
        assert t.grad.dtype == cr.float32 and t.grad.shape == shape
        np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-5, atol=1e-5)
    assert len(calls) == 2
