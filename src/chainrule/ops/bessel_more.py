"""More Bessel functions of ``torch.special``, values only (PyTorch defines no derivative for
them, and their results never require grad): ``bessel_j0``/``bessel_j1``,
``modified_bessel_i0``/``i1``, ``modified_bessel_k0``/``k1`` and their exponentially scaled
forms, and ``spherical_bessel_j0``. All computed in float64:

- J_n: the power series for |x| <= 5, the integral (1/pi) int_0^pi cos(n t - x sin t) dt by
  the trapezoid rule (spectrally accurate: the integrand is periodic) up to 25, Hankel's
  expansion beyond;
- K_n: the series K_0 = -(log(x/2) + gamma) I_0 + sum (x^2/4)^k / k!^2 H_k (and K_1's) for
  x <= 2, the integral int_0^inf e^(-x cosh t) cosh(n t) dt (trapezoid, again spectrally
  accurate) up to 25, the asymptotic expansion beyond; K is infinite at 0 and NaN below, as in
  PyTorch."""

import math

import numpy as np

from .._dtypes import default_float, is_float
from ..tensor import Tensor
from ._operands import wrap
from .bessel import _scaled_bessel
from .registry import register

_EULER = 0.5772156649015329
_J_NODES = np.linspace(0.0, np.pi, 129)
_K_STEP = 0.05


def _array(input):
    data = input._data if isinstance(input, Tensor) else np.asarray(input)
    dtype = data.dtype if is_float(data.dtype) else default_float()
    return data.astype(np.float64), dtype


def _hankel(order, x):
    """J_order(x) for x > 0 large, by Hankel's asymptotic expansion (20 terms)."""
    mu = 4.0 * order * order
    p, q, term = np.ones_like(x), np.zeros_like(x), np.ones_like(x)
    for k in range(1, 21):
        term = term * (mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
        if k % 2:
            q = q + (-1) ** (k // 2) * term
        else:
            p = p + (-1) ** (k // 2) * term
    chi = x - (order / 2 + 0.25) * np.pi
    return np.sqrt(2 / (np.pi * x)) * (p * np.cos(chi) - q * np.sin(chi))


def _series_j(order, x):
    """J_order(x) by sum (-1)^k (x/2)^(2k+order) / (k! (k+order)!) (30 terms; |x| <= 5)."""
    half = x / 2
    term = half ** order / math.factorial(order)
    total = term.copy()
    for k in range(1, 30):
        term = -term * half * half / (k * (k + order))
        total = total + term
    return total


def _bessel_j(order, x):
    a = np.abs(x)
    out = np.empty_like(a)
    near = a <= 5
    out[near] = _series_j(order, a[near])
    middle = (a > 5) & (a <= 25)
    if middle.any():
        t = _J_NODES
        values = np.cos(order * t - a[middle][:, None] * np.sin(t))
        out[middle] = np.trapezoid(values, t, axis=-1) / np.pi
    far = a > 25
    if far.any():
        out[far] = _hankel(order, a[far])
    return np.sign(x) * out if order == 1 else out


def _series_k(order, x):
    """K_order(x) for 0 < x <= 2 by its series (40 terms)."""
    y = x * x / 4
    log_half = np.log(x / 2)
    i0, i1 = _scaled_bessel(0, x) * np.exp(x), _scaled_bessel(1, x) * np.exp(x)
    if order == 0:
        total, term, harmonic = np.zeros_like(x), np.ones_like(x), 0.0
        for k in range(1, 40):
            term = term * y / (k * k)
            harmonic += 1.0 / k
            total = total + term * harmonic
        return -(log_half + _EULER) * i0 + total
    # K_1 = 1/x + log(x/2) I_1 - (x/4) sum (psi(k+1) + psi(k+2)) (x^2/4)^k / (k! (k+1)!)
    total, term, harmonic = np.zeros_like(x), np.ones_like(x), 0.0
    for k in range(40):
        if k:
            term = term * y / (k * (k + 1))
            harmonic += 1.0 / k
        psi_sum = (-_EULER + harmonic) + (-_EULER + harmonic + 1.0 / (k + 1))
        total = total + psi_sum * term
    return 1 / x + log_half * i1 - x / 4 * total


def _asymptotic_k_scaled(order, x):
    """e^x K_order(x) for x > 25: sqrt(pi / 2x) sum_k prod_j (mu - (2j-1)^2) / (k! (8x)^k)."""
    mu = 4.0 * order * order
    term, total = np.ones_like(x), np.ones_like(x)
    for k in range(1, 21):
        term = term * (mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
        total = total + term
    return np.sqrt(np.pi / (2 * x)) * total


def _integral_k_scaled(order, x):
    """e^x K_order(x) for 2 < x <= 25: int_0^inf e^(-x (cosh t - 1)) cosh(order t) dt."""
    top = math.acosh(1 + 745.0 / 2.0) + 1
    t = np.arange(0.0, top, _K_STEP)
    values = np.exp(-x[:, None] * (np.cosh(t) - 1)) * np.cosh(order * t)
    return np.trapezoid(values, t, axis=-1)


def _bessel_k(order, x, scaled):
    out = np.full_like(x, np.nan)
    out[x == 0] = np.inf
    small = (x > 0) & (x <= 2)
    if small.any():
        k = _series_k(order, x[small])
        out[small] = k * np.exp(x[small]) if scaled else k
    for part, compute in (((x > 2) & (x <= 25), _integral_k_scaled), (x > 25,
                                                                       _asymptotic_k_scaled)):
        if part.any():
            k = compute(order, x[part])
            out[part] = k if scaled else k * np.exp(-x[part])
    return out


def _values(compute, input):
    x, dtype = _array(input)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return wrap(np.asarray(compute(x)).astype(dtype))


def bessel_j0(input):
    """J_0(x), the Bessel function of the first kind of order 0."""
    return _values(lambda x: _bessel_j(0, x), input)


def bessel_j1(input):
    """J_1(x), the Bessel function of the first kind of order 1."""
    return _values(lambda x: _bessel_j(1, x), input)


def modified_bessel_i0(input):
    """I_0(x) (as ``special.i0``, without a derivative)."""
    return _values(lambda x: _scaled_bessel(0, x) * np.exp(np.abs(x)), input)


def modified_bessel_i1(input):
    """I_1(x) (as ``special.i1``, without a derivative)."""
    return _values(lambda x: np.sign(x) * _scaled_bessel(1, x) * np.exp(np.abs(x)), input)


def modified_bessel_k0(input):
    """K_0(x), the modified Bessel function of the second kind of order 0."""
    return _values(lambda x: _bessel_k(0, x, scaled=False), input)


def modified_bessel_k1(input):
    """K_1(x), the modified Bessel function of the second kind of order 1."""
    return _values(lambda x: _bessel_k(1, x, scaled=False), input)


def scaled_modified_bessel_k0(input):
    """e^x K_0(x), without underflow for large x."""
    return _values(lambda x: _bessel_k(0, x, scaled=True), input)


def scaled_modified_bessel_k1(input):
    """e^x K_1(x), without underflow for large x."""
    return _values(lambda x: _bessel_k(1, x, scaled=True), input)


def spherical_bessel_j0(input):
    """j_0(x) = sin(x) / x (1 at 0)."""
    return _values(lambda x: np.where(x == 0, 1.0, np.sin(x) / np.where(x == 0, 1.0, x)), input)


for _function in (bessel_j0, bessel_j1, modified_bessel_i0, modified_bessel_i1,
                  modified_bessel_k0, modified_bessel_k1, scaled_modified_bessel_k0,
                  scaled_modified_bessel_k1, spherical_bessel_j0):
    register(_function, top=False, method=False, special=True)
