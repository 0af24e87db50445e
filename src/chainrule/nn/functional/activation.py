"""Activation functions. Fused ones (GELU, SiLU, ELU, LeakyReLU, Softplus) live in
``chainrule.ops.activation``; ReLU, sigmoid and tanh are elementwise primitives; softmax and
log-softmax live in ``chainrule.ops.softmax``."""

import warnings

from ...ops import activation as fused
from ...ops import elementwise

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
]


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
