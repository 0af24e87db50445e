"""Special and trigonometric functions beyond the basic elementwise family: inverse and
hyperbolic trigonometry, erf and its relatives, the gamma family, atan2. Each primitive states
its derivative; the functions built from other differentiable ops follow after them.

Numerics: erf/erfc are ``kernels.normal``'s (rational approximations, accurate in the
tails); lgamma is Python's ``math.lgamma`` per element; digamma and polygamma use the
recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10 and then the asymptotic series (the reflection
formula below 0), with float64 accuracy."""

import math

import numpy as np

from ..autograd.function import Function
from ..kernels.normal import erf as _erf
from ..kernels.normal import erfc as _erfc
from ..tensor import Tensor
from ._operands import as_tensor_pair, float_array, promoted_dtype, wrap
from .registry import register


def _unary_forward(ctx, x, numpy_function, save="input"):
    data = float_array(x._data)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        y = wrap(numpy_function(data).astype(data.dtype, copy=False))
    ctx.save_for_backward(x if save == "input" else y)
    return y


class Asin(Function):
    """y = asin(x);  dx = dy / sqrt(1 - x^2)."""

    @staticmethod
    def forward(ctx, x):
        return _unary_forward(ctx, x, np.arcsin)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * (1 - x * x).rsqrt()


class Acos(Function):
    """y = acos(x);  dx = -dy / sqrt(1 - x^2)."""

    @staticmethod
    def forward(ctx, x):
        return _unary_forward(ctx, x, np.arccos)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return -grad_out * (1 - x * x).rsqrt()


class Atan(Function):
    """y = atan(x);  dx = dy / (1 + x^2)."""

    @staticmethod
    def forward(ctx, x):
        return _unary_forward(ctx, x, np.arctan)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out / (1 + x * x)


class Sinh(Function):
    """y = sinh(x);  dx = dy * cosh(x)."""

    @staticmethod
    def forward(ctx, x):
        return _unary_forward(ctx, x, np.sinh)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * cosh(x)


class Cosh(Function):
    """y = cosh(x);  dx = dy * sinh(x)."""

    @staticmethod
    def forward(ctx, x):
        return _unary_forward(ctx, x, np.cosh)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * sinh(x)


class Tan(Function):
    """y = tan(x);  dx = dy * (1 + y^2)."""

    @staticmethod
    def forward(ctx, x):
        return _unary_forward(ctx, x, np.tan, save="output")

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return grad_out * (1 + y * y)


class Asinh(Function):
    """y = asinh(x);  dx = dy / sqrt(x^2 + 1)."""

    @staticmethod
    def forward(ctx, x):
        return _unary_forward(ctx, x, np.arcsinh)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * (x * x + 1).rsqrt()


class Acosh(Function):
    """y = acosh(x);  dx = dy / sqrt(x^2 - 1)."""

    @staticmethod
    def forward(ctx, x):
        return _unary_forward(ctx, x, np.arccosh)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * (x * x - 1).rsqrt()


class Atanh(Function):
    """y = atanh(x);  dx = dy / (1 - x^2)."""

    @staticmethod
    def forward(ctx, x):
        return _unary_forward(ctx, x, np.arctanh)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out / (1 - x * x)


class Atan2(Function):
    """z = atan2(a, b) (the angle of the point (b, a));  da = dz * b / (a^2 + b^2),
    db = -dz * a / (a^2 + b^2)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        dtype = float_array(np.empty(0, promoted_dtype(a, b))).dtype
        return wrap(np.arctan2(a._data, b._data, dtype=dtype, casting="unsafe"))

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved_tensors
        scale = grad_out / (a * a + b * b)
        return (scale * b if ctx.needs_input_grad[0] else None,
                -scale * a if ctx.needs_input_grad[1] else None)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


class Erf(Function):
    """y = erf(x);  dx = dy * 2 / sqrt(pi) * exp(-x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return wrap(_erf(float_array(x._data)))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * (-(x * x)).exp() * _TWO_OVER_SQRT_PI


class Erfc(Function):
    """y = erfc(x) = 1 - erf(x) (accurate where erf(x) is near 1);
    dx = -dy * 2 / sqrt(pi) * exp(-x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return wrap(_erfc(float_array(x._data)))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return -grad_out * (-(x * x)).exp() * _TWO_OVER_SQRT_PI


_ERFCX_SWITCH = 25.0  # beyond, exp(x^2) nears overflow: the continued fraction takes over
_ERFCX_TERMS = 40


def _erfcx(x):
    """exp(x^2) erfc(x) on float64 arrays: the product up to x = 25, then erfc's continued
    fraction 1 / (sqrt(pi) (x + (1/2) / (x + 1 / (x + (3/2) / ...))))."""
    large = x > _ERFCX_SWITCH
    small_x = np.where(large, 0.0, x)
    big_x = np.where(large, x, _ERFCX_SWITCH + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        direct = np.exp(small_x * small_x) * _erfc(small_x)
    tail = big_x
    for k in range(_ERFCX_TERMS, 0, -1):
        tail = big_x + (k / 2) / tail
    return np.where(large, 1 / (tail * math.sqrt(math.pi)), direct)


class Erfcx(Function):
    """y = exp(x^2) erfc(x);  dx = dy * (2 x y - 2 / sqrt(pi))."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        data = float_array(x._data)
        return wrap(_erfcx(data.astype(np.float64)).astype(data.dtype))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * (2 * x * Erfcx.apply(x) - _TWO_OVER_SQRT_PI)


def _erfinv(y):
    """erf^-1 on arrays: Giles' single-precision approximation, then two Newton steps on erf."""
    w = -np.log((1.0 - y) * (1.0 + y))
    central = w < 5.0
    w_c, w_t = w - 2.5, np.sqrt(np.maximum(w, 5.0)) - 3.0
    p_c = _horner([2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                   0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941], w_c)
    p_t = _horner([-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
                   0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682], w_t)
    x = np.where(central, p_c, p_t) * y
    for _ in range(2):
        x = x - (_erf(x) - y) / (_TWO_OVER_SQRT_PI * np.exp(-x * x))
    x = np.where(np.abs(y) == 1, np.copysign(np.inf, y), x)
    return np.where(np.abs(y) > 1, np.nan, x)


def _horner(coefficients, x):
    result = np.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        result = result * x + c
    return result


class Erfinv(Function):
    """y = erfinv(x);  dx = dy * sqrt(pi) / 2 * exp(y^2)."""

    @staticmethod
    def forward(ctx, x):
        data = float_array(x._data)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            y = wrap(_erfinv(data.astype(np.float64)).astype(data.dtype))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return grad_out * (y * y).exp() / _TWO_OVER_SQRT_PI


def _lgamma_scalar(v):
    try:
        return math.lgamma(v)
    except ValueError:  # a pole: 0, -1, -2, ...
        return math.inf


_lgamma_elementwise = np.frompyfunc(_lgamma_scalar, 1, 1)


def _lgamma(x):
    with np.errstate(all="ignore"):
        out = np.asarray(_lgamma_elementwise(x.astype(np.float64)), dtype=np.float64)
    return out.astype(x.dtype)


def _polygamma(n, x):
    """psi^(n)(x) on float64 arrays (n = 0: digamma)."""
    x = x.astype(np.float64)
    out = np.zeros_like(x)
    if n == 0:
        reflect = x < 0.5
        if np.any(reflect):  # psi(x) = psi(1 - x) - pi / tan(pi x)
            r = x[reflect]
            with np.errstate(divide="ignore", invalid="ignore"):
                out[reflect] = -np.pi / np.tan(np.pi * r)
            x = np.where(reflect, 1.0 - x, x)
    shifted = x.copy()
    sign = (-1.0) ** (n + 1)
    while True:  # psi^(n)(x) = psi^(n)(x + 1) - (-1)^n n! / x^(n+1)
        low = shifted < 10.0
        if not np.any(low):
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            step = math.factorial(n) / shifted[low] ** (n + 1)
        out[low] += -step if n == 0 else sign * step
        shifted[low] += 1.0
    z = shifted
    if n == 0:
        z2 = 1.0 / (z * z)
        series = z2 * (1 / 12 - z2 * (1 / 120 - z2 * (1 / 252 - z2 * (1 / 240 - z2 / 132))))
        out += np.log(z) - 0.5 / z - series
    else:
        # (-1)^(n+1) [ (n-1)!/z^n + n!/(2 z^(n+1)) + sum_k B_2k (2k+n-1)!/((2k)! z^(2k+n)) ]
        bernoulli = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6]
        total = math.factorial(n - 1) / z ** n + math.factorial(n) / (2 * z ** (n + 1))
        for k, b in enumerate(bernoulli, start=1):
            total += b * math.factorial(2 * k + n - 1) / (math.factorial(2 * k)
                                                          * z ** (2 * k + n))
        out += sign * total
    return out


class Lgamma(Function):
    """y = log|Gamma(x)|;  dx = dy * digamma(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return wrap(_lgamma(float_array(x._data)))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * digamma(x)


class Polygamma(Function):
    """y = psi^(n)(x), the n-th derivative of digamma (n = 0: digamma itself);
    dx = dy * psi^(n+1)(x)."""

    @staticmethod
    def forward(ctx, x, *, n):
        ctx.save_for_backward(x)
        ctx.n = n
        data = float_array(x._data)
        return wrap(_polygamma(n, data).astype(data.dtype))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * Polygamma.apply(x, n=ctx.n + 1)


# -- public functions --------------------------------------------------------------------------
def asin(input):
    """The inverse sine, elementwise (radians)."""
    return Asin.apply(input)


def acos(input):
    """The inverse cosine, elementwise (radians)."""
    return Acos.apply(input)


def atan(input):
    """The inverse tangent, elementwise (radians)."""
    return Atan.apply(input)


def sinh(input):
    return Sinh.apply(input)


def cosh(input):
    return Cosh.apply(input)


def tan(input):
    return Tan.apply(input)


def asinh(input):
    return Asinh.apply(input)


def acosh(input):
    return Acosh.apply(input)


def atanh(input):
    return Atanh.apply(input)


def atan2(input, other):
    """The angle of the point (other, input), elementwise, in (-pi, pi]."""
    return Atan2.apply(*as_tensor_pair(input, other))


def erf(input):
    """The error function."""
    return Erf.apply(input)


def erfc(input):
    """The complementary error function 1 - erf(x), accurate where erf(x) is near 1."""
    return Erfc.apply(input)


def erfcx(input):
    """exp(x^2) erfc(x), the scaled complementary error function (no overflow for large x)."""
    return Erfcx.apply(input)


def erfinv(input):
    """The inverse of erf on (-1, 1)."""
    return Erfinv.apply(input)


def lgamma(input):
    """log |Gamma(x)|."""
    return Lgamma.apply(input)


def gammaln(input):
    """``torch.special.gammaln``: log |Gamma(x)| (lgamma)."""
    return Lgamma.apply(input)


def digamma(input):
    """psi(x) = d/dx log Gamma(x)."""
    return Polygamma.apply(input, n=0)


def psi(input):
    """``torch.special.psi``: digamma."""
    return Polygamma.apply(input, n=0)


def polygamma(n, input):
    """The n-th derivative of digamma."""
    if int(n) < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n, got {n}")
    return Polygamma.apply(input, n=int(n))


def _polygamma_method(self, n):
    return polygamma(n, self)


def mvlgamma(input, p):
    """The log of the multivariate gamma function of dimension p."""
    if p < 1:
        raise RuntimeError(f"mvlgamma: p has to be greater than or equal to 1, got {p}")
    offsets = Tensor._from_array(-np.arange(p, dtype=float_array(input._data).dtype) / 2)
    return lgamma(input.unsqueeze(-1) + offsets).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)


def multigammaln(input, p):
    """``torch.special.multigammaln``: mvlgamma."""
    return mvlgamma(input, p)


register(asin, Asin, aliases=("arcsin",))
register(acos, Acos, aliases=("arccos",))
register(atan, Atan, aliases=("arctan",))
register(sinh, Sinh)
register(cosh, Cosh)
register(tan, Tan)
register(asinh, Asinh, aliases=("arcsinh",))
register(acosh, Acosh, aliases=("arccosh",))
register(atanh, Atanh, aliases=("arctanh",))
register(atan2, Atan2, aliases=("arctan2",))
register(erf, Erf, special=True)
register(erfc, Erfc, special=True)
register(erfinv, Erfinv, special=True)
register(erfcx, Erfcx, top=False, method=False, special=True)
register(lgamma, Lgamma)
register(gammaln, Lgamma, top=False, method=False, special=True)
register(digamma, Polygamma, special=True)
register(psi, Polygamma, top=False, method=False, special=True)
register(polygamma, Polygamma, method=_polygamma_method, special=True)
register(mvlgamma)
register(multigammaln, top=False, method=False, special=True)
