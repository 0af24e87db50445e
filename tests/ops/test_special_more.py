"""torch.special's orthogonal polynomials and its Bessel functions without derivatives: values
against NumPy's polynomial module and trigonometric identities, and against mpmath (30 digits,
printed into the tables below); the results never require grad, as in PyTorch."""

import numpy as np
import numpy.polynomial as npoly
import pytest

import chainrule as cr
from chainrule import special
from tests.opcheck import OpCase, check_case

DEGREE = 7


def _coefficients(n):
    return np.eye(n + 1)[n]


def _trig(kind, x, n):
    """U, V, W at x = cos(theta) in (-1, 1) by their closed forms."""
    theta = np.arccos(x)
    if kind == "u":
        return np.sin((n + 1) * theta) / np.sin(theta)
    if kind == "v":
        return np.cos((n + 0.5) * theta) / np.cos(theta / 2)
    return np.sin((n + 0.5) * theta) / np.sin(theta / 2)


def _j_integral(order, x):
    t = np.linspace(0.0, np.pi, 4001)
    return np.trapezoid(np.cos(order * t - np.multiply.outer(x, np.sin(t))), t, axis=-1) / np.pi


def _k_integral(order, x):
    t = np.arange(0.0, 25.0, 1e-3)
    return np.trapezoid(np.exp(-np.multiply.outer(x, np.cosh(t))) * np.cosh(order * t), t,
                        axis=-1)


def _zeta_sum(x, q):
    """sum_k (k + q)^-x: 20000 terms, then the integral of the rest (and half its first term)."""
    k = np.arange(20000.0)
    a = q + 20000
    return (np.add.outer(q, k) ** -x[:, None]).sum(-1) + a ** (1 - x) / (x - 1) + 0.5 * a ** -x


def _row(name, op, reference, domain="unit"):
    return OpCase(name, op, reference, [(5,)], domain=domain, grad=False)


CASES = [
    _row("chebyshev_t", lambda x: special.chebyshev_polynomial_t(x, DEGREE),
         lambda x: npoly.chebyshev.chebval(x, _coefficients(DEGREE))),
    _row("chebyshev_u", lambda x: special.chebyshev_polynomial_u(x, DEGREE),
         lambda x: _trig("u", x, DEGREE)),
    _row("chebyshev_v", lambda x: special.chebyshev_polynomial_v(x, DEGREE),
         lambda x: _trig("v", x, DEGREE)),
    _row("chebyshev_w", lambda x: special.chebyshev_polynomial_w(x, DEGREE),
         lambda x: _trig("w", x, DEGREE)),
    _row("shifted_chebyshev_t", lambda x: special.shifted_chebyshev_polynomial_t(x / 2 + .5, 4),
         lambda x: npoly.chebyshev.chebval(x, _coefficients(4))),
    _row("shifted_chebyshev_u", lambda x: special.shifted_chebyshev_polynomial_u(x / 2 + .5, 4),
         lambda x: _trig("u", x, 4)),
    _row("shifted_chebyshev_v", lambda x: special.shifted_chebyshev_polynomial_v(x / 2 + .5, 4),
         lambda x: _trig("v", x, 4)),
    _row("shifted_chebyshev_w", lambda x: special.shifted_chebyshev_polynomial_w(x / 2 + .5, 4),
         lambda x: _trig("w", x, 4)),
    _row("hermite_h", lambda x: special.hermite_polynomial_h(x, cr.tensor(DEGREE)),
         lambda x: npoly.hermite.hermval(x, _coefficients(DEGREE)), "real"),
    _row("hermite_he", lambda x: special.hermite_polynomial_he(x, DEGREE),
         lambda x: npoly.hermite_e.hermeval(x, _coefficients(DEGREE)), "real"),
    _row("laguerre_l", lambda x: special.laguerre_polynomial_l(x, DEGREE),
         lambda x: npoly.laguerre.lagval(x, _coefficients(DEGREE)), "positive"),
    _row("legendre_p", lambda x: special.legendre_polynomial_p(x, DEGREE),
         lambda x: npoly.legendre.legval(x, _coefficients(DEGREE))),
    _row("bessel_j0", lambda x: special.bessel_j0(x * 8), lambda x: _j_integral(0, x * 8),
         "real"),
    _row("bessel_j1", lambda x: special.bessel_j1(x * 8), lambda x: _j_integral(1, x * 8),
         "real"),
    _row("modified_bessel_i0", special.modified_bessel_i0, np.i0, "real"),
    _row("modified_bessel_i1", lambda x: special.modified_bessel_i1(x),
         lambda x: np.gradient(np.i0(np.stack([x - 1e-6, x + 1e-6])), 2e-6, axis=0)[0],
         "real"),
    _row("modified_bessel_k0", lambda x: special.modified_bessel_k0(x * 3),
         lambda x: _k_integral(0, x * 3), "positive"),
    _row("modified_bessel_k1", lambda x: special.modified_bessel_k1(x * 3),
         lambda x: _k_integral(1, x * 3), "positive"),
    _row("scaled_modified_bessel_k0", lambda x: special.scaled_modified_bessel_k0(x * 3),
         lambda x: np.exp(x * 3) * _k_integral(0, x * 3), "positive"),
    _row("scaled_modified_bessel_k1", lambda x: special.scaled_modified_bessel_k1(x * 3),
         lambda x: np.exp(x * 3) * _k_integral(1, x * 3), "positive"),
    OpCase("zeta", lambda x, q: special.zeta(x + 1.5, q), lambda x, q: _zeta_sum(x + 1.5, q),
           [(4,), (4,)], domain="positive", grad=False),
    _row("spherical_bessel_j0", lambda x: special.spherical_bessel_j0(x * 4),
         lambda x: np.sinc(x * 4 / np.pi), "real"),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_op_table(case):
    check_case(case)


# mpmath's besselj at 30 digits: x, J0(x), J1(x) (each range of the computation: series,
# trapezoid, Hankel's expansion)
J_TABLE = [(0.001, 0.9999997500000156, 0.0004999999375000026),
           (1.5, 0.5118276717359181, 0.5579365079100996),
           (4.9, -0.2097383275853262, -0.31469467101519066),
           (5.1, -0.14433474706050065, -0.3370972020182318),
           (12.0, 0.047689310796833535, -0.2234471044906276),
           (24.9, 0.0832459683530155, -0.13485569953140886),
           (25.1, 0.10827567149994945, -0.11463478413442257),
           (60.0, -0.09147180408906187, 0.046598383758166315)]
# mpmath's besselk: x, K0, K1, e^x K0, e^x K1
K_TABLE = [(0.001, 7.023688800562382, 999.9962381560856, 7.030716002378251, 1000.9967345590684),
           (1.5, 0.21380556264752573, 0.2773878004568438, 0.9582100532948965, 1.243165873552553),
           (2.1, 0.10078374088996693, 0.12274641153350789, 0.8230171525316621,
            1.0023680527405792),
           (10.0, 1.778006231616765e-05, 1.8648773453825585e-05, 0.39163193443659866,
            0.41076657059578875),
           (24.9, 3.836096520989492e-12, 3.912382436256763e-12, 0.24993215015402473,
            0.25490238558081707),
           (25.1, 3.1283127143211173e-12, 3.190032318604266e-12, 0.24894399546328752,
            0.25385550089505654),
           (300.0, 3.7236948548891435e-132, 3.7298958583323724e-132, 0.0723300317396073,
            0.07245048166725841)]


def test_bessel_values_against_mpmath():
    x, j0, j1 = (np.array(c) for c in zip(*J_TABLE))
    t = cr.tensor(x)
    np.testing.assert_allclose(special.bessel_j0(t).numpy(), j0, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(special.bessel_j1(-t).numpy(), -j1, rtol=1e-12, atol=1e-15)
    x, k0, k1, ek0, ek1 = (np.array(c) for c in zip(*K_TABLE))
    t = cr.tensor(x)
    for function, want in ((special.modified_bessel_k0, k0), (special.modified_bessel_k1, k1),
                           (special.scaled_modified_bessel_k0, ek0),
                           (special.scaled_modified_bessel_k1, ek1)):
        np.testing.assert_allclose(function(t).numpy(), want, rtol=1e-13)


def test_pytorchs_conventions():
    x = cr.tensor([0.5], requires_grad=True)
    assert not special.chebyshev_polynomial_t(x, 3).requires_grad
    assert not special.bessel_j0(x).requires_grad
    # degrees truncate, negative ones give 0; numbers never widen a tensor's dtype
    got = special.chebyshev_polynomial_t(cr.tensor([0.5]), cr.tensor([0.0, 1, 2, -1, 2.5]))
    np.testing.assert_allclose(got.numpy(), [1.0, 0.5, -0.5, 0.0, -0.5])
    assert special.legendre_polynomial_p(cr.tensor([0.5]), 5.0).dtype == cr.float32
    assert special.chebyshev_polynomial_t(2, cr.tensor([3])).tolist() == [26.0]
    k = special.modified_bessel_k0(cr.tensor([0.0, -1.0], dtype=cr.float64)).numpy()
    assert np.isinf(k[0]) and np.isnan(k[1])
