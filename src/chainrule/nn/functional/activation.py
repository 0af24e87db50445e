"""Activation functions. Fused ones (GELU, SiLU, ELU, LeakyReLU, Softplus) live in
``chainrule.ops.activation``; ReLU, sigmoid and tanh are elementwise primitives; softmax and
log-softmax live in ``chainrule.ops.softmax``."""

import warnings

import numpy as np

from ...ops import activation as fused
from ...ops import elementwise
from ...random import numpy_generator
from ...tensor import Tensor

__all__ = [
    "relu",
    "relu_",
    "leaky_relu",
    "leaky_relu_",
    "elu",
    "elu_",
    "gelu",
    "silu",
    "softplus",
    "sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "softmin",
    "logsigmoid",
    "selu",
    "selu_",
    "celu",
    "celu_",
    "mish",
    "softsign",
    "tanhshrink",
    "glu",
    "gumbel_softmax",
]

# SELU's constants (Klambauer et al.), to the digits PyTorch uses
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _maybe_in_place(input, inplace, op):
    """``op(input)``, or its result written into ``input`` when ``inplace`` (as PyTorch's
    ``inplace=True``: the graph records it on the tensor's new version)."""
    if inplace:
        return input._modify_in_place(op)
    return op(input)


def relu(input, inplace=False):
    """max(x, 0)."""
    return _maybe_in_place(input, inplace, elementwise.relu)


def relu_(input):
    return relu(input, inplace=True)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, negative_slope * x otherwise."""
    return _maybe_in_place(input, inplace, lambda x: fused.leaky_relu(x, negative_slope))


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return _maybe_in_place(input, inplace, lambda x: fused.elu(x, alpha))


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def gelu(input, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF; approximate='tanh' uses the tanh formula."""
    return fused.gelu(input, approximate)


def silu(input, inplace=False):
    """x * sigmoid(x)."""
    return _maybe_in_place(input, inplace, fused.silu)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta; linear where beta x > threshold."""
    return fused.softplus(input, beta, threshold)


def sigmoid(input):
    """1 / (1 + exp(-x))."""
    return elementwise.sigmoid(input)


def tanh(input):
    return elementwise.tanh(input)


def _softmax_dim(name, ndim):
    """PyTorch's legacy choice when no dim is given (with its warning)."""
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``; ``dtype`` casts the input first."""
    if dim is None:
        dim = _softmax_dim("softmax", input.dim())
    if dtype is not None:
        input = input.to(dtype)
    return input.softmax(dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along ``dim``, computed stably."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.dim())
    if dtype is not None:
        input = input.to(dtype)
    return input.log_softmax(dim)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``."""
    if dim is None:
        dim = _softmax_dim("softmin", input.dim())
    if dtype is not None:
        input = input.to(dtype)
    return (-input).softmax(dim)


def logsigmoid(input):
    """log(sigmoid(x)), stable for large |x| (the fused ``LogSigmoid`` op)."""
    return fused.logsigmoid(input)


def selu(input, inplace=False):
    """scale * elu(x, alpha) with SELU's fixed constants (self-normalising)."""
    return _maybe_in_place(input, inplace, lambda x: fused.elu(x, _SELU_ALPHA) * _SELU_SCALE)


def selu_(input):
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha * (exp(x / alpha) - 1) otherwise (= alpha * elu(x / alpha))."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return _maybe_in_place(input, inplace, lambda x: fused.elu(x / alpha) * alpha)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    return _maybe_in_place(input, inplace, lambda x: x * fused.softplus(x).tanh())


def softsign(input):
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def tanhshrink(input):
    """x - tanh(x)."""
    return input - input.tanh()


def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the two halves of ``input`` along ``dim``."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size {size}")
    first, second = input.chunk(2, dim)
    return first * second.sigmoid()


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """A sample from the Gumbel-softmax distribution: softmax((logits + g) / tau) with
    g = -log(Exponential(1)) noise; ``hard`` returns one-hot vectors whose gradient is the
    soft sample's (the straight-through estimator)."""
    exponential = numpy_generator().exponential(size=tuple(logits.shape))
    noise = Tensor._from_array(-np.log(exponential).astype(logits._data.dtype))
    soft = ((logits + noise) / tau).softmax(dim)
    if not hard:
        return soft
    data = soft.detach().numpy()
    index = data.argmax(axis=dim)
    one_hot = np.zeros_like(data)
    np.put_along_axis(one_hot, np.expand_dims(index, dim), 1.0, axis=dim)
    return Tensor._from_array(one_hot) - soft.detach() + soft
