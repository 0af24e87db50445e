"""Elementwise functions built from other differentiable ops (no primitives of their own, so
their gradients come from the ops they are made of), but for xlogy, whose gradient PyTorch
defines piecewise.

Rounding-based functions (fmod, remainder, floor_divide, frac) differentiate as PyTorch does:
the rounded quotient is a constant, so d remainder(a, b)/db = -floor(a / b)."""

import math

import numpy as np

from .. import return_types
from .._dtypes import default_float, is_float
from ..autograd.function import Function
from ..tensor import Tensor
from . import compare as C
from . import elementwise as E
from . import rounding
from ._operands import as_tensor_pair, promoted_dtype, wrap
from .math import erfcx
from .registry import register

_LN2, _LN10 = math.log(2.0), math.log(10.0)
FrexpResult = return_types.frexp


def log2(input):
    return E.log(input) / _LN2


def log10(input):
    return E.log(input) / _LN10


def exp2(input):
    return E.exp(input * _LN2)


def sinc(input):
    """sin(pi x) / (pi x), and 1 at x = 0."""
    zero = input == 0
    scaled = E.where(zero, 1.0, input) * math.pi  # no 0/0 where x == 0
    return E.where(zero, 1.0, E.sin(scaled) / scaled)


def logit(input, eps=None):
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when eps is given."""
    p = input if eps is None else E.clamp(input, eps, 1 - eps)
    return E.log(p / (1 - p))


class Xlogy(Function):
    """x * log(y), 0 where x == 0 (unless y is NaN). PyTorch's gradient is piecewise, so
    this one op has its own: d/dx = log(y), also where x == 0 (a Dirichlet's log-density at a
    concentration of exactly 1 needs it), but 0 where x and y are both 0; d/dy = x / y."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        a, b = x._data, y._data
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where((a == 0) & ~np.isnan(b), 0, a * np.log(b))
        dtype = promoted_dtype(x, y)
        return wrap(np.asarray(out, dtype=dtype if is_float(dtype) else default_float()))

    @staticmethod
    def backward(ctx, grad_out):
        x, y = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            grad_x = grad_out * E.where((x == 0) & (y == 0), 0.0, E.log(y))
            grad_y = grad_out * x / y
        return grad_x, grad_y


def xlogy(input, other):
    """x * log(y), and 0 where x == 0 (even where y is 0)."""
    x, y = as_tensor_pair(input, other)
    return Xlogy.apply(x, y)


def hypot(input, other):
    return E.sqrt(input * input + other * other)


def logaddexp(input, other):
    """log(exp(a) + exp(b)) without overflow."""
    a, b = as_tensor_pair(input, other)
    high = E.maximum(a, b)
    return high + E.log1p(E.exp(-E.abs(a - b)))


def logaddexp2(input, other):
    """log2(2^a + 2^b) without overflow."""
    return logaddexp(input * _LN2, other * _LN2) / _LN2


def copysign(input, other):
    """|a| with the sign of b (the sign bit: -0.0 counts as negative)."""
    a, b = as_tensor_pair(input, other)
    negative = wrap(np.signbit(b._data))
    magnitude = E.abs(a)
    if not is_float(magnitude._data.dtype):
        magnitude = magnitude.to(default_float())
    return E.where(negative, -magnitude, magnitude)


def _rounded_quotient(a, b, rounding):
    return wrap(rounding(np.true_divide(a._data, b._data)).astype(promoted_dtype(a, b)))


def fmod(input, other):
    """a - trunc(a / b) * b: the remainder with the sign of a (C's fmod)."""
    a, b = as_tensor_pair(input, other)
    if not is_float(promoted_dtype(a, b)):
        return wrap(np.fmod(*_int_pair(a, b)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return a - _rounded_quotient(a, b, np.trunc) * b


def remainder(input, other):
    """a - floor(a / b) * b: the remainder with the sign of b (Python's %)."""
    a, b = as_tensor_pair(input, other)
    if not is_float(promoted_dtype(a, b)):
        return wrap(np.remainder(*_int_pair(a, b)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return a - _rounded_quotient(a, b, np.floor) * b


def _int_pair(a, b):
    dtype = promoted_dtype(a, b)
    if np.any(b._data == 0):
        raise ZeroDivisionError("integer division or modulo by zero (ZeroDivisionError)")
    return a._data.astype(dtype, copy=False), b._data.astype(dtype, copy=False)




def true_divide(input, other):
    return E.div(input, other)


def float_power(input, exponent):
    """input ** exponent in float64."""
    a = input.double() if isinstance(input, Tensor) else input
    b = exponent.double() if isinstance(exponent, Tensor) else exponent
    if not isinstance(a, Tensor):
        a = wrap(np.asarray(a, dtype=np.float64))
    return E.pow(a, b)


def lerp(input, end, weight):
    """input + weight * (end - input)."""
    return input + weight * (end - input)


def addcmul(input, tensor1, tensor2, *, value=1):
    return input + value * tensor1 * tensor2


def addcdiv(input, tensor1, tensor2, *, value=1):
    return input + value * tensor1 / tensor2


def frac(input):
    """x - trunc(x), the fractional part with x's sign."""
    return input - rounding.trunc(input).detach()


def fix(input):
    return rounding.trunc(input)


def deg2rad(input):
    return input * (math.pi / 180.0)


def rad2deg(input):
    return input * (180.0 / math.pi)


def heaviside(input, values):
    """0 where x < 0, 1 where x > 0, ``values`` where x == 0."""
    x, v = as_tensor_pair(input, values)
    dtype = promoted_dtype(x, v)
    return wrap(np.heaviside(x._data, v._data).astype(dtype))


def fmax(input, other):
    """The larger of a and b, ignoring NaN (NaN only where both are); on a tie the gradient
    goes to a, as PyTorch's."""
    a, b = as_tensor_pair(input, other)
    return E.where(C.isnan(b) | (a >= b), a, b)


def fmin(input, other):
    """The smaller of a and b, ignoring NaN (NaN only where both are); on a tie the gradient
    goes to a, as PyTorch's."""
    a, b = as_tensor_pair(input, other)
    return E.where(C.isnan(b) | (a <= b), a, b)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN to ``nan``, +inf and -inf to the given values (the dtype's extremes by default)."""
    if not is_float(input._data.dtype):
        return E.clone(input)
    info = np.finfo(input._data.dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    out = E.where(C.isnan(input), nan, input)
    out = E.where(wrap(np.isposinf(input._data)), posinf, out)
    return E.where(wrap(np.isneginf(input._data)), neginf, out)


def clamp_min(input, min):
    return E.clamp(input, min=min)


def clamp_max(input, max):
    return E.clamp(input, max=max)






def rsub(input, other, *, alpha=1):
    """other - alpha * input."""
    return E.sub(other, input, alpha=alpha)




def signbit(input):
    return wrap(np.signbit(input._data))


def sgn(input):
    return E.sign(input)


def isposinf(input):
    return wrap(np.isposinf(input._data))


def isneginf(input):
    return wrap(np.isneginf(input._data))


def isreal(input):
    return wrap(np.ones(input._data.shape, dtype=bool))  # chainrule's dtypes are all real


def bitwise_left_shift(input, other):
    a, b = as_tensor_pair(input, other)
    return wrap(np.left_shift(*_same_int_dtype(a, b, "bitwise_left_shift")))


def bitwise_right_shift(input, other):
    a, b = as_tensor_pair(input, other)
    return wrap(np.right_shift(*_same_int_dtype(a, b, "bitwise_right_shift")))


def _same_int_dtype(a, b, op):
    dtype = promoted_dtype(a, b)
    if dtype.kind not in "iu":
        raise RuntimeError(f"{op} needs integer tensors, got {a.dtype} and {b.dtype}")
    return a._data.astype(dtype, copy=False), b._data.astype(dtype, copy=False)


def gcd(input, other):
    a, b = as_tensor_pair(input, other)
    return wrap(np.gcd(*_same_int_dtype(a, b, "gcd")))


def lcm(input, other):
    a, b = as_tensor_pair(input, other)
    return wrap(np.lcm(*_same_int_dtype(a, b, "lcm")))


def nextafter(input, other):
    a, b = as_tensor_pair(input, other)
    dtype = promoted_dtype(a, b)
    return wrap(np.nextafter(a._data.astype(dtype), b._data.astype(dtype)))


def ldexp(input, other):
    """input * 2 ** other."""
    return input * E.pow(2.0, other if isinstance(other, Tensor) else float(other))


def expit(input):
    """``torch.special.expit``: the logistic sigmoid."""
    return E.sigmoid(input)


def entr(input):
    """-x log x (0 at 0, -inf below 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = -input * E.log(E.where(input > 0, input, 1.0))
    return E.where(input < 0, -math.inf, E.where(input == 0, 0.0, inside))


def xlog1py(input, other):
    """x * log1p(y), and 0 where x == 0."""
    x, y = as_tensor_pair(input, other)
    with np.errstate(invalid="ignore"):
        return E.where(x == 0, 0.0, x * E.log1p(y))


def ndtri(input):
    """The inverse of the standard normal CDF: sqrt(2) erfinv(2p - 1)."""
    return math.sqrt(2.0) * (input * 2 - 1).erfinv()


def log_ndtr(input):
    """log Phi(x): log(erfcx(-x / sqrt 2) / 2) - x^2 / 2 below 0 (no underflow however
    negative x is), log1p(-Phi(-x)) above (no rounding to 0 for large x)."""
    negative = input < 0
    low = E.where(negative, input, -1.0)
    high = E.where(negative, 1.0, input)
    below = E.log(erfcx(low * -math.sqrt(0.5)) * 0.5) - low * low * 0.5
    above = E.log1p((high * math.sqrt(0.5)).erfc() * -0.5)
    return E.where(negative, below, above)


def frexp(input):
    """(mantissa, exponent) with input = mantissa * 2**exponent, |mantissa| in [0.5, 1)."""
    mantissa, exponent = np.frexp(input._data)
    return FrexpResult(wrap(mantissa), wrap(exponent.astype(np.int32)))


# -- registration ------------------------------------------------------------------------------
register(log2)
register(log10)
register(exp2, special=True)
register(sinc, special=True)
register(logit, special=True)
register(xlogy, Xlogy, special=True)
register(hypot)
register(logaddexp)
register(logaddexp2)
register(copysign)
register(fmod)
register(remainder, operators=("__mod__",), reflected=("__rmod__",))
register(true_divide)
register(float_power)
register(lerp)
register(addcmul)
register(addcdiv)
register(frac)
register(fix)
register(deg2rad)
register(rad2deg)
register(heaviside)
register(fmax)
register(fmin)
register(nan_to_num)
register(clamp_min)
register(clamp_max)
register(rsub, method=False)
register(signbit)
register(sgn)
register(isposinf)
register(isneginf)
register(isreal)
register(bitwise_left_shift, operators=("__lshift__",))
register(bitwise_right_shift, operators=("__rshift__",))
register(gcd)
register(lcm)
register(nextafter)
register(ldexp)
register(expit, top=False, method=False, special=True)
register(entr, top=False, method=False, special=True)
register(xlog1py, top=False, method=False, special=True)
register(ndtri, top=False, method=False, special=True)
register(log_ndtr, top=False, method=False, special=True)
register(frexp)
