"""Inverse/hyperbolic trigonometry, erf and the gamma family (chainrule.ops.math) and the
composite elementwise functions (chainrule.ops.arithmetic): forward against NumPy or Python's
math module, backward against finite differences."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import arithmetic as A
from chainrule.ops import math as M
from tests.opcheck import OpCase, check_case

_vector = np.vectorize


def _bisect_erfinv(y):
    def one(v):
        lo, hi = -6.0, 6.0
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if math.erf(mid) < v else (lo, mid)
        return (lo + hi) / 2
    return _vector(one)(y)


def _digamma_reference(x):
    # Richardson-extrapolated central differences of math.lgamma
    def one(v):
        def d(h):
            return (math.lgamma(v + h) - math.lgamma(v - h)) / (2 * h)
        return (4 * d(1e-3) - d(2e-3)) / 3 * 16 / 15 - (4 * d(2e-3) - d(4e-3)) / 3 / 15
    return _vector(one)(x)


def _trigamma_reference(x):
    def one(v):
        n = 20000
        head = sum(1.0 / (v + k) ** 2 for k in range(n))
        z = v + n
        return head + 1 / z + 1 / (2 * z * z) + 1 / (6 * z ** 3)
    return _vector(one)(x)


CASES = [
    OpCase("asin", cr.asin, np.arcsin, [(3, 4)], (M.Asin,), domain="unit"),
    OpCase("acos", cr.acos, np.arccos, [(3, 4)], (M.Acos,), domain="unit"),
    OpCase("atan", cr.atan, np.arctan, [(5,)], (M.Atan,)),
    OpCase("sinh", cr.sinh, np.sinh, [(5,)], (M.Sinh,)),
    OpCase("cosh", cr.cosh, np.cosh, [(5,)], (M.Cosh,)),
    OpCase("tan", cr.tan, np.tan, [(5,)], (M.Tan,), domain="unit"),
    OpCase("asinh", cr.asinh, np.arcsinh, [(5,)], (M.Asinh,)),
    OpCase("acosh", lambda a: cr.acosh(a + 1.5), lambda a: np.arccosh(a + 1.5), [(5,)],
           (M.Acosh,), domain="positive"),
    OpCase("atanh", cr.atanh, np.arctanh, [(5,)], (M.Atanh,), domain="unit"),
    OpCase("atan2", cr.atan2, np.arctan2, [(3, 4), (4,)], (M.Atan2,), domain="nonzero"),
    OpCase("erf", cr.erf, _vector(math.erf), [(3, 4)], (M.Erf,)),
    OpCase("erfc", cr.erfc, _vector(math.erfc), [(3, 4)], (M.Erfc,)),
    OpCase("erfinv", cr.erfinv, _bisect_erfinv, [(6,)], (M.Erfinv,), domain="unit"),
    OpCase("lgamma", cr.lgamma, _vector(math.lgamma), [(6,)], (M.Lgamma,), domain="positive"),
    OpCase("digamma", cr.digamma, _digamma_reference, [(6,)], (M.Polygamma,),
           domain="positive"),
    OpCase("trigamma", lambda a: cr.polygamma(1, a), _trigamma_reference, [(4,)],
           (M.Polygamma,), domain="positive"),
    OpCase("log2", cr.log2, np.log2, [(4,)], domain="positive"),
    OpCase("log10", cr.log10, np.log10, [(4,)], domain="positive"),
    OpCase("exp2", cr.exp2, np.exp2, [(4,)]),
    OpCase("sinc", cr.sinc, np.sinc, [(5,)], domain="nonzero"),
    OpCase("logit", lambda a: cr.logit(a * 0.4 + 0.5),
           lambda a: np.log((a * 0.4 + 0.5) / (0.5 - a * 0.4)), [(5,)], domain="unit"),
    OpCase("xlogy", cr.xlogy, lambda a, b: a * np.log(b), [(4,), (4,)], (A.Xlogy,),
           domain="positive"),
    OpCase("hypot", cr.hypot, np.hypot, [(3, 4), (4,)], domain="nonzero"),
    OpCase("logaddexp", cr.logaddexp, np.logaddexp, [(3, 4), (4,)]),
    OpCase("logaddexp2", cr.logaddexp2, np.logaddexp2, [(4,), (4,)]),
    OpCase("copysign", cr.copysign, np.copysign, [(4,), (4,)], domain="nonzero"),
    OpCase("fmod", lambda a, b: cr.fmod(a * 3, b), lambda a, b: np.fmod(a * 3, b),
           [(5,), (5,)], domain="nonzero"),
    OpCase("remainder", lambda a, b: cr.remainder(a * 3, b), lambda a, b: np.remainder(a * 3, b),
           [(5,), (5,)], domain="nonzero"),
    OpCase("lerp", lambda a, b: cr.lerp(a, b, 0.3), lambda a, b: a + 0.3 * (b - a),
           [(3,), (3,)]),
    OpCase("addcdiv", lambda a, b, c: cr.addcdiv(a, b, c, value=0.5),
           lambda a, b, c: a + 0.5 * b / c, [(3,), (3,), (3,)], domain="positive"),
    OpCase("frac", cr.frac, lambda a: a - np.trunc(a), [(4,)], domain="nonzero"),
    OpCase("fmax", cr.fmax, np.fmax, [(4,), (4,)], domain="nonzero"),
    OpCase("float_power", lambda a: cr.float_power(a, 2.5), lambda a: a ** 2.5, [(3,)],
           domain="positive"),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_math_op(case):
    check_case(case)


def test_known_values():
    x = cr.tensor([1.0, 0.5, -1.5], dtype=cr.float64)
    euler_gamma = 0.5772156649015329
    np.testing.assert_allclose(cr.digamma(x).numpy(),
                               [-euler_gamma, -euler_gamma - 2 * math.log(2),
                                0.7031566406452432], rtol=1e-12)
    np.testing.assert_allclose(cr.polygamma(1, x[:2]).numpy(), [math.pi ** 2 / 6,
                                                                 math.pi ** 2 / 2], rtol=1e-12)
    assert cr.lgamma(cr.tensor([0.0, -2.0])).tolist() == [math.inf, math.inf]
    assert cr.erfinv(cr.tensor([1.0, -1.0, 0.0])).tolist() == [math.inf, -math.inf, 0.0]
    assert cr.remainder(cr.tensor([-3, 5]), 2).tolist() == [1, 1]
    assert cr.fmod(cr.tensor([-3, 5]), 2).tolist() == [-1, 1]
    assert (cr.tensor([-3.0, 5.0]) % 2).tolist() == [1.0, 1.0]
    assert cr.sinc(cr.tensor([0.0])).tolist() == [1.0]
    assert cr.nan_to_num(cr.tensor([float("nan"), float("inf")]), posinf=9.0).tolist() == [
        0.0, 9.0]
    assert cr.atan2(cr.tensor([1, 1]), cr.tensor([0, -1])).dtype == cr.float32
    with pytest.raises(ZeroDivisionError):
        cr.remainder(cr.tensor([1]), 0)


def test_xlogy_values_and_gradients_at_zero_nan_and_inf_match_pytorch():
    # PyTorch 2.13 on x in (0, 1, -2, 0.5) times y in (0, 0.2, 3, nan, inf), float64: d/dx is
    # log(y) also where x == 0 (but 0 where both are 0), d/dy is x / y
    inf, nan = math.inf, math.nan
    x = cr.tensor([v for v in (0.0, 1.0, -2.0, 0.5) for _ in range(5)], dtype=cr.float64,
                  requires_grad=True)
    y = cr.tensor([0.0, 0.2, 3.0, nan, inf] * 4, dtype=cr.float64, requires_grad=True)
    out = cr.xlogy(x, y)
    out.sum().backward()
    log02, log3 = math.log(0.2), math.log(3.0)
    expected_out = [0, 0, 0, nan, 0, -inf, log02, log3, nan, inf, inf, -2 * log02, -2 * log3,
                    nan, -inf, -inf, 0.5 * log02, 0.5 * log3, nan, inf]
    expected_dx = [0, log02, log3, nan, inf] + [-inf, log02, log3, nan, inf] * 3
    expected_dy = [nan, 0, 0, nan, 0, inf, 5, 1 / 3, nan, 0, -inf, -10, -2 / 3, nan, 0, inf,
                   2.5, 1 / 6, nan, 0]
    for got, expected in ((out, expected_out), (x.grad, expected_dx), (y.grad, expected_dy)):
        np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-12)
