"""Fused activation functions: one pass over the array forward, a short formula backward.

ReLU, sigmoid and tanh are elementwise primitives (``ops/elementwise.py``); the activations
here would otherwise be chains of several ops and temporaries. Every backward is written with
differentiable tensor operations, so second derivatives work."""

import math

import numpy as np

from .. import kernels
from ..autograd import grad_mode
from ..autograd.function import Function
from ._operands import float_array, wrap
from .elementwise import Relu, relu
from .inplace import maybe_in_place, modify_in_place
from .registry import register

# Rational approximations of erf and erfc from the Cephes library (S. L. Moshier, ndtr.c):
# relative error below 4e-16 in float64 over the whole real line (tests compare to math.erf).
_ERF_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
          7.00332514112805075473e3, 5.55923013010394962768e4)
_ERF_U = (1.0, 3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
          2.26290000613890934246e4, 4.92673942608635921086e4)
_ERFC_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
           4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
           9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2)
_ERFC_Q = (1.0, 1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
           9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
           1.65666309194161350182e3, 5.57535340817727675546e2)
_ERFC_R = (5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0,
           6.16021097993053585195e0, 7.40974269950448939160e0, 2.97886665372100240670e0)
_ERFC_S = (1.0, 2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1,
           1.70814450747565897222e1, 9.60896809063285878198e0, 3.36907645100081516050e0)


def _polyval(coefficients, x):
    """Horner's rule, highest power first, in x's dtype."""
    result = np.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        result *= x
        result += c
    return result


def _erfc(x):
    """erfc(x) elementwise, in x's (floating) dtype, accurate in the tails too."""
    out = np.empty_like(x)
    ax = np.abs(x)
    small = ax < 1.0
    out[small] = 1.0 - _erf_near_zero(x[small])
    large = ~small  # NaN lands here and stays NaN
    x_large = x[large]
    a = np.minimum(ax[large], 30.0)  # erfc(30) underflows to 0; keeps inf out of P/Q
    with np.errstate(under="ignore"):
        ratio = np.empty_like(a)
        middle = a < 8.0
        ratio[middle] = _polyval(_ERFC_P, a[middle]) / _polyval(_ERFC_Q, a[middle])
        ratio[~middle] = _polyval(_ERFC_R, a[~middle]) / _polyval(_ERFC_S, a[~middle])
        erfc_abs = np.exp(-a * a) * ratio
    out[large] = np.where(x_large < 0, 2.0 - erfc_abs, erfc_abs)
    return out


def _erf_near_zero(x):
    """erf(x) for |x| < 1."""
    z = x * x
    return x * _polyval(_ERF_T, z) / _polyval(_ERF_U, z)


def _erf(x):
    """erf(x) elementwise, in x's (floating) dtype."""
    out = np.empty_like(x)
    small = np.abs(x) < 1.0
    out[small] = _erf_near_zero(x[small])
    out[~small] = 1.0 - _erfc(x[~small])
    return out


# Phi(x) for float32: erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z/2), z >= 0, the Chebyshev fit
# of Numerical Recipes (erfcc; fractional error below 1.2e-7 over the whole half-line). One
# formula, no branches to gather and scatter: about 3x cheaper than the rationals above.
_ERFCC = (0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806,
          0.09678418, 0.37409196, 1.00002368, -1.26551223)


_BLOCK = 32768  # elements per pass: the dozen temporaries of a block stay in the CPU cache


def _ndtr_float32(x, pdf=None):
    """Phi(x) = erfc(-x / sqrt 2) / 2 for a float32 array, within a few float32 ulps (relative,
    also in the left tail, where Phi(x) is tiny); phi(x) into ``pdf`` too if given."""
    x = np.ascontiguousarray(x)
    out = np.empty_like(x)
    flat, flat_out = x.reshape(-1), out.reshape(-1)
    flat_pdf = pdf.reshape(-1) if pdf is not None else None
    with np.errstate(under="ignore"):
        for start in range(0, flat.size, _BLOCK):
            block = slice(start, start + _BLOCK)
            _ndtr_float32_block(flat[block], flat_out[block],
                                flat_pdf[block] if pdf is not None else None)
    return out


def _ndtr_float32_block(x, out, pdf):
    f = np.float32
    ax = np.abs(x)
    np.minimum(ax, f(20.0), out=ax)  # Phi(-20) underflows float32; NaN stays NaN
    t = ax * f(0.5 * _INV_SQRT_2)
    t += f(1.0)
    np.reciprocal(t, out=t)
    power = np.full_like(t, _ERFCC[0])
    for c in _ERFCC[1:]:
        power *= t
        power += f(c)
    np.exp(power, out=power)
    # exp(-x^2/2) loses ~x^2 ulps if x^2/2 is rounded: split x = high + low with 12 bits in high,
    # so high^2/2 is exact, and the rest r = high*low + low^2/2 is small (< 0.1 for |x| <= 20):
    # exp(-r) by five terms of its series.
    high = ax * f(4097.0)
    high -= high - ax
    rest = ax - high
    rest *= f(0.5)
    rest += high
    rest *= ax - high
    series = np.ones_like(rest)
    for k in (5.0, 4.0, 3.0, 2.0, 1.0):
        series *= rest
        series *= f(-1.0 / k)
        series += f(1.0)
    high *= high
    high *= f(-0.5)
    np.exp(high, out=high)
    high *= series  # = exp(-x^2 / 2)
    if pdf is not None:
        np.multiply(high, f(_INV_SQRT_2PI), out=pdf)
    power *= high
    power *= t
    power *= f(0.5)  # = Phi(-|x|)
    # Phi(x) = Phi(-|x|) + [x >= 0] (1 - 2 Phi(-|x|)): exact in the left tail, and branch-free
    # (np.where or a masked ufunc costs as much as the two exps here)
    np.multiply(power, f(-2.0), out=out)
    out += f(1.0)
    out *= x >= 0
    out += power


_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


def _ndtr(x):
    """Phi(x) on arrays: float32 by its own cheaper formula, other dtypes by erfc."""
    if x.dtype == np.float32:
        fast = kernels.load("activation", x)
        return fast.ndtr(x) if fast is not None else _ndtr_float32(x)
    return 0.5 * _erfc(x * -_INV_SQRT_2)


def _normal_pdf(x):
    """phi(x) = exp(-x^2 / 2) / sqrt(2 pi), as a differentiable tensor expression."""
    return (x * x * -0.5).exp() * _INV_SQRT_2PI


class Ndtr(Function):
    """y = Phi(x), the standard normal CDF = erfc(-x / sqrt 2) / 2;  dx = dy * phi(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return wrap(_ndtr(float_array(x._data)))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * _normal_pdf(x)


class Gelu(Function):
    """y = x * Phi(x);  dx = dy * (Phi(x) + x * phi(x)).

    approximate='tanh': y = x/2 * (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3);
    dx = dy * (1/2 (1 + tanh u) + x/2 (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2))."""

    _transient = ("slope", "kernel")

    @staticmethod
    def forward(ctx, x, *, approximate="none"):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        data = float_array(x._data)
        if approximate == "tanh":
            inner = _SQRT_2_OVER_PI * (data + _GELU_CUBIC * data * data * data)
            return wrap(0.5 * data * (1.0 + np.tanh(inner)))
        fast = kernels.load("activation", data)
        if fast is not None:  # NOTE: one threaded pass; _ndtr_float32 below is its reference
            ctx.slope, ctx.kernel = None, fast  # backward recomputes the slope from x
            return wrap(fast.gelu(data))
        if True not in ctx.needs_input_grad:
            ctx.slope = None
            return wrap(data * _ndtr(data))
        if data.dtype == np.float32:
            pdf = np.empty_like(data)
            cdf = _ndtr_float32(data, pdf)
        else:
            cdf, pdf = _ndtr(data), np.exp(data * data * -0.5) * _INV_SQRT_2PI
        # dy/dx = Phi(x) + x phi(x), kept for the array backward (phi comes nearly free here)
        pdf *= data
        pdf += cdf
        ctx.slope = pdf
        return wrap(data * cdf)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = ((x + x * x * x * _GELU_CUBIC) * _SQRT_2_OVER_PI).tanh()
            inner_grad = (x * x * (3 * _GELU_CUBIC) + 1) * _SQRT_2_OVER_PI
            return grad_out * ((t + 1) * 0.5 + x * 0.5 * (1 - t * t) * inner_grad)
        if not grad_mode.is_grad_enabled() and getattr(ctx, "kernel", None) is not None:
            return wrap(ctx.kernel.gelu_backward(x._data, grad_out._data))
        if not grad_mode.is_grad_enabled() and ctx.slope is not None:
            # NOTE: without create_graph, reuse forward's Phi(x) + x phi(x) (erfc is the costly
            # part) on arrays; under create_graph the tensor expression below records.
            return wrap(grad_out._data * ctx.slope)
        return grad_out * (Ndtr.apply(x) + x * _normal_pdf(x))


class Silu(Function):
    """y = x * sigmoid(x);  dx = dy * s * (1 + x * (1 - s)),  s = sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        data = float_array(x._data)
        # x * sigmoid(x) from exp(-|x|) only, so neither sign overflows
        e = np.exp(-np.abs(data))
        sig = np.where(data >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(data.dtype, copy=False)
        return wrap(data * sig)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        s = x.sigmoid()
        return grad_out * s * (1 + x * (1 - s))


class Elu(Function):
    """y = x if x > 0 else alpha * (exp(x) - 1);  dx = dy if x > 0 else dy * (y + alpha)."""

    @staticmethod
    def forward(ctx, x, *, alpha=1.0):
        data = float_array(x._data)
        with np.errstate(over="ignore"):
            negative = alpha * np.expm1(np.minimum(data, 0))
        y = wrap(np.where(data > 0, data, negative).astype(data.dtype, copy=False))
        ctx.save_for_backward(x, y)
        ctx.alpha = alpha
        return y

    @staticmethod
    def backward(ctx, grad_out):
        x, y = ctx.saved_tensors
        positive = x > 0
        # y + alpha is the slope on the negative side; differentiating it again goes through y
        return grad_out * (y + ctx.alpha).where(~positive, 1.0)


class LeakyRelu(Function):
    """y = x if x > 0 else slope * x;  dx = dy if x > 0 else slope * dy."""

    @staticmethod
    def forward(ctx, x, *, negative_slope=0.01):
        ctx.save_for_backward(x)
        ctx.negative_slope = negative_slope
        data = float_array(x._data)
        return wrap(np.where(data > 0, data, data * negative_slope).astype(data.dtype,
                                                                            copy=False))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        slope = (x > 0).to(grad_out.dtype) * (1 - ctx.negative_slope) + ctx.negative_slope
        return grad_out * slope


class Softplus(Function):
    """y = log(1 + exp(beta x)) / beta, or x where beta x > threshold;
    dx = dy * sigmoid(beta x), or dy where beta x > threshold."""

    @staticmethod
    def forward(ctx, x, *, beta=1.0, threshold=20.0):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        data = float_array(x._data)
        scaled = data * beta
        # log(1 + e^s) = max(s, 0) + log1p(e^-|s|): no overflow, no loss for large |s|
        smooth = (np.maximum(scaled, 0) + np.log1p(np.exp(-np.abs(scaled)))) / beta
        return wrap(np.where(scaled > threshold, data, smooth).astype(data.dtype, copy=False))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        scaled = x * ctx.beta
        return grad_out * scaled.sigmoid().where(scaled <= ctx.threshold, 1.0)


class LogSigmoid(Function):
    """y = log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)) (no overflow, exact in both tails);
    dx = dy * sigmoid(-x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        data = float_array(x._data)
        return wrap(np.minimum(data, 0) - np.log1p(np.exp(-np.abs(data))))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * (-x).sigmoid()


def gelu(input, approximate="none"):
    """Gaussian error linear unit, exact (erf) or with the tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(input, approximate=approximate)


def silu(input):
    """x * sigmoid(x) (the swish activation)."""
    return Silu.apply(input)


def elu(input, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return Elu.apply(input, alpha=float(alpha))


def leaky_relu(input, negative_slope=0.01):
    """x for x > 0, negative_slope * x otherwise."""
    return LeakyRelu.apply(input, negative_slope=float(negative_slope))


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, switching to x where beta x > threshold."""
    return Softplus.apply(input, beta=float(beta), threshold=float(threshold))


def logsigmoid(input):
    """log(1 / (1 + exp(-x))), computed without overflow."""
    return LogSigmoid.apply(input)


def ndtr(input):
    """The standard normal cumulative distribution function, Phi(x)."""
    return Ndtr.apply(input)


# -- the functional forms (nn.functional), with PyTorch's inplace= -----------------------------
def _functional_relu(input, inplace=False):
    """max(x, 0)."""
    return maybe_in_place(input, inplace, relu)


def _functional_leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, negative_slope * x otherwise."""
    return maybe_in_place(input, inplace, lambda x: leaky_relu(x, negative_slope))


def leaky_relu_(input, negative_slope=0.01):
    """``leaky_relu`` written into ``input``."""
    return modify_in_place(input, lambda x: leaky_relu(x, negative_slope))


def _functional_elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return maybe_in_place(input, inplace, lambda x: elu(x, alpha))


def elu_(input, alpha=1.0):
    """``elu`` written into ``input``."""
    return modify_in_place(input, lambda x: elu(x, alpha))


def _functional_silu(input, inplace=False):
    """x * sigmoid(x)."""
    return maybe_in_place(input, inplace, silu)


# -- registration: nn.functional.X only, unless stated otherwise -------------------------------
register(relu, Relu, functional=_functional_relu)  # also chainrule.relu and Tensor.relu
register(gelu, Gelu, top=False, method=False, functional=True)
register(silu, Silu, top=False, method=False, functional=_functional_silu)
register(elu, Elu, top=False, method=False, functional=_functional_elu)
register(elu_, top=False, method=False, functional=True)
register(leaky_relu, LeakyRelu, top=False, method=False, functional=_functional_leaky_relu)
register(leaky_relu_, top=False, method=False, functional=True)
register(softplus, Softplus, top=False, method=False, functional=True)
register(logsigmoid, LogSigmoid, top=False, method=False, functional=True)
register(ndtr, Ndtr, top=False, method=False, special=True)
