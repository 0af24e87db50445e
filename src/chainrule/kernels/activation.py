"""GELU in one pass each way: y = x Phi(x);  dx = dy (Phi(x) + x phi(x)); ReLU's backward.
Reference: ``ops/activation.py``'s ``Gelu`` and ``kernels/normal.py``'s ``ndtr_float32``."""


import numba
import numpy as np

from ._jit import exp32, jit
from .normal import INV_SQRT_2, INV_SQRT_2PI, NDTR_FIT, NDTR_FIT_SCALE
from .threads import parallel_ranges

_FIT = NDTR_FIT  # numba reads module-level tuples as constants
_T_SCALE = NDTR_FIT_SCALE * INV_SQRT_2
_INV_SQRT_2PI = INV_SQRT_2PI


@jit(inline="always")
def _phi_pair(x):
    """(Phi(x), phi(x)) for float32 x, relatively accurate into the left tail (as the
    reference, ``normal.ndtr_float32``): erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + s z) at
    z = |x| / sqrt 2, with normal.py's fit of P (bench/fit_ndtr.py). exp(-x^2/2) would lose ~x^2
    ulps if x^2/2 were rounded: x = high + low with 12 bits in high makes high^2/2 exact, and
    the small rest r = high low + low^2/2 goes into a second exp. |x| is capped at 20, where
    Phi(-20) underflows."""
    f = numba.float32
    a = min(abs(x), f(20.0))
    t = f(1.0) / (f(1.0) + f(_T_SCALE) * a)
    p = f(_FIT[0])
    for c in _FIT[1:]:
        p = p * t + f(c)
    big = a * f(4097.0)
    high = big - (big - a)
    low = a - high
    rest = (high + f(0.5) * low) * low
    gauss = exp32(f(-0.5) * high * high)  # exp(-high^2 / 2), the argument exact
    pdf = gauss * exp32(-rest) * f(_INV_SQRT_2PI)
    tail = f(0.5) * t * gauss * exp32(p - rest)  # Phi(-|x|)
    beyond = a >= f(20.0)
    tail = f(0.0) if beyond else tail
    pdf = f(0.0) if beyond else pdf
    cdf = f(1.0) - tail if x >= f(0.0) else tail
    return cdf, pdf


@jit
def _gelu_range(start, stop, part, x, y):
    # each range works on slices from 0: an index that might be negative (start + k) costs
    # a wraparound check per element and the loop no longer vectorises (measured: 11x slower)
    x, y = x[start:stop], y[start:stop]
    for i in range(x.size):
        cdf, _ = _phi_pair(x[i])
        y[i] = x[i] * cdf


@jit
def _gelu_backward_range(start, stop, part, x, dy, dx):
    x, dy, dx = x[start:stop], dy[start:stop], dx[start:stop]
    for i in range(x.size):
        cdf, pdf = _phi_pair(x[i])
        dx[i] = dy[i] * (cdf + x[i] * pdf)


@jit
def _relu_backward_range(start, stop, part, y, dy, dx):
    y, dy, dx = y[start:stop], dy[start:stop], dx[start:stop]
    for i in range(y.size):
        dx[i] = dy[i] if y[i] > np.float32(0.0) else np.float32(0.0)


@jit
def _ndtr_range(start, stop, part, x, out):
    x, out = x[start:stop], out[start:stop]
    for i in range(x.size):
        out[i], _ = _phi_pair(x[i])


def _flat(array):
    return np.ascontiguousarray(array).reshape(-1)


def gelu(x):
    """x Phi(x) for a float32 array."""
    flat = _flat(x)
    y = np.empty_like(flat)
    parallel_ranges(_gelu_range, flat.size, 1, flat, y)
    return y.reshape(x.shape)


def gelu_backward(x, dy):
    """dx = dy (Phi(x) + x phi(x)), recomputed from x (nothing but x kept from forward, as
    PyTorch keeps: a saved slope would cost one more array per GELU)."""
    flat = _flat(x)
    dx = np.empty_like(flat)
    parallel_ranges(_gelu_backward_range, flat.size, 1, flat, _flat(dy), dx)
    return dx.reshape(x.shape)


def relu_backward(y, dy):
    """dx = dy where y > 0, else 0, from ReLU's output (no mask array)."""
    flat = _flat(y)
    dx = np.empty_like(flat)
    parallel_ranges(_relu_backward_range, flat.size, 1, flat, _flat(dy), dx)
    return dx.reshape(y.shape)


def ndtr(x):
    """Phi(x), the standard normal CDF, for a float32 array."""
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty_like(flat)
    parallel_ranges(_ndtr_range, flat.size, 1, flat, out)
    return out.reshape(x.shape)
