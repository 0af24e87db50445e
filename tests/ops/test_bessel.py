"""Modified Bessel functions against their integral I_n(x) = 1/pi int_0^pi e^(x cos t)
cos(n t) dt (the trapezoid rule on a periodic integrand: accurate to rounding), derivatives
against finite differences through the op table."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import bessel as B
from tests.opcheck import OpCase, check_case

_T = np.linspace(0.0, np.pi, 4001)


def integral_bessel(order, x, scaled=False):
    x = np.asarray(x, dtype=np.float64)
    shift = np.abs(x)[..., None] if scaled else 0.0
    integrand = np.exp(x[..., None] * np.cos(_T) - shift) * np.cos(order * _T)
    return np.trapezoid(integrand, _T, axis=-1) / np.pi


CASES = [
    OpCase("i0", cr.i0, lambda a: integral_bessel(0, a), [(3, 4)], (B.I0,)),
    OpCase("i0_method", lambda a: (a * 4).i0(), lambda a: integral_bessel(0, a * 4), [(5,)],
           (B.I0,)),
    OpCase("i0e", cr.special.i0e, lambda a: integral_bessel(0, a, True), [(3, 4)], (B.I0e,)),
    OpCase("i1", cr.special.i1, lambda a: integral_bessel(1, a), [(3, 4)], (B.I1,)),
    OpCase("i1e", cr.special.i1e, lambda a: integral_bessel(1, a, True), [(3, 4)], (B.I1e,)),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_op_table(case):
    check_case(case)


def test_values_across_the_series_and_asymptotic_ranges():
    x = np.array([-45.0, -30.5, -29.5, -3.0, 0.0, 0.25, 12.0, 29.9, 30.1, 60.0])
    for order, name in [(0, "i0"), (1, "i1")]:
        got = getattr(cr.special, name)(cr.tensor(x, dtype=cr.float64)).numpy()
        np.testing.assert_allclose(got, integral_bessel(order, x), rtol=1e-13, atol=1e-15)
        scaled = getattr(cr.special, name + "e")(cr.tensor(x, dtype=cr.float64)).numpy()
        np.testing.assert_allclose(scaled, integral_bessel(order, x, True), rtol=1e-13, atol=1e-15)


def test_scaled_forms_do_not_overflow_and_derivatives_at_zero():
    big = cr.tensor([800.0, -1e5], dtype=cr.float64)
    np.testing.assert_allclose(cr.special.i0e(big).numpy(), 1 / np.sqrt(2 * np.pi * 1e5 * np.array(
        [800 / 1e5, 1.0])), rtol=1e-3)
    assert np.isinf(cr.i0(big).numpy()).all()
    zero = cr.zeros(1, dtype=cr.float64, requires_grad=True)
    (cr.special.i1(zero) + cr.special.i1e(zero)).sum().backward()
    assert zero.grad.item() == 1.0  # 1/2 each, as PyTorch
    x = cr.tensor([2.0], dtype=cr.float32)
    assert cr.i0(x).dtype == cr.float32 and cr.i0(cr.tensor([2])).dtype == cr.float32
    y = cr.tensor([1.0, 2.0])
    y.i0_()
    np.testing.assert_allclose(y.numpy(), integral_bessel(0, [1.0, 2.0]), rtol=1e-6)
