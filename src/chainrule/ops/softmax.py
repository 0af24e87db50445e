"""The softmax family: softmax, log-softmax and log-sum-exp, each computed on values shifted by
their maximum so that exp never overflows."""

import builtins
import warnings

import numpy as np

from .. import kernels
from ..autograd import grad_mode
from ..autograd.function import Function
from ._operands import float_array, normalize_dim, wrap
from .reduce import _axes, _require_float, _restore_reduced_dims
from .registry import register


def _shifted(data, axes):
    """``data`` minus its maximum over ``axes`` (0 for rows without a finite maximum), so that
    exp of it never overflows."""
    shift = np.amax(data, axis=axes, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0)
    return data - shift, shift


def _logsumexp_array(data, axes):
    """log(sum(exp(data))) over ``axes``, with the dims kept."""
    if builtins.any(data.shape[a] == 0 for a in axes):
        shape = tuple(1 if i in axes else s for i, s in enumerate(data.shape))
        return np.full(shape, -np.inf, dtype=data.dtype)
    shifted, shift = _shifted(data, axes)
    with np.errstate(divide="ignore"):
        return np.log(np.sum(np.exp(shifted), axis=axes, keepdims=True)) + shift


class Logsumexp(Function):
    """y = log(sum(exp(x))) over ``axes``;  dx = dy * exp(x - y), the softmax of x."""

    @staticmethod
    def forward(ctx, x, *, axes, keepdim):
        ctx.axes, ctx.keepdim = axes, keepdim
        y = _logsumexp_array(float_array(x._data), axes)
        y = wrap(y if keepdim else y.reshape([s for i, s in enumerate(y.shape) if i not in axes]))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        x, y = ctx.saved_tensors
        grad = _restore_reduced_dims(grad_out, x.shape, ctx.axes, ctx.keepdim)
        return grad * (x - _restore_reduced_dims(y, x.shape, ctx.axes, ctx.keepdim)).exp()


def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(input))) over ``dim``, without overflow."""
    return Logsumexp.apply(input, axes=_axes(dim, input._data.ndim, "logsumexp"),
                           keepdim=keepdim)


def _last_axis_kernel(array, dim):
    """The softmax kernels when they apply: float32, big enough, along the last axis."""
    return kernels.load("softmax", array) if dim == array.ndim - 1 else None


def _backward_arrays(y, grad_out, dim, log):
    """NOTE: without create_graph nobody differentiates this gradient: one kernel pass per row
    when it applies, else the tensor formula of ``backward`` (the kernel's reference)."""
    fast = None if grad_mode.is_grad_enabled() else _last_axis_kernel(y._data, dim)
    if fast is None or grad_out._data.dtype != y._data.dtype:
        return None
    return wrap(fast.softmax_backward(y._data, grad_out._data, log))


class Softmax(Function):
    """y = exp(x - max) / sum(exp(x - max)) along ``dim``;  dx = y * (dy - sum(dy * y))."""

    @staticmethod
    def forward(ctx, x, *, dim):
        ctx.dim = dim
        fast = _last_axis_kernel(x._data, dim)
        if fast is not None:
            y = wrap(fast.softmax(x._data, log=False))
        elif x._data.size == 0:
            y = wrap(x._data.copy())
        else:
            e = np.exp(_shifted(x._data, dim)[0])
            y = wrap(e / np.sum(e, axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        fast = _backward_arrays(y, grad_out, ctx.dim, log=False)
        if fast is not None:
            return fast
        return y * (grad_out - (grad_out * y).sum(dim=ctx.dim, keepdim=True))


class LogSoftmax(Function):
    """y = x - logsumexp(x) = (x - max) - log(sum(exp(x - max))) along ``dim``;
    dx = dy - exp(y) * sum(dy)."""

    @staticmethod
    def forward(ctx, x, *, dim):
        ctx.dim = dim
        fast = _last_axis_kernel(x._data, dim)
        if fast is not None:
            y = wrap(fast.softmax(x._data, log=True))
        elif x._data.size == 0:
            y = wrap(x._data.copy())
        else:
            shifted = _shifted(x._data, dim)[0]
            with np.errstate(divide="ignore"):
                y = wrap(shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True)))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        fast = _backward_arrays(y, grad_out, ctx.dim, log=True)
        if fast is not None:
            return fast
        return grad_out - y.exp() * grad_out.sum(dim=ctx.dim, keepdim=True)


def _softmax_args(op, input, dim, dtype):
    if dtype is not None:
        input = input.to(dtype)
    _require_float(input, op)
    if dim is None:
        raise TypeError(f"{op}(): pass the dim to normalise over, e.g. {op}(x, dim=-1)")
    if input._data.ndim == 0:
        normalize_dim(dim, 0, op)
        return input.reshape(1), 0
    return input, normalize_dim(dim, input._data.ndim, op)


def softmax(input, dim=None, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``, computed without overflow."""
    x, d = _softmax_args("softmax", input, dim, dtype)
    y = Softmax.apply(x, dim=d)
    return y.reshape(()) if input._data.ndim == 0 else y


def log_softmax(input, dim=None, dtype=None):
    """log(softmax(x)) along ``dim``, computed directly (no log of a rounded-to-0 value)."""
    x, d = _softmax_args("log_softmax", input, dim, dtype)
    y = LogSoftmax.apply(x, dim=d)
    return y.reshape(()) if input._data.ndim == 0 else y


def implicit_dim(name, ndim):
    """PyTorch's legacy choice when ``nn.functional`` gets no dim (with its warning)."""
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def _functional_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``nn.functional.softmax``: exp(x) / sum(exp(x)) along ``dim``; ``dtype`` casts the
    input first."""
    if dim is None:
        dim = implicit_dim("softmax", input.dim())
    return softmax(input, dim, dtype=dtype)


def _functional_log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``nn.functional.log_softmax``: log(softmax(x)) along ``dim``, computed stably."""
    if dim is None:
        dim = implicit_dim("log_softmax", input.dim())
    return log_softmax(input, dim, dtype=dtype)


# -- registration: chainrule.X and Tensor.X, unless stated otherwise ---------------------------
register(logsumexp, Logsumexp, special=True)
register(softmax, Softmax, functional=_functional_softmax, special=True)
register(log_softmax, LogSoftmax, functional=_functional_log_softmax, special=True)
