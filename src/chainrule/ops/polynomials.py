"""The classical orthogonal polynomials of ``torch.special`` (Chebyshev T, U, V, W and their
shifted forms, Hermite H and He, Laguerre L, Legendre P) at x, of degree n; and the Hurwitz
zeta function, which shares their conventions.

As in PyTorch: x and n broadcast (either may be a number), n is truncated to an integer, a
negative degree gives 0, the result is floating point (the default dtype for integers), and
there is no derivative (the result never requires grad). Values by the three-term recurrence
of each family, run for every element up to its own degree."""

import numpy as np

from .._dtypes import default_float, is_float
from ..tensor import Tensor
from ._operands import wrap
from .registry import register


def _operands(x, n, integer_degrees=True):
    """x and n as arrays: x floating (numbers and integers as the default float), n integer
    degrees (truncated; or floating when not ``integer_degrees``), broadcast together."""
    xs = x._data if isinstance(x, Tensor) else np.asarray(x)
    ns = n._data if isinstance(n, Tensor) else np.asarray(n)
    # a Python number never widens a tensor's dtype (PyTorch's promotion)
    floats = [a.dtype for a, t in ((xs, x), (ns, n)) if isinstance(t, Tensor)
              and is_float(a.dtype)]
    dtype = np.result_type(*floats) if floats else default_float()
    degrees = np.trunc(ns).astype(np.int64) if integer_degrees else ns.astype(dtype)
    xs, ns = np.broadcast_arrays(xs.astype(dtype), degrees)
    return xs, ns, dtype


def _recurrence(x, n, first, second, step):
    """p_n by p_{k+1} = step(k, x, p_k, p_{k-1}) from p_0 = first(x), p_1 = second(x)."""
    with np.errstate(over="ignore", invalid="ignore"):
        previous, current = first(x), second(x)
        out = np.where(n == 0, previous, current)
        for k in range(1, int(n.max(initial=0))):
            previous, current = current, step(k, x, current, previous)
            out = np.where(n == k + 1, current, out)
    return np.where(n < 0, 0, out)


def _evaluate(x, n, first, second, step):
    xs, ns, dtype = _operands(x, n)
    return wrap(np.asarray(_recurrence(xs, ns, first, second, step), dtype=dtype))


def _ones(x):
    return np.ones_like(x)


def _chebyshev(k, x, current, previous):
    return 2 * x * current - previous


def chebyshev_polynomial_t(input, n):
    """T_n(x): T_0 = 1, T_1 = x, T_{k+1} = 2x T_k - T_{k-1}."""
    return _evaluate(input, n, _ones, lambda x: x, _chebyshev)


def chebyshev_polynomial_u(input, n):
    """U_n(x): U_0 = 1, U_1 = 2x, U_{k+1} = 2x U_k - U_{k-1}."""
    return _evaluate(input, n, _ones, lambda x: 2 * x, _chebyshev)


def chebyshev_polynomial_v(input, n):
    """V_n(x): V_0 = 1, V_1 = 2x - 1, V_{k+1} = 2x V_k - V_{k-1}."""
    return _evaluate(input, n, _ones, lambda x: 2 * x - 1, _chebyshev)


def chebyshev_polynomial_w(input, n):
    """W_n(x): W_0 = 1, W_1 = 2x + 1, W_{k+1} = 2x W_k - W_{k-1}."""
    return _evaluate(input, n, _ones, lambda x: 2 * x + 1, _chebyshev)


def _shifted(input):
    return input * 2 - 1 if isinstance(input, Tensor) else np.asarray(input) * 2 - 1


def shifted_chebyshev_polynomial_t(input, n):
    """T*_n(x) = T_n(2x - 1)."""
    return chebyshev_polynomial_t(_shifted(input), n)


def shifted_chebyshev_polynomial_u(input, n):
    """U*_n(x) = U_n(2x - 1)."""
    return chebyshev_polynomial_u(_shifted(input), n)


def shifted_chebyshev_polynomial_v(input, n):
    """V*_n(x) = V_n(2x - 1)."""
    return chebyshev_polynomial_v(_shifted(input), n)


def shifted_chebyshev_polynomial_w(input, n):
    """W*_n(x) = W_n(2x - 1)."""
    return chebyshev_polynomial_w(_shifted(input), n)


def hermite_polynomial_h(input, n):
    """The physicists' H_n(x): H_0 = 1, H_1 = 2x, H_{k+1} = 2x H_k - 2k H_{k-1}."""
    return _evaluate(input, n, _ones, lambda x: 2 * x,
                     lambda k, x, cur, prev: 2 * x * cur - 2 * k * prev)


def hermite_polynomial_he(input, n):
    """The probabilists' He_n(x): He_0 = 1, He_1 = x, He_{k+1} = x He_k - k He_{k-1}."""
    return _evaluate(input, n, _ones, lambda x: x, lambda k, x, cur, prev: x * cur - k * prev)


def laguerre_polynomial_l(input, n):
    """L_n(x): L_0 = 1, L_1 = 1 - x, L_{k+1} = ((2k + 1 - x) L_k - k L_{k-1}) / (k + 1)."""
    return _evaluate(input, n, _ones, lambda x: 1 - x,
                     lambda k, x, cur, prev: ((2 * k + 1 - x) * cur - k * prev) / (k + 1))


def legendre_polynomial_p(input, n):
    """P_n(x): P_0 = 1, P_1 = x, P_{k+1} = ((2k + 1) x P_k - k P_{k-1}) / (k + 1)."""
    return _evaluate(input, n, _ones, lambda x: x,
                     lambda k, x, cur, prev: ((2 * k + 1) * x * cur - k * prev) / (k + 1))


for _function in (chebyshev_polynomial_t, chebyshev_polynomial_u, chebyshev_polynomial_v,
                  chebyshev_polynomial_w, shifted_chebyshev_polynomial_t,
                  shifted_chebyshev_polynomial_u, shifted_chebyshev_polynomial_v,
                  shifted_chebyshev_polynomial_w, hermite_polynomial_h, hermite_polynomial_he,
                  laguerre_polynomial_l, legendre_polynomial_p):
    register(_function, top=False, method=False, special=True)


# -- the Hurwitz zeta function --------------------------------------------------------------------
# B_2j / (2j)! for j = 1..12 (Euler-Maclaurin's correction terms)
_BERNOULLI_OVER_FACTORIAL = [
    1 / 12, -1 / 720, 1 / 30240, -1 / 1209600, 1 / 47900160, -691 / 1307674368000,
    1 / 74724249600, -3617 / 10670622842880000, 43867 / 5109094217170944000,
    -174611 / 802857662698291200000, 77683 / 14101100039391805440000,
    -236364091 / 1.5511210043330985984e25,
]
_ZETA_DIRECT_TERMS = 12


def _hurwitz_zeta(x, q):
    """sum_k (k + q)^-x on float64 arrays: 12 terms summed, then Euler-Maclaurin's tail."""
    with np.errstate(all="ignore"):
        total = np.zeros(np.broadcast(x, q).shape)
        for k in range(_ZETA_DIRECT_TERMS):
            total = total + (q + k) ** -x
        a = q + _ZETA_DIRECT_TERMS
        total = total + a ** (1 - x) / (x - 1) + 0.5 * a ** -x
        rising, power = x.copy() if np.ndim(x) else np.asarray(x), a ** (-x - 1)
        for j, coefficient in enumerate(_BERNOULLI_OVER_FACTORIAL):
            total = total + coefficient * rising * power
            rising = rising * (x + 2 * j + 1) * (x + 2 * j + 2)
            power = power / (a * a)
        total = np.where(x == 1, np.inf, np.where(x < 1, np.nan, total))
        pole = (q <= 0) & (q == np.floor(q))
        total = np.where(pole, np.inf, np.where((q <= 0) & (x != np.floor(x)), np.nan, total))
    return total


def zeta(input, other):
    """The Hurwitz zeta function sum_k (k + other)^-input (input > 1), values only as in
    PyTorch (infinite at x = 1 and at q = 0, -1, -2 ...; NaN for x < 1)."""
    xs, qs, dtype = _operands(input, other, integer_degrees=False)
    return wrap(np.asarray(_hurwitz_zeta(xs.astype(np.float64), qs.astype(np.float64)),
                           dtype=dtype))


register(zeta, top=False, method=False, special=True)
