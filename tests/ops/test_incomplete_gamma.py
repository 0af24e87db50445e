"""The regularized incomplete gamma functions against their integral (computed here by
Simpson's rule after t = u^2, which makes the integrand smooth), derivatives with respect to x
by finite differences through the op table."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import incomplete_gamma as ig
from tests.opcheck import OpCase, check_case

A = np.array([0.5, 1.5, 3.0, 8.0])


def integral_p(a, x):
    """P(a, x) = 1/Gamma(a) int_0^sqrt(x) 2 u^(2a-1) e^(-u^2) du, by Simpson's rule."""
    out = []
    for ai, xi in zip(np.broadcast_to(a, np.shape(x)).ravel(), np.ravel(x)):
        u = np.linspace(0.0, math.sqrt(xi), 20001)
        f = 2 * u ** (2 * ai - 1) * np.exp(-u * u)
        h = u[1] - u[0]
        out.append(h / 3 * (f[0] + f[-1] + 4 * f[1:-1:2].sum() + 2 * f[2:-1:2].sum())
                   / math.gamma(ai))
    return np.array(out).reshape(np.shape(x))


CASES = [
    OpCase("igamma", lambda x: cr.igamma(cr.tensor(A), x * 3), lambda x: integral_p(A, x * 3),
           [(4,)], (ig.Igamma,), domain="positive"),
    OpCase("igammac_method", lambda x: cr.tensor(A).igammac(x * 5),
           lambda x: 1 - integral_p(A, x * 5), [(4,)], (ig.Igamma,), domain="positive"),
    OpCase("special_gammainc", lambda x: cr.special.gammainc(cr.tensor(A), x),
           lambda x: integral_p(A, x), [(4,)], (ig.Igamma,), domain="positive"),
    OpCase("special_gammaincc", lambda x: cr.special.gammaincc(cr.tensor(A), x),
           lambda x: 1 - integral_p(A, x), [(4,)], (ig.Igamma,), domain="positive"),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_op_table(case):
    check_case(case)


def test_edges_and_tails_as_pytorch():
    a = cr.tensor([0.0, -1.0, 1.0, 2.0, 1.0, 1.0], dtype=cr.float64)
    x = cr.tensor([1.0, 1.0, 0.0, -1.0, float("inf"), float("nan")], dtype=cr.float64)
    np.testing.assert_array_equal(cr.igamma(a, x).numpy(), [np.nan, np.nan, 0, np.nan, 1, np.nan])
    np.testing.assert_array_equal(cr.igammac(a, x).numpy(), [np.nan, np.nan, 1, np.nan, 0, np.nan])
    # far tails keep their digits (Q(2, 60) = 61 e^-60; P(60, 2) is about 2e-65)
    np.testing.assert_allclose(cr.igammac(cr.tensor([2.0], dtype=cr.float64),
                                          cr.tensor([60.0], dtype=cr.float64)).numpy(),
                               [61 * math.exp(-60)], rtol=1e-12)
    p = cr.igamma(cr.tensor([60.0], dtype=cr.float64), cr.tensor([2.0], dtype=cr.float64))
    assert 0 < p.item() < 1e-60
    assert cr.igamma(cr.tensor([2.0]), cr.tensor([1.0])).dtype == cr.float32


def test_no_derivative_for_a_as_in_pytorch():
    a = cr.tensor([2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="derivative for 'igamma: input'"):
        cr.igamma(a, cr.tensor([1.0])).backward()
