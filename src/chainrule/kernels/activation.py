"""GELU in one pass each way: y = x Phi(x);  dx = dy (Phi(x) + x phi(x)); its tanh form;
ReLU's backward.
Reference: ``ops/activation.py``'s ``Gelu`` and ``kernels/normal.py``'s ``ndtr_float32``."""


import numba
import numpy as np

from ._jit import (
    exp32,
    exp32_parts,
    float32_array,
    fma32,
    jit,
    job_arguments,
    range_job,
    side_by_side,
    times_power_of_two,
    wide_vectors,
)
from .normal import INV_SQRT_2, INV_SQRT_2PI, NDTR_FIT_SCALE
from .threads import compiled_ranges

# Phi(-a) = t/2 Q(t) exp(-a^2/2), t = 1 / (1 + a / (2 sqrt 2)): Q(t) = erfc(z) / (t exp(-z^2)),
# z = a / sqrt 2 (the Mills ratio over t), fitted by ``bench/fit_ndtr.py --mills`` (degree 8,
# relative error 4.4e-8 for a <= 20). The NumPy reference (normal.py) writes the same
# function as t exp(-z^2 + P(t)); this form needs one exp for Phi and phi alike, where the
# backward took two, and no exact sum of -z^2 and P(t).
MILLS_FIT = (-0.059386527121470405, 0.28612427976331933, -0.49040700530731068,
             0.28173398785781067, -0.029149002679484226, 0.20375271946486678,
             0.24283506815063471, 0.28241210464336564, 0.28208433104989283)
MILLS_FIT_SCALE = NDTR_FIT_SCALE  # the SCALE of t = 1 / (1 + SCALE z), as for NDTR_FIT
_T_SCALE = MILLS_FIT_SCALE * INV_SQRT_2
_INV_SQRT_2PI = INV_SQRT_2PI
# Multiply-adds fused (FMA): the polynomials in half the instructions; the exact product
# below is an explicit fma32, which contraction leaves alone.
_FUSED = {"contract"}


@jit(inline="always", fastmath=_FUSED)
def _tail_parts(x):
    """(a, Phi(-a) / 2^k, phi(a) / 2^k, k) for a = |x|: both share exp(-a^2/2), computed once
    as p 2^k by exp32_parts, and each is scaled before ``times_power_of_two``, so that it
    rounds once where it falls into the denormals. -a^2/2 = g - lo/2 with g exact (an FMA
    gives a^2's rounding error lo), so exp(-a^2/2) = e^g (1 - lo/2) to second order. a is
    capped at 14.4, where -a^2/2 reaches exp32_parts' range end (-104): float32 holds 0 for
    Phi(-a) and phi(a) from about there (phi(14) = 1.1e-43, Phi(-14) = 8e-45).
    Measured against the previous form (normal.py's P(t), two exps backward), 2048 x 512, one
    thread: forward 2.9 -> 1.8 ms, backward 4.0 -> 2.0 ms; the largest relative error of Phi
    against float64 erfc 4.0e-7 -> 4.4e-7 (the bound the reference holds is 6e-7)."""
    f = numba.float32
    a = min(abs(x), f(14.4))
    t = f(1.0) / (f(1.0) + f(_T_SCALE) * a)
    q = f(MILLS_FIT[0])
    for c in MILLS_FIT[1:]:
        q = q * t + f(c)
    square = a * a
    lo = fma32(a, a, -square)
    p, k = exp32_parts(f(-0.5) * square)  # exact: a power-of-two scaling
    p = p * (f(1.0) - f(0.5) * lo)
    return a, f(0.5) * t * q * p, f(_INV_SQRT_2PI) * p, k


@jit(inline="always", fastmath=_FUSED)
def _cdf(x):
    """Phi(x) for float32 x: 1 - Phi(-|x|) on the right, Phi(-|x|) itself on the left."""
    _, tail, _, k = _tail_parts(x)
    tail = times_power_of_two(tail, k)
    return numba.float32(1.0) - tail if x >= numba.float32(0.0) else tail


@jit(fastmath=_FUSED)
def _gelu_range(start, stop, part, x, y):
    # each range works on slices from 0: an index that might be negative (start + k) costs
    # a wraparound check per element and the loop no longer vectorises (measured: 11x slower)
    wide_vectors()
    x, y = x[start:stop], y[start:stop]
    for i in range(x.size):
        y[i] = x[i] * _cdf(x[i])


@jit(fastmath=_FUSED)
def _gelu_backward_range(start, stop, part, x, dy, dx):
    wide_vectors()
    x, dy, dx = x[start:stop], dy[start:stop], dx[start:stop]
    f = numba.float32
    for i in range(x.size):
        _, tail, density, k = _tail_parts(x[i])
        tail, pdf = times_power_of_two(tail, k), times_power_of_two(density, k)
        cdf = f(1.0) - tail if x[i] >= f(0.0) else tail
        dx[i] = dy[i] * (cdf + x[i] * pdf)


_SQRT_2_OVER_PI = float(np.sqrt(2.0 / np.pi))
_GELU_CUBIC = 0.044715


@jit(inline="always", fastmath=_FUSED)
def _tanh_gate(x):
    """(s, du/dx) for GELU's tanh form: 1/2 (1 + tanh u) = s = 1 / (1 + e^-2u), with
    u = sqrt(2/pi) (x + 0.044715 x^3): one exp and a division, no tanh (whose 1 + tanh u would
    cancel for negative x; e^-2u overflows to inf there, and s to 0, as it should)."""
    f = numba.float32
    square = x * x
    u = f(_SQRT_2_OVER_PI) * (x + f(_GELU_CUBIC) * square * x)
    s = f(1.0) / (f(1.0) + exp32(f(-2.0) * u))
    return s, f(_SQRT_2_OVER_PI) * (f(1.0) + f(3.0 * _GELU_CUBIC) * square)


@jit(fastmath=_FUSED)
def _gelu_tanh_range(start, stop, part, x, y):
    wide_vectors()
    x, y = x[start:stop], y[start:stop]
    for i in range(x.size):
        s, _ = _tanh_gate(x[i])
        y[i] = x[i] * s


@jit(fastmath=_FUSED)
def _gelu_tanh_backward_range(start, stop, part, x, dy, dx):
    """dx = dy (s + 2 x s (1 - s) du/dx), the reference's 1/2 (1 + t) + x/2 (1 - t^2) du/dx
    with t = 2 s - 1."""
    wide_vectors()
    x, dy, dx = x[start:stop], dy[start:stop], dx[start:stop]
    for i in range(x.size):
        s, slope = _tanh_gate(x[i])
        dx[i] = dy[i] * (s + numba.float32(2.0) * x[i] * s * (numba.float32(1.0) - s) * slope)


@jit
def _relu_backward_range(start, stop, part, y, dy, dx):
    wide_vectors()
    y, dy, dx = y[start:stop], dy[start:stop], dx[start:stop]
    for i in range(y.size):
        dx[i] = dy[i] if y[i] > np.float32(0.0) else np.float32(0.0)


@jit(fastmath=_FUSED)
def _ndtr_range(start, stop, part, x, out):
    wide_vectors()
    x, out = x[start:stop], out[start:stop]
    for i in range(x.size):
        out[i] = _cdf(x[i])


# the twins: every range at once (``threads.compiled_ranges``), one per kernel
@side_by_side
def _gelu_ranges(bounds, x, y):
    for part in numba.prange(bounds.size - 1):
        _gelu_range(bounds[part], bounds[part + 1], part, x, y)


@side_by_side
def _gelu_backward_ranges(bounds, x, dy, dx):
    for part in numba.prange(bounds.size - 1):
        _gelu_backward_range(bounds[part], bounds[part + 1], part, x, dy, dx)


@side_by_side
def _gelu_tanh_ranges(bounds, x, y):
    for part in numba.prange(bounds.size - 1):
        _gelu_tanh_range(bounds[part], bounds[part + 1], part, x, y)


@side_by_side
def _gelu_tanh_backward_ranges(bounds, x, dy, dx):
    for part in numba.prange(bounds.size - 1):
        _gelu_tanh_backward_range(bounds[part], bounds[part + 1], part, x, dy, dx)


@side_by_side
def _relu_backward_ranges(bounds, y, dy, dx):
    for part in numba.prange(bounds.size - 1):
        _relu_backward_range(bounds[part], bounds[part + 1], part, y, dy, dx)


@side_by_side
def _ndtr_ranges(bounds, x, out):
    for part in numba.prange(bounds.size - 1):
        _ndtr_range(bounds[part], bounds[part + 1], part, x, out)


# the board's jobs (``threads.compiled_ranges``): arguments [size, input(s), out] by address
@range_job
def _gelu_job(start, stop, part, args):
    size, x, y = job_arguments(args, 3)
    _gelu_range(start, stop, part, float32_array(x, size), float32_array(y, size))


@range_job
def _gelu_backward_job(start, stop, part, args):
    size, x, dy, dx = job_arguments(args, 4)
    _gelu_backward_range(start, stop, part, float32_array(x, size), float32_array(dy, size),
                         float32_array(dx, size))


@range_job
def _gelu_tanh_job(start, stop, part, args):
    size, x, y = job_arguments(args, 3)
    _gelu_tanh_range(start, stop, part, float32_array(x, size), float32_array(y, size))


@range_job
def _gelu_tanh_backward_job(start, stop, part, args):
    size, x, dy, dx = job_arguments(args, 4)
    _gelu_tanh_backward_range(start, stop, part, float32_array(x, size),
                              float32_array(dy, size), float32_array(dx, size))


@range_job
def _relu_backward_job(start, stop, part, args):
    size, y, dy, dx = job_arguments(args, 4)
    _relu_backward_range(start, stop, part, float32_array(y, size), float32_array(dy, size),
                         float32_array(dx, size))


@range_job
def _ndtr_job(start, stop, part, args):
    size, x, out = job_arguments(args, 3)
    _ndtr_range(start, stop, part, float32_array(x, size), float32_array(out, size))


def _flat(array):
    return np.ascontiguousarray(array).reshape(-1)


def _elementwise(kernel, twin, job, x, *others):
    """A new array shaped as ``x``, filled by ``kernel`` over flat views. The result owns its
    memory (no ``.reshape`` view of a flat one): autograd keeps an owning gradient as a leaf's
    ``.grad`` as it is, where a view is copied (measured: 1-4 ms per 2048 x 512 backward)."""
    out = np.empty(x.shape, np.float32)
    arrays = [_flat(x), *[_flat(a) for a in others], out.reshape(-1)]
    block = np.array([arrays[0].size] + [a.ctypes.data for a in arrays], np.int64)
    compiled_ranges(kernel, twin, arrays[0].size, 1, *arrays, job=(job, block))
    return out


def gelu(x):
    """x Phi(x) for a float32 array."""
    return _elementwise(_gelu_range, _gelu_ranges, _gelu_job, x)


def gelu_backward(x, dy):
    """dx = dy (Phi(x) + x phi(x)), recomputed from x (nothing but x kept from forward, as
    PyTorch keeps: a saved slope would cost one more array per GELU)."""
    return _elementwise(_gelu_backward_range, _gelu_backward_ranges, _gelu_backward_job, x, dy)


def gelu_tanh(x):
    """GELU's tanh approximation x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    return _elementwise(_gelu_tanh_range, _gelu_tanh_ranges, _gelu_tanh_job, x)


def gelu_tanh_backward(x, dy):
    """dx of ``gelu_tanh``, recomputed from x."""
    return _elementwise(_gelu_tanh_backward_range, _gelu_tanh_backward_ranges,
                        _gelu_tanh_backward_job, x, dy)


def relu_backward(y, dy):
    """dx = dy where y > 0, else 0, from ReLU's output (no mask array)."""
    return _elementwise(_relu_backward_range, _relu_backward_ranges, _relu_backward_job, y, dy)


def ndtr(x):
    """Phi(x), the standard normal CDF, for a float32 array."""
    return _elementwise(_ndtr_range, _ndtr_ranges, _ndtr_job, x)
