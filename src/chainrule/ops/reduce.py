"""Reductions. Their gradients broadcast the incoming gradient back over the reduced dims."""

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._operands import normalize_dims, wrap

__all__ = [
    "sum",
    "mean",
]


def _restore_reduced_dims(grad_out, input_shape, axes, keepdim):
    """Reshape a reduced gradient so that it broadcasts against the input again."""
    if keepdim or not axes:
        return grad_out
    shape = tuple(1 if i in axes else s for i, s in enumerate(input_shape))
    return grad_out.reshape(shape)


class Sum(Function):
    """y = sum of x over ``axes``;  dx = dy broadcast back to x's shape."""

    @staticmethod
    def forward(ctx, x, *, axes, keepdim, dtype=None):
        ctx.input_shape, ctx.axes, ctx.keepdim = x._data.shape, axes, keepdim
        data = x._data
        if dtype is None and data.dtype.kind in "bi" and data.dtype != np.int64:
            dtype = np.int64  # PyTorch sums integers and bools as int64
        return wrap(np.asarray(np.sum(data, axis=axes, keepdims=keepdim, dtype=dtype)))

    @staticmethod
    def backward(ctx, grad_out):
        grad = _restore_reduced_dims(grad_out, ctx.input_shape, ctx.axes, ctx.keepdim)
        return grad.expand(ctx.input_shape)


def sum(input, dim=None, keepdim=False, *, dtype=None):
    axes = normalize_dims(dim, input._data.ndim, "sum")
    if dtype is not None:
        from .._dtypes import to_numpy_dtype

        dtype = to_numpy_dtype(dtype)
    return Sum.apply(input, axes=axes, keepdim=keepdim, dtype=dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    if input._data.dtype.kind != "f" and dtype is None:
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be floating point, got "
            f"{input.dtype}; use x.float().mean()"
        )
    axes = normalize_dims(dim, input._data.ndim, "mean")
    count = int(np.prod([input._data.shape[a] for a in axes]))
    return sum(input, dim=axes, keepdim=keepdim, dtype=dtype) / count


Tensor.sum, Tensor.mean = sum, mean
