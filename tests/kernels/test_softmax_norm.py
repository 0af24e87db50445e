import numpy as np
import pytest

import chainrule as cr
from chainrule import kernels
from chainrule.nn import functional as F

from .check import assert_directional_derivative, assert_paths_agree


def _forward_backward(op):
    def run(x):
        y = op(x)
        weights = cr.tensor(np.random.default_rng(5).standard_normal(tuple(y.shape)),
                            dtype=cr.float32)
        (y * weights).sum().backward()
        return [y.detach().numpy(), x.grad.numpy()]

    return run


SOFTMAXES = {"softmax": lambda x: F.softmax(x, dim=-1),
             "log_softmax": lambda x: F.log_softmax(x, dim=-1)}


@pytest.mark.parametrize("name", SOFTMAXES)
@pytest.mark.parametrize("shape", [(7, 13), (3, 5, 64), (6, 37)])
def test_softmax_matches_reference(name, shape):
    x = (np.random.default_rng(0).standard_normal(shape) * 4).astype(np.float32)
    assert_paths_agree(_forward_backward(SOFTMAXES[name]), x, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", SOFTMAXES)
def test_softmax_special_rows_match_reference(name):
    x = np.array([[0, 1, 2, 3], [-np.inf] * 4, [np.inf, 0, 1, 2], [np.nan, 0, 1, 2],
                  [80, 100, -100, 0]], dtype=np.float32)
    results = []
    for enabled in (True, False):
        with kernels.use_kernels(enabled, min_size=0), np.errstate(invalid="ignore"):
            results.append(SOFTMAXES[name](cr.tensor(x)).numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", SOFTMAXES)
def test_softmax_gradient_matches_finite_differences(name):
    x = np.random.default_rng(2).standard_normal((6, 9)).astype(np.float32)
    w = np.random.default_rng(3).standard_normal((6, 9))
    op = SOFTMAXES[name]

    def loss(a):
        return float((op(cr.tensor(a)).numpy() * w).sum())

    def gradient(a):
        t = cr.tensor(a, requires_grad=True)
        (op(t) * cr.tensor(w, dtype=cr.float32)).sum().backward()
        return t.grad.numpy()

    assert_directional_derivative(loss, gradient, x)


@pytest.mark.parametrize("columns", [0, 1, 7, 15, 16, 17, 31, 32, 33, 64, 100, 1000])
def test_row_max_matches_numpy(columns):
    """The vector row maximum (16 lanes, the last overlapping) against NumPy, wherever the
    largest value falls: first, last, inside the overlap, or nowhere (-inf for no values)."""
    import numba

    from chainrule.kernels._jit import row_max

    @numba.njit  # (not cached: a cache keyed on this file would keep an old row_max)
    def maxima(rows, out):
        for r in range(rows.shape[0]):
            out[r] = row_max(rows[r])

    rows = np.random.default_rng(0).standard_normal((columns + 3, columns)).astype(np.float32)
    for r in range(min(columns, rows.shape[0])):
        rows[r, r] = 100.0  # the maximum at every position in turn
    rows[-1] = -np.inf
    rows[-2] = np.linspace(-5, 5, columns, dtype=np.float32)  # rising: the last one wins
    out = np.empty(rows.shape[0], np.float32)
    maxima(rows, out)
    expected = rows.max(axis=1) if columns else np.full(rows.shape[0], -np.inf, np.float32)
    np.testing.assert_array_equal(out, expected)


def _layer_norm_run(affine, shape):
    def run(x):
        weight = bias = None
        if affine:
            rng = np.random.default_rng(4)
            weight = cr.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
            bias = cr.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
        y = F.layer_norm(x, shape, weight, bias, eps=1e-5)
        upstream = np.random.default_rng(5).standard_normal(tuple(y.shape)).astype(np.float32)
        (y * cr.tensor(upstream)).sum().backward()
        out = [y.detach().numpy(), x.grad.numpy()]
        return out + ([weight.grad.numpy(), bias.grad.numpy()] if affine else [])

    return run


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(16,), (4, 8)])
def test_layer_norm_matches_reference(affine, shape):
    x = (np.random.default_rng(0).standard_normal((3, 5) + shape) * 3 + 1).astype(np.float32)
    assert_paths_agree(_layer_norm_run(affine, shape), x, rtol=1e-4, atol=1e-5)


def test_layer_norm_gradient_matches_finite_differences():
    x = np.random.default_rng(1).standard_normal((5, 12)).astype(np.float32)
    w = np.random.default_rng(3).standard_normal((5, 12))
    weight = cr.tensor(np.linspace(0.5, 2, 12, dtype=np.float32))

    def loss(a):
        return float((F.layer_norm(cr.tensor(a), (12,), weight).numpy() * w).sum())

    def gradient(a):
        t = cr.tensor(a, requires_grad=True)
        (F.layer_norm(t, (12,), weight) * cr.tensor(w, dtype=cr.float32)).sum().backward()
        return t.grad.numpy()

    assert_directional_derivative(loss, gradient, x)


CROSS_ENTROPY = {
    "mean": {}, "sum_smoothing": {"reduction": "sum", "label_smoothing": 0.2},
    "none_ignore": {"reduction": "none", "ignore_index": 3},
    "mean_ignore_smoothing": {"ignore_index": 1, "label_smoothing": 0.1},
}


@pytest.mark.parametrize("name", CROSS_ENTROPY)
def test_cross_entropy_matches_reference(name):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((9, 7)) * 3).astype(np.float32)
    target = rng.integers(0, 7, 9)
    target[:3] = [3, 1, 3]

    def run(t):
        loss = F.cross_entropy(t, cr.tensor(target), **CROSS_ENTROPY[name])
        upstream = np.random.default_rng(5).standard_normal(tuple(loss.shape))
        (loss * cr.tensor(upstream, dtype=cr.float32)).sum().backward()
        return [loss.detach().numpy(), t.grad.numpy()]

    assert_paths_agree(run, x, rtol=1e-5, atol=1e-6)


def test_cross_entropy_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 5)).astype(np.float32)
    target = cr.tensor(rng.integers(0, 5, 6))

    def loss(a):
        return float(F.cross_entropy(cr.tensor(a), target, label_smoothing=0.1).numpy())

    def gradient(a):
        t = cr.tensor(a, requires_grad=True)
        F.cross_entropy(t, target, label_smoothing=0.1).backward()
        return t.grad.numpy()

    assert_directional_derivative(loss, gradient, x)


def test_cross_entropy_second_derivative_after_the_kernel():
    """create_graph after a kernel forward takes the differentiable tensor formula."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 6)).astype(np.float32)
    target = cr.tensor(rng.integers(0, 6, 4))
    results = []
    for enabled in (True, False):
        with kernels.use_kernels(enabled, min_size=0):
            t = cr.tensor(x, requires_grad=True)
            (grad,) = cr.autograd.grad(F.cross_entropy(t, target), t, create_graph=True)
            (grad * grad).sum().backward()
            results.append(t.grad.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-7)
