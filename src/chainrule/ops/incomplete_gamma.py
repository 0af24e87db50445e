"""The regularized incomplete gamma functions: ``torch.igamma``/``special.gammainc``
P(a, x) = gamma(a, x) / Gamma(a), and ``torch.igammac``/``special.gammaincc`` Q = 1 - P.

Values (float64): P by its power series where x < a + 1, Q by its continued fraction (modified
Lentz) elsewhere, each with the other as its complement, so neither loses digits to a
subtraction near 1. NaN where a or x is negative (or NaN), as PyTorch; P(a, 0) = 0,
P(a, inf) = 1. Derivative: dP/dx = x^(a-1) e^-x / Gamma(a) = -dQ/dx. As in PyTorch, there is
none with respect to a."""

import numpy as np

from ..autograd.function import Function
from ._operands import as_tensor_pair, float_array, wrap
from .math import _lgamma, lgamma
from .registry import register

_TERMS = 2000
_EPS = 1e-16
_TINY = 1e-300


def _series(a, x):
    """P(a, x) by sum_n x^n / (a (a+1) ... (a+n)), times x^a e^-x / Gamma(a)."""
    term = 1.0 / a
    total = term.copy()
    for n in range(1, _TERMS):
        term = term * x / (a + n)
        total = total + term
        if np.all(np.abs(term) < np.abs(total) * _EPS):
            break
    return total * np.exp(-x + a * np.log(x) - _lgamma(a))


def _continued_fraction(a, x):
    """Q(a, x) by the continued fraction of Gamma(a, x) (modified Lentz)."""
    b = x + 1.0 - a
    c = np.full_like(x, 1.0 / _TINY)
    d = 1.0 / b
    h = d.copy()
    for i in range(1, _TERMS):
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < _TINY, _TINY, d)
        c = b + an / c
        c = np.where(np.abs(c) < _TINY, _TINY, c)
        d = 1.0 / d
        step = d * c
        h = h * step
        if np.all(np.abs(step - 1.0) < _EPS):
            break
    return np.exp(-x + a * np.log(x) - _lgamma(a)) * h


def regularized_gamma(a, x, upper):
    """P(a, x) (or Q when ``upper``) on broadcast float64 arrays."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    out = np.full(a.shape, np.nan)
    valid = (a > 0) & (x >= 0)
    at_zero, at_inf = valid & (x == 0), valid & np.isinf(x)
    out[at_zero] = 1.0 if upper else 0.0
    out[at_inf] = 0.0 if upper else 1.0
    inside = valid & ~at_zero & ~at_inf
    lower = inside & (x < a + 1)
    if lower.any():
        p = _series(a[lower], x[lower])
        out[lower] = 1.0 - p if upper else p
    rest = inside & ~lower
    if rest.any():
        q = _continued_fraction(a[rest], x[rest])
        out[rest] = q if upper else 1.0 - q
    return out


class Igamma(Function):
    """y = P(a, x) (``upper``: Q(a, x));  dx = +-dy x^(a-1) e^-x / Gamma(a); none for a."""

    @staticmethod
    def forward(ctx, a, x, *, upper):
        ctx.upper = upper
        ctx.save_for_backward(a, x)
        dtype = float_array(a._data).dtype
        return wrap(regularized_gamma(a._data, x._data, upper).astype(dtype))

    @staticmethod
    def backward(ctx, grad_out):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError(
                f"the derivative for '{'igammac' if ctx.upper else 'igamma'}: input' is not "
                "implemented (PyTorch has none either); detach the first argument"
            )
        density = ((a - 1) * x.log() - x - lgamma(a)).exp()
        return None, (-grad_out if ctx.upper else grad_out) * density


def igamma(input, other):
    """The regularized lower incomplete gamma function P(input, other)."""
    a, x = as_tensor_pair(input, other)
    return Igamma.apply(a, x, upper=False)


def igammac(input, other):
    """The regularized upper incomplete gamma function Q(input, other) = 1 - P."""
    a, x = as_tensor_pair(input, other)
    return Igamma.apply(a, x, upper=True)


def gammainc(input, other):
    return igamma(input, other)


def gammaincc(input, other):
    return igammac(input, other)


register(igamma, Igamma)
register(igammac, Igamma)
register(gammainc, Igamma, top=False, method=False, special=True)
register(gammaincc, Igamma, top=False, method=False, special=True)
