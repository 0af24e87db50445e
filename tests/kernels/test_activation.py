import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import kernels
from chainrule.nn import functional as F
from chainrule.ops.activation import ndtr

from ..ops.test_normal import assert_within_ndtr_bound
from .check import assert_directional_derivative, assert_paths_agree


def _gelu_and_grad(x, approximate="none"):
    y = F.gelu(x, approximate=approximate)
    (y * y).sum().backward()
    return y.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("scale", [1.0, 6.0])
def test_gelu_matches_reference(scale, approximate):
    x = (np.random.default_rng(0).standard_normal((37, 53)) * scale).astype(np.float32)
    assert_paths_agree(lambda t: _gelu_and_grad(t, approximate), x, rtol=1e-5, atol=1e-6)


def test_gelu_tanh_specials_and_finite_differences():
    x = np.array([-30, -12, -5.5, -1e-3, 0, 1e-3, 5.5, 12, 30, np.inf, -np.inf, np.nan],
                 dtype=np.float32)
    with kernels.use_kernels(True, min_size=0):
        y = F.gelu(cr.tensor(x), approximate="tanh").numpy()
    with kernels.use_kernels(False), np.errstate(invalid="ignore"):
        expected = F.gelu(cr.tensor(x), approximate="tanh").numpy()
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)  # NaN where it has NaN
    # relatively accurate on the left too, where the reference's 1 + tanh(u) cancels to 0
    x64 = x.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        exact = x64 / (1 + np.exp(-2 * np.sqrt(2 / np.pi) * (x64 + 0.044715 * x64 ** 3)))
    np.testing.assert_allclose(y, exact, rtol=1e-6, atol=1e-30)

    points = np.random.default_rng(2).standard_normal(300).astype(np.float32) * 3

    def loss(a):
        return (F.gelu(cr.tensor(a), approximate="tanh").numpy().astype(np.float64) ** 2).sum()

    def gradient(a):
        t = cr.tensor(a, requires_grad=True)
        (F.gelu(t, approximate="tanh") ** 2).sum().backward()
        return t.grad.numpy()

    assert_directional_derivative(loss, gradient, points)


def test_gelu_tails_and_specials():
    x = np.array([-30, -12, -5.5, -1e-3, 0, 1e-3, 5.5, 12, 30, np.inf, -np.inf, np.nan],
                 dtype=np.float32)
    with kernels.use_kernels(True, min_size=0):
        y = F.gelu(cr.tensor(x)).numpy()
    with kernels.use_kernels(False), np.errstate(invalid="ignore"):
        expected = F.gelu(cr.tensor(x)).numpy()  # -inf * Phi(-inf) = -inf * 0 = NaN
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-30)  # NaN where it has NaN


def test_gelu_gradient_matches_finite_differences():
    x = np.random.default_rng(1).standard_normal(300).astype(np.float32) * 3

    def loss(a):
        return (F.gelu(cr.tensor(a)).numpy().astype(np.float64) ** 2).sum()

    def gradient(a):
        t = cr.tensor(a, requires_grad=True)
        (F.gelu(t) ** 2).sum().backward()
        return t.grad.numpy()

    assert_directional_derivative(loss, gradient, x)


def test_ndtr_matches_reference():
    x = np.linspace(-25, 25, 5001, dtype=np.float32)
    assert_paths_agree(lambda t: [ndtr(t).detach()], x, rtol=1e-5, atol=1e-30)


def test_the_kernels_fit_is_the_one_the_script_derives():
    from chainrule.kernels import activation

    script_path = Path(__file__).resolve().parents[2] / "bench" / "fit_ndtr.py"
    spec = importlib.util.spec_from_file_location("fit_ndtr", script_path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    coefficients, worst = script.fit_mills()
    assert script.SCALE == activation.MILLS_FIT_SCALE
    np.testing.assert_allclose(activation.MILLS_FIT, coefficients, rtol=1e-9, atol=1e-12)
    assert worst <= 4.5e-8


def test_kernel_phi_keeps_the_references_relative_error_bound():
    """Against the truth (math.erfc in float64), as tests/ops/test_normal.py holds the
    reference: the kernel's own fit and its one shared exp are at least as close."""
    from chainrule.kernels import activation

    x, exact = assert_within_ndtr_bound(activation.ndtr)
    slope = activation.gelu_backward(x, np.ones_like(x)).astype(np.float64)
    exact_slope = exact + x * np.exp(-(x.astype(np.float64) ** 2) / 2) / math.sqrt(2 * math.pi)
    np.testing.assert_allclose(slope, exact_slope, rtol=2e-6, atol=3e-7)


@pytest.mark.parametrize("family", ["activation", "optim", "softmax", "norm", "pool", "loss",
                                    "recurrent", "attention"])
def test_every_kernel_family_loads_for_float32_only(family):
    x = np.zeros(8, np.float32)
    with kernels.use_kernels(True, min_size=0):
        assert kernels.load(family, x) is not None
        assert kernels.load(family, x.astype(np.float64)) is None
    with kernels.use_kernels(True, min_size=9):
        assert kernels.load(family, x) is None
    with kernels.use_kernels(False, min_size=0):
        assert kernels.load(family, x) is None


def test_relu_backward_matches_reference():
    x = np.random.default_rng(0).standard_normal((31, 17)).astype(np.float32)
    x[0, :4] = [0.0, -0.0, np.nan, 1e-40]

    def run(t):
        y = cr.relu(t)
        (y * cr.tensor(np.arange(y.numel(), dtype=np.float32).reshape(y.shape))).sum().backward()
        return [y.detach().numpy(), t.grad.numpy()]

    assert_paths_agree(run, x, rtol=0, atol=0)


def test_exp32_is_within_two_ulps_over_the_whole_float32_range():
    """The shared exp (kernels/_jit.py) against float64 exp: relative error where e^x is a
    normal float32, 0 and inf where float32 has them, NaN kept (88.3 < x <= 88.72 once came
    out as e^88.3)."""
    import numba

    from chainrule.kernels._jit import exp32

    @numba.njit  # (not cached: a cache keyed on this file would keep an old exp32)
    def exp_all(x, y):
        for i in range(x.size):
            y[i] = exp32(x[i])

    x = np.concatenate([np.linspace(-110.0, 90.0, 200001), [88.3, 88.5, 88.72, 88.73]])
    x = np.concatenate([x, [np.inf, -np.inf, np.nan]]).astype(np.float32)
    y = np.empty_like(x)
    exp_all(x, y)
    with np.errstate(over="ignore"):
        exact = np.exp(x.astype(np.float64))
    normal_range = (exact >= np.finfo(np.float32).tiny) & (exact <= np.finfo(np.float32).max)
    relative = np.abs(y[normal_range] - exact[normal_range]) / exact[normal_range]
    assert relative.max() <= 1.2e-7  # two half-ulps
    assert np.all(y[exact > np.finfo(np.float32).max * (1 + 2 ** -24)] == np.inf)
    small = exact < np.finfo(np.float32).tiny
    assert np.all(np.abs(y[small] - exact[small]) <= 1.5e-45)
    assert np.isnan(y[-1])
