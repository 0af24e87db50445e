"""Modified Bessel functions of the first kind, orders 0 and 1, and their exponentially scaled
forms: ``torch.i0`` and ``torch.special.i0/i0e/i1/i1e``.

Values: the power series sum_k (x/2)^(2k+n) / (k! (k+n)!) for |x| <= 30 (60 terms, all
positive: no cancellation), and Hankel's asymptotic expansion beyond (20 terms; its error
there is below 1e-18), both in float64. I0 is even and I1 odd.
Derivatives: I0' = I1;  I1' = I0 - I1 / x (1/2 at 0);  i0e' = i1e - sign(x) i0e;
i1e' = i0e - i1e (sign(x) + 1/x) (1/2 at 0)."""

import math

import numpy as np

from ..autograd.function import Function
from ._operands import float_array, wrap
from .elementwise import where
from .registry import register

_SERIES_LIMIT = 30.0
_SERIES_TERMS = 60
_ASYMPTOTIC_TERMS = 20


def _scaled_bessel(order, x):
    """exp(-|x|) I_order(|x|) for a float64 array (the sign of odd orders is applied later)."""
    a = np.abs(x)
    out = np.empty_like(a)
    small = a <= _SERIES_LIMIT
    if small.any():
        half = a[small] / 2
        term = half ** order / math.factorial(order)
        total = term.copy()
        for k in range(1, _SERIES_TERMS):
            term = term * half * half / (k * (k + order))
            total = total + term
        out[small] = total * np.exp(-a[small])
    if (~small).any():
        z = a[~small]
        mu = 4.0 * order * order
        term = np.ones_like(z)
        total = term.copy()
        for k in range(1, _ASYMPTOTIC_TERMS):
            term = -term * (mu - (2 * k - 1) ** 2) / (k * 8.0 * z)
            total = total + term
        out[~small] = total / np.sqrt(2 * np.pi * z)
    return out


def _bessel(order, x, scaled):
    data = float_array(x._data)
    wide = data.astype(np.float64)
    value = _scaled_bessel(order, wide)
    if not scaled:
        with np.errstate(over="ignore"):
            value = value * np.exp(np.abs(wide))
    if order == 1:
        value = np.sign(wide) * value
    return wrap(value.astype(data.dtype))


class I0(Function):
    """y = I0(x);  dx = dy * I1(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _bessel(0, x, scaled=False)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * I1.apply(x)


class I1(Function):
    """y = I1(x);  dx = dy * (I0(x) - y / x), dy / 2 at x = 0."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _bessel(1, x, scaled=False)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        zero = x == 0
        safe_x = where(zero, 1.0, x)
        return grad_out * where(zero, 0.5, I0.apply(x) - I1.apply(x) / safe_x)


class I0e(Function):
    """y = exp(-|x|) I0(x);  dx = dy * (i1e(x) - sign(x) y)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _bessel(0, x, scaled=True)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * (I1e.apply(x) - x.sign() * I0e.apply(x))


class I1e(Function):
    """y = exp(-|x|) I1(x);  dx = dy * (i0e(x) - y (sign(x) + 1/x)), dy / 2 at x = 0."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _bessel(1, x, scaled=True)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        zero = x == 0
        safe_x = where(zero, 1.0, x)
        slope = I0e.apply(x) - I1e.apply(x) * (x.sign() + 1 / safe_x)
        return grad_out * where(zero, 0.5, slope)


def i0(input):
    """The modified Bessel function of the first kind, order 0."""
    return I0.apply(input)


def i0e(input):
    """exp(-|x|) I0(x), without overflow for large |x|."""
    return I0e.apply(input)


def i1(input):
    """The modified Bessel function of the first kind, order 1."""
    return I1.apply(input)


def i1e(input):
    """exp(-|x|) I1(x), without overflow for large |x|."""
    return I1e.apply(input)


register(i0, I0, special=True)
register(i0e, I0e, top=False, method=False, special=True)
register(i1, I1, top=False, method=False, special=True)
register(i1e, I1e, top=False, method=False, special=True)
