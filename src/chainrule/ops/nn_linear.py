"""The fused affine map of ``nn.Linear``: y = x W^T + b as one GEMM over all leading dims."""

import math

import numpy as np

from ..autograd import grad_mode
from ..autograd.function import Function
from ..kernels.threads import blas_matmul, blas_matmul_pair
from ..tensor import Tensor
from ._operands import wrap, wrap_each
from .registry import register


class Linear(Function):
    """y = x W^T + b, x of shape (..., in), W (out, in), b (out,);
    dx = dy W,  dW = dy^T x,  db = dy summed over the leading dims
    (with x and dy flattened to 2-D over the leading dims)."""

    _array_forward = True

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        data, w = x._data, weight._data
        b = None if bias is None else bias._data
        return wrap(affine_array(data, w, b))

    @staticmethod
    def backward(ctx, grad_out):
        if not grad_mode.is_grad_enabled():
            return wrap_each(Linear._array_backward(ctx, grad_out._data))
        x, weight = ctx.saved_tensors
        return backward_tensors(x, weight, grad_out, *ctx.needs_input_grad)

    @staticmethod
    def _array_backward(ctx, grad):
        # NOTE: without create_graph nobody differentiates these gradients: compute them on
        # arrays (three BLAS calls, no intermediate tensors); the tensor path above, which
        # records under create_graph=True, gives the same values.
        x, weight = ctx.saved_tensors
        return backward_arrays(x._data, weight._data, grad, *ctx.needs_input_grad)


def affine_array(data, w, b):
    """x W^T + b on arrays, a new array."""
    if data.ndim == 2:  # (rows already: no reshape either way)
        return blas_matmul(data, w.T, bias=b)
    rows = data.reshape(math.prod(data.shape[:-1]), data.shape[-1])
    return blas_matmul(rows, w.T, bias=b).reshape(data.shape[:-1] + (w.shape[0],))


def backward_tensors(x, weight, grad_out, needs_x, needs_weight, needs_bias):
    """The gradients of x, W and b, recorded (``create_graph``)."""
    grad_rows = grad_out.reshape(-1, weight.shape[0])
    grad_x = grad_weight = grad_bias = None
    # The products are Linear again (a B^T), so gradients of gradients come for free.
    if needs_x:
        grad_x = Linear.apply(grad_rows, weight.t(), None).reshape(x.shape)
    if needs_weight:
        rows = x.reshape(-1, weight.shape[1])
        grad_weight = Linear.apply(grad_rows.t(), rows.t(), None)
    if needs_bias:  # (False without a bias: None needs no gradient)
        grad_bias = grad_rows.sum(0)
    return grad_x, grad_weight, grad_bias


def backward_arrays(x, w, grad, needs_x, needs_weight, needs_bias):
    """The gradients of x, W and b on arrays (not recorded)."""
    if grad.ndim == 2:  # (rows already: no reshapes)
        rows, x_rows = grad, x
    else:
        count = math.prod(grad.shape[:-1])  # not reshape(-1, ...): a width may be 0
        rows, x_rows = grad.reshape(count, grad.shape[-1]), x.reshape(count, x.shape[-1])
    grad_x = grad_weight = None
    if needs_x and needs_weight:  # (two products of the same size: side by side)
        grad_x, grad_weight = blas_matmul_pair((rows, w), (rows.T, x_rows))
    elif needs_x:
        grad_x = blas_matmul(rows, w)
    elif needs_weight:
        grad_weight = blas_matmul(rows.T, x_rows)
    grad_bias = np.add.reduce(rows, axis=0) if needs_bias else None
    if grad_x is not None and grad.ndim != 2:
        grad_x = grad_x.reshape(x.shape)
    return grad_x, grad_weight, grad_bias


def _check(input, weight, bias):
    for name, value in (("input", input), ("weight", weight)):
        if not isinstance(value, Tensor):
            raise TypeError(f"linear(): {name} must be a Tensor, got {type(value).__name__}")
    if weight.ndim != 2:
        raise RuntimeError(
            f"linear(): weight must be 2-D (out_features, in_features), got shape "
            f"{tuple(weight.shape)}"
        )
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise RuntimeError(
            f"linear(): input of shape {tuple(input.shape)} does not fit weight of shape "
            f"{tuple(weight.shape)}: the input's last dimension must be in_features="
            f"{weight.shape[1]}"
        )
    dtypes = {input._data.dtype, weight._data.dtype}
    if bias is not None:
        if tuple(bias.shape) not in ((weight.shape[0],), (1,), ()):
            raise RuntimeError(
                f"linear(): bias of shape {tuple(bias.shape)} does not fit out_features="
                f"{weight.shape[0]}"
            )
        dtypes.add(bias._data.dtype)
    if len(dtypes) != 1:
        raise RuntimeError(
            f"linear(): input, weight and bias must have the same dtype, got "
            f"{', '.join(str(np.dtype(d)) for d in dtypes)}; convert the input (x.float()) or "
            "the module (module.double())"
        )


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias, for input of shape (..., in_features)."""
    if not _fits(input, weight, bias):
        _check(input, weight, bias)  # raises the error that explains what does not fit
    return Linear.apply(input, weight, bias)


def _fits(input, weight, bias):
    """The common case, checked in a few attribute reads (``_check`` explains failures)."""
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor)):
        return False
    # NOTE: each attribute of an array read once (each read is a few hundred instructions)
    x, w = input._data, weight._data
    dtype, shape = w.dtype, w.shape
    if len(shape) != 2 or x.dtype != dtype or x.shape[-1:] != shape[1:]:
        return False
    if bias is None:
        return True
    if not isinstance(bias, Tensor):
        return False
    b = bias._data
    return b.dtype == dtype and b.shape == shape[:1]


register(linear, Linear, top=False, method=False, functional=True)
