"""Fused activation functions: one pass over the array forward, a short formula backward.

ReLU, sigmoid and tanh are elementwise primitives (``ops/elementwise.py``); the activations
here would otherwise be chains of several ops and temporaries. Every backward is written with
differentiable tensor operations, so second derivatives work."""

import math

import numpy as np

from .. import kernels
from ..autograd import grad_mode
from ..autograd.function import Function
from ..kernels import normal
from ._operands import float_array, wrap
from .elementwise import Relu, relu
from .inplace import maybe_in_place, modify_in_place
from .registry import register

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


def _ndtr(x):
    """Phi(x) on arrays: the compiled kernel for large float32 arrays, else the reference
    (``kernels/normal.py``: float32 by its own fit, other dtypes by erfc)."""
    if x.dtype == np.float32:
        fast = kernels.load("activation", x)
        if fast is not None:
            return fast.ndtr(x)
    return normal.ndtr(x)


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
        fast = kernels.load("activation", data)
        if approximate == "tanh":
            if fast is not None:  # NOTE: one threaded pass; the line below is its reference
                ctx.kernel = fast
                return wrap(fast.gelu_tanh(data))
            inner = _SQRT_2_OVER_PI * (data + _GELU_CUBIC * data * data * data)
            return wrap(0.5 * data * (1.0 + np.tanh(inner)))
        if fast is not None:  # NOTE: one threaded pass; normal.ndtr_float32 below is its reference
            ctx.slope, ctx.kernel = None, fast  # backward recomputes the slope from x
            return wrap(fast.gelu(data))
        if True not in ctx.needs_input_grad:
            ctx.slope = None
            return wrap(data * _ndtr(data))
        if data.dtype == np.float32:
            pdf = np.empty_like(data)
            cdf = normal.ndtr_float32(data, pdf)
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
            if not grad_mode.is_grad_enabled() and getattr(ctx, "kernel", None) is not None:
                return wrap(ctx.kernel.gelu_tanh_backward(x._data, grad_out._data))
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
