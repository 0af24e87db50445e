"""The ops the engine itself applies to gradients, in the engine's own layer.

Backward sums the gradients that reach a tensor along several edges, sums a broadcast gradient
back to its input's shape, casts it to its input's dtype, and copies a gradient it may not keep.
These are ``Function``s like any op, so that under ``create_graph=True`` the engine's own work
is recorded and can be differentiated again; ``Expand`` is here because it is ``SumToSize``'s
derivative (and the other way round). Keeping them in this layer means backward needs nothing
from the layers above: ``chainrule.ops`` registers them as the public ``sum_to_size``,
``expand``, ``clone`` and ``Tensor.to``.
"""

import numpy as np

from .function import Function


def _wrap(like, array):
    """A tensor of ``like``'s user-facing class around ``array``."""
    return like._from_array(array)


class Accumulate(Function):
    """z = a + b for two gradients of one shape and dtype;  da = dz,  db = dz."""

    @staticmethod
    def forward(ctx, a, b):
        return _wrap(a, a._data + b._data)

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out, grad_out


class SumToSize(Function):
    """y = x summed over the dims broadcasting added or grew;  dx = dy expanded back."""

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.input_shape = x._data.shape
        return _wrap(x, sum_to_shape(x._data, shape))

    @staticmethod
    def backward(ctx, grad_out):
        return Expand.apply(grad_out, shape=ctx.input_shape)


class Expand(Function):
    """y = x broadcast to a larger shape (a read-only view);  dx = dy summed over the new dims."""

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.input_shape = x._data.shape
        try:
            view = np.broadcast_to(x._data, shape)
        except ValueError:
            raise RuntimeError(
                f"expand: the tensor of shape {tuple(x._data.shape)} cannot be expanded to "
                f"{shape}; only size-1 dimensions can grow"
            ) from None
        return _wrap(x, view)._share_version(x)

    @staticmethod
    def backward(ctx, grad_out):
        return SumToSize.apply(grad_out, shape=ctx.input_shape)


class Cast(Function):
    """y = x converted to another dtype;  dx = dy converted back (by the engine)."""

    @staticmethod
    def forward(ctx, x, *, dtype):
        return _wrap(x, x._data.astype(dtype))

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out


class Clone(Function):
    """y = a copy of x;  dx = dy."""

    @staticmethod
    def forward(ctx, x):
        return _wrap(x, x._data.copy())

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out


# The engine vouches for its own ops (see Function._builtin_op): they make or pass on arrays.
for _op in (Accumulate, SumToSize, Expand, Cast, Clone):
    _op._builtin_op = True


def sum_to_shape(array, shape):
    """``array`` summed over the axes that broadcasting ``shape`` to its shape added or grew."""
    if array.shape == shape:
        return array
    lead = array.ndim - len(shape)
    if lead < 0:
        raise ValueError(f"cannot sum shape {array.shape} to the larger shape {shape}")
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and array.shape[lead + i] != 1
    )
    for i, size in enumerate(shape):
        if size != 1 and array.shape[lead + i] != size:
            raise ValueError(f"shape {array.shape} does not broadcast from {shape}")
    summed = array.sum(axis=axes, keepdims=True) if axes else array
    return summed.reshape(shape)
