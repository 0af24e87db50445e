import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import kernels
from chainrule.kernels import normal
from chainrule.nn import functional as F
from chainrule.ops.activation import ndtr

from .check import assert_directional_derivative, assert_paths_agree


def _gelu_and_grad(x):
    y = F.gelu(x)
    (y * y).sum().backward()
    return y.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("scale", [1.0, 6.0])
def test_gelu_matches_reference(scale):
    x = (np.random.default_rng(0).standard_normal((37, 53)) * scale).astype(np.float32)
    assert_paths_agree(_gelu_and_grad, x, rtol=1e-5, atol=1e-6)


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

    x = np.linspace(-20.0, 20.0, 100001).astype(np.float32)
    exact = 0.5 * np.array([math.erfc(-float(v) / math.sqrt(2.0)) for v in x])
    fast = activation.ndtr(x).astype(np.float64)
    representable = exact >= np.finfo(np.float32).tiny
    relative = np.abs(fast - exact)[representable] / exact[representable]
    assert relative.max() <= normal.NDTR_FLOAT32_BOUND
    assert np.abs(fast - exact)[~representable].max() <= 1e-43
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
