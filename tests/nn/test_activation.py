"""Activations: fused Functions against NumPy formulas and finite differences (OpCase rows),
erf accuracy against math.erf, modules, functional options and reprs."""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.autograd import gradgradcheck
from chainrule.kernels import normal
from chainrule.ops import activation as act
from tests.opcheck import OpCase, check_case

_erf = np.vectorize(math.erf)  # the truth; far too slow for the library itself


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

CASES = [
    OpCase("gelu", F.gelu, lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))), [(3, 4)],
           (act.Gelu, act.Ndtr)),
    OpCase("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), _gelu_tanh, [(3, 4)],
           (act.Gelu,)),
    OpCase("ndtr", act.ndtr, lambda x: 0.5 * (1 + _erf(x / math.sqrt(2))), [(5,)],
           (act.Ndtr,)),
    OpCase("silu", F.silu, lambda x: x * _sigmoid(x), [(2, 5)], (act.Silu,)),
    OpCase("elu", F.elu, lambda x: np.where(x > 0, x, np.expm1(x)), [(3, 4)], (act.Elu,),
           domain="nonzero"),
    OpCase("elu_alpha", lambda x: F.elu(x, alpha=0.3),
           lambda x: np.where(x > 0, x, 0.3 * np.expm1(x)), [(6,)], (act.Elu,),
           domain="nonzero"),
    OpCase("leaky_relu", F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), [(3, 4)],
           (act.LeakyRelu,), domain="nonzero"),
    OpCase("leaky_relu_slope", lambda x: F.leaky_relu(x, 0.2),
           lambda x: np.where(x > 0, x, 0.2 * x), [(5,)], (act.LeakyRelu,), domain="nonzero"),
    OpCase("softplus", F.softplus, _softplus, [(3, 4)], (act.Softplus,)),
    OpCase("logsigmoid", F.logsigmoid, lambda x: -np.logaddexp(0, -x), [(3, 4)],
           (act.LogSigmoid,)),
    OpCase("softplus_beta_threshold", lambda x: F.softplus(x, beta=2.0, threshold=1.5),
           lambda x: _softplus(x, 2.0, 1.5), [(4, 3)], (act.Softplus,), domain="nonzero"),
    # composed in nn (nn/functional/activation*.py): in place on a clone, and the relu6 clamp
    OpCase("relu6", F.relu6, lambda x: np.clip(x, 0, 6), [(3, 4)], domain="nonzero"),
    OpCase("selu_", lambda x: F.selu_(x.clone()),
           lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)), [(3, 4)],
           domain="nonzero"),
    OpCase("celu_", lambda x: F.celu_(x.clone(), 0.7),
           lambda x: np.where(x > 0, x, 0.7 * np.expm1(x / 0.7)), [(3, 4)], domain="nonzero"),
    OpCase("hardtanh_", lambda x: F.hardtanh_(x.clone(), -0.6, 0.8),
           lambda x: np.clip(x, -0.6, 0.8), [(3, 4)]),
    OpCase("threshold_", lambda x: F.threshold_(x.clone(), 0.2, -3.0),
           lambda x: np.where(x > 0.2, x, -3.0), [(3, 4)]),
    OpCase("rrelu__eval", lambda x: F.rrelu_(x.clone(), 0.1, 0.3),
           lambda x: np.where(x >= 0, x, 0.2 * x), [(3, 4)], domain="nonzero"),
    # a random sample, but every sample sums to 1 along dim, so the sum (and its zero
    # gradient) is deterministic
    OpCase("gumbel_softmax_sums_to_one", lambda x: F.gumbel_softmax(x, tau=0.5).sum(-1),
           lambda x: np.ones(x.shape[:-1]), [(3, 4)]),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_activation_op(case):
    check_case(case)


@pytest.mark.parametrize("fn", [F.gelu, lambda x: F.gelu(x, approximate="tanh"), F.silu,
                                F.elu, F.leaky_relu, F.softplus, act.ndtr, F.logsigmoid],
                         ids=["gelu", "gelu_tanh", "silu", "elu", "leaky_relu", "softplus",
                              "ndtr", "logsigmoid"])
def test_second_derivatives(fn):
    rng = np.random.default_rng(3)
    x = cr.from_numpy(rng.choice([-1, 1], (2, 3)) * rng.uniform(0.3, 2.0, (2, 3)))
    assert gradgradcheck(fn, (x.requires_grad_(),))


def test_erf_matches_math_erf_to_float64_precision():
    x = np.concatenate([np.linspace(-7, 7, 20001), [0.0, 1.0, -1.0, 8.0, -8.0, 27.0, -27.0]])
    np.testing.assert_allclose(normal.erf(x), _erf(x), rtol=1e-15, atol=5e-16)
    tail = np.linspace(1, 26, 501)  # erfc far in the tail keeps its relative accuracy
    np.testing.assert_allclose(normal.erfc(tail), np.vectorize(math.erfc)(tail), rtol=1e-13)
    assert normal.erf(np.array([np.inf, -np.inf])).tolist() == [1.0, -1.0]
    assert np.isnan(normal.erf(np.array([np.nan]))[0])


def test_float32_in_float32_out():
    x = cr.randn(4, 5)
    for fn in (F.gelu, F.silu, F.elu, F.leaky_relu, F.softplus, F.relu, F.sigmoid, F.tanh):
        assert fn(x).dtype == cr.float32


def test_extreme_inputs_stay_finite():
    x = cr.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    assert F.softplus(x).tolist()[3:] == [50.0, 1000.0]
    assert F.softplus(x)[0].item() == 0.0
    assert np.all(np.isfinite(F.silu(x).numpy()))
    assert F.gelu(x).tolist() == [-0.0, -0.0, 0.0, 50.0, 1000.0]
    assert np.all(np.isfinite(F.elu(x).numpy()))


def test_gelu_known_values():
    # GELU(1) = Phi(1) = 0.8413447460685429; GELU(-1) = -(1 - Phi(1))
    x = cr.tensor([1.0, -1.0], dtype=cr.float64)
    np.testing.assert_allclose(F.gelu(x).numpy(), [0.8413447460685429, -0.15865525393145707],
                               rtol=1e-15)


def test_modules_match_functions_and_reprs():
    x = cr.randn(3, 4)
    pairs = [
        (nn.ReLU(), F.relu(x), "ReLU()"),
        (nn.LeakyReLU(0.2), F.leaky_relu(x, 0.2), "LeakyReLU(negative_slope=0.2)"),
        (nn.ELU(alpha=0.5), F.elu(x, 0.5), "ELU(alpha=0.5)"),
        (nn.GELU(), F.gelu(x), "GELU(approximate='none')"),
        (nn.GELU("tanh"), F.gelu(x, "tanh"), "GELU(approximate='tanh')"),
        (nn.SiLU(), F.silu(x), "SiLU()"),
        (nn.Softplus(beta=2.0), F.softplus(x, 2.0), "Softplus(beta=2.0, threshold=20.0)"),
        (nn.Sigmoid(), F.sigmoid(x), "Sigmoid()"),
        (nn.Tanh(), F.tanh(x), "Tanh()"),
        (nn.Softmax(dim=1), F.softmax(x, dim=1), "Softmax(dim=1)"),
        (nn.LogSoftmax(dim=-1), F.log_softmax(x, dim=-1), "LogSoftmax(dim=-1)"),
    ]
    for module, expected, text in pairs:
        assert repr(module) == text
        np.testing.assert_array_equal(module(x).numpy(), expected.numpy())
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"


def test_softmax_values_and_implicit_dim_warning():
    x = np.random.default_rng(0).standard_normal((2, 3))
    expected = np.exp(x) / np.exp(x).sum(1, keepdims=True)
    np.testing.assert_allclose(F.softmax(cr.from_numpy(x), dim=1).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(F.log_softmax(cr.from_numpy(x), 1).numpy(), np.log(expected),
                               rtol=1e-12)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = F.softmax(cr.from_numpy(x))  # 2-D: dim 1, as PyTorch picks
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    assert F.softmax(cr.randn(3), dim=0, dtype=cr.float64).dtype == cr.float64


def test_inplace_modifies_the_input_and_keeps_gradients_right():
    x = cr.tensor([-1.0, 2.0, -3.0], requires_grad=True)
    y = x * 1
    out = F.leaky_relu(y, 0.1, inplace=True)
    assert out is y and y.tolist() == pytest.approx([-0.1, 2.0, -0.3])
    out.sum().backward()
    assert x.grad.tolist() == pytest.approx([0.1, 1.0, 0.1])
    z = cr.tensor([-1.0, 1.0])
    nn.ReLU(inplace=True)(z)
    assert z.tolist() == [0.0, 1.0]


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(cr.randn(2), approximate="fast")


def _float32_grid():
    grid = np.linspace(-12, 12, 24001, dtype=np.float32)
    tails = np.float32([-13.5, -13.0, -12.5, -1e-30, -0.0, 0.0, 1e-30, 30.0, -30.0])
    return np.concatenate([grid, tails])


def test_float32_ndtr_keeps_relative_accuracy_into_the_tails():
    x = _float32_grid()
    fast, exact = act._ndtr(x), act._ndtr(x.astype(np.float64))  # float32 formula vs erfc
    assert fast.dtype == np.float32
    # relative: Phi(-12) ~ 2e-33 must still carry ~7 digits
    np.testing.assert_allclose(fast, exact, rtol=1e-6, atol=1e-43)
    specials = act._ndtr(np.float32([np.inf, -np.inf, np.nan, -40.0]))
    assert specials[:2].tolist() == [1.0, 0.0] and np.isnan(specials[2]) and specials[3] == 0


def test_ndtr_float32_blocks_and_layouts_agree(monkeypatch):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((7, 9)) * 4).astype(np.float32)
    whole = act._ndtr(x)
    monkeypatch.setattr(normal, "_BLOCK", 5)  # several blocks and a short last one
    np.testing.assert_array_equal(act._ndtr(x), whole)
    np.testing.assert_array_equal(act._ndtr(x.T), whole.T)  # non-contiguous input


@pytest.mark.parametrize("create_graph", [False, True], ids=["array_path", "tensor_path"])
def test_float32_gelu_matches_the_float64_path(create_graph):
    x = _float32_grid()
    x32 = cr.tensor(x, requires_grad=True)
    x64 = cr.tensor(x.astype(np.float64), requires_grad=True)
    y32, y64 = F.gelu(x32), F.gelu(x64)
    assert y32.dtype == cr.float32
    np.testing.assert_allclose(y32.detach().numpy(), y64.detach().numpy(), rtol=1e-6,
                               atol=1e-42)
    (g32,) = cr.autograd.grad(y32.sum(), [x32], create_graph=create_graph)
    (g64,) = cr.autograd.grad(y64.sum(), [x64])
    assert g32.dtype == cr.float32
    # dx = Phi(x) + x phi(x) cancels (left tail, x near -0.75): a few ulps of the terms
    xd = x.astype(np.float64)
    terms = act._ndtr(xd) + np.abs(xd) * np.exp(-xd * xd / 2) / math.sqrt(2 * math.pi)
    error = np.abs(g32.detach().numpy() - g64.numpy())
    tiny = np.finfo(np.float32).tiny  # below it float32 has no relative accuracy to keep
    rtol = 1e-6
    if create_graph:  # the recorded exp(-x^2/2) rounds x^2 first: ~x^2 ulps of error
        rtol = rtol + 2 * xd * xd * np.finfo(np.float32).eps
    bad = error > rtol * np.abs(g64.numpy()) + 4 * np.finfo(np.float32).eps * terms + tiny
    assert not bad.any(), (x[bad], error[bad], g64.numpy()[bad])


def test_rrelu_draws_a_slope_per_element_while_training():
    cr.manual_seed(0)
    x = -cr.ones(4000, dtype=cr.float64)
    slopes = -nn.RReLU(0.1, 0.3).train()(x).numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert abs(slopes.mean() - 0.2) < 0.005 and slopes.std() > 0.05  # U(0.1, 0.3): sd 0.058
    np.testing.assert_allclose(nn.RReLU(0.1, 0.3).eval()(x).numpy(), -0.2)
    y = cr.tensor([2.0, -1.0], requires_grad=True)
    out = F.rrelu(y, 0.1, 0.3, training=True)
    out.sum().backward()
    assert y.grad.numpy()[0] == 1.0 and 0.1 <= y.grad.numpy()[1] <= 0.3


def test_activation_argument_errors():
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        F.glu(cr.ones(2, 3))
    with pytest.raises(RuntimeError, match="channel size"):
        F.prelu(cr.ones(2, 3), cr.ones(2))
    with pytest.raises(ValueError, match="must be greater than min_val"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.raises(ValueError, match="3D or 4D"):
        nn.Softmax2d()(cr.ones(2, 3))
