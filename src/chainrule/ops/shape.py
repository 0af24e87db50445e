"""Shape operations: views and rearrangements whose gradient is the inverse rearrangement.

Views share memory with their input, so they share its version counter too: modifying a view
in place is seen by every op that saved the base."""

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._operands import normalize_dim, wrap

__all__ = [
    "reshape",
    "view",
    "expand",
    "expand_as",
    "sum_to_size",
    "permute",
    "transpose",
    "t",
    "squeeze",
    "unsqueeze",
    "flatten",
    "unflatten",
    "contiguous",
    "swapaxes",
    "swapdims",
]


def _view_of(x, array):
    """A tensor over ``array`` that shares ``x``'s version counter when it shares its memory."""
    out = wrap(array)
    if array.base is not None and np.may_share_memory(array, x._data):
        out._version_box = x._version_box
    return out


def _shape_arg(shape):
    """``f(2, 3)`` and ``f((2, 3))`` both mean the shape (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


class Reshape(Function):
    """y = x with a new shape (a view when the memory layout allows);  dx = dy reshaped back."""

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.input_shape = x._data.shape
        try:
            return _view_of(x, x._data.reshape(shape))
        except ValueError:
            raise RuntimeError(
                f"reshape: shape {list(shape)} is invalid for input of size {x._data.size} "
                f"(shape {tuple(x.shape)})"
            ) from None

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out.reshape(ctx.input_shape)


class Expand(Function):
    """y = x broadcast to a larger shape (a read-only view);  dx = dy summed over the new dims."""

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.input_shape = x._data.shape
        try:
            return _view_of(x, np.broadcast_to(x._data, shape))
        except ValueError:
            raise RuntimeError(
                f"expand: the tensor of shape {tuple(x.shape)} cannot be expanded to {shape}; "
                "only size-1 dimensions can grow"
            ) from None

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out.sum_to_size(ctx.input_shape)


class SumToSize(Function):
    """y = x summed over the dims broadcasting added or grew;  dx = dy expanded back."""

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.input_shape = x._data.shape
        return wrap(_sum_to_shape(x._data, shape))

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out.expand(ctx.input_shape)


def _sum_to_shape(array, shape):
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


class Permute(Function):
    """y = x with its dims reordered (a view);  dx = dy with the inverse order."""

    @staticmethod
    def forward(ctx, x, *, dims):
        ctx.dims = dims
        return _view_of(x, x._data.transpose(dims))

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out.permute(tuple(np.argsort(ctx.dims)))


# -- public functions --------------------------------------------------------------------------
def reshape(input, *shape):
    return Reshape.apply(input, shape=_shape_arg(shape))


def view(input, *shape):
    """Like reshape, but errors where reshape would have to copy (as PyTorch's view does)."""
    shape = _resolve_shape(_shape_arg(shape), input._data.size)
    if int(np.prod(shape)) != input._data.size:
        raise RuntimeError(f"view: shape {list(shape)} is invalid for input of size "
                           f"{input._data.size} (shape {tuple(input.shape)})")
    try:
        np.reshape(input._data, shape, copy=False)
    except ValueError:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        ) from None
    return Reshape.apply(input, shape=shape)


def _resolve_shape(shape, size):
    shape = list(shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred (-1)")
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1]))
        if known == 0 or size % known:
            raise RuntimeError(f"shape {shape} is invalid for input of size {size}")
        shape[shape.index(-1)] = size // known
    return tuple(shape)


def expand(input, *sizes):
    sizes = _shape_arg(sizes)
    lead = len(sizes) - input._data.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes ({len(sizes)}) must be at least the tensor's number "
            f"of dimensions ({input._data.ndim})"
        )
    shape = tuple(
        input._data.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes)
    )
    if shape == input._data.shape:
        return input
    return Expand.apply(input, shape=shape)


def expand_as(input, other):
    return expand(input, other.shape)


def sum_to_size(input, *size):
    shape = _shape_arg(size)
    if shape == input._data.shape:
        return input
    return SumToSize.apply(input, shape=shape)


def permute(input, *dims):
    dims = tuple(normalize_dim(d, input._data.ndim, "permute") for d in _shape_arg(dims))
    if sorted(dims) != list(range(input._data.ndim)):
        raise RuntimeError(
            f"permute: dims {dims} are not a permutation of the tensor's {input._data.ndim} dims"
        )
    return Permute.apply(input, dims=dims)


def transpose(input, dim0, dim1):
    ndim = input._data.ndim
    if ndim == 0:
        return input
    dims = list(range(ndim))
    d0, d1 = normalize_dim(dim0, ndim, "transpose"), normalize_dim(dim1, ndim, "transpose")
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(input, dims=tuple(dims))


def t(input):
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but got {input.ndim}")
    return transpose(input, 0, 1) if input._data.ndim == 2 else input


def squeeze(input, dim=None):
    shape = input._data.shape
    if dim is None:
        new_shape = tuple(s for s in shape if s != 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        axes = {normalize_dim(d, len(shape), "squeeze") for d in dims}
        new_shape = tuple(s for i, s in enumerate(shape) if not (i in axes and s == 1))
    return reshape(input, new_shape)


def unsqueeze(input, dim):
    ndim = input._data.ndim + 1
    d = normalize_dim(dim, ndim, "unsqueeze")
    shape = list(input._data.shape)
    shape.insert(d, 1)
    return reshape(input, tuple(shape))


def flatten(input, start_dim=0, end_dim=-1):
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
    start = normalize_dim(start_dim, len(shape), "flatten")
    end = normalize_dim(end_dim, len(shape), "flatten")
    if start > end:
        raise RuntimeError("flatten: start_dim cannot come after end_dim")
    new_shape = shape[:start] + (int(np.prod(shape[start:end + 1])),) + shape[end + 1:]
    return reshape(input, new_shape)


def unflatten(input, dim, sizes):
    shape = input._data.shape
    d = normalize_dim(dim, len(shape), "unflatten")
    sizes = tuple(sizes)
    if -1 in sizes:
        sizes = _resolve_shape(sizes, shape[d])
    if int(np.prod(sizes)) != shape[d]:
        raise RuntimeError(
            f"unflatten: sizes {list(sizes)} don't multiply up to the size of dim {dim} "
            f"({shape[d]})"
        )
    return reshape(input, shape[:d] + sizes + shape[d + 1:])


def contiguous(input):
    return input if input._data.flags.c_contiguous else input.clone()


swapaxes = swapdims = transpose


def _matrix_transpose(self):
    if self._data.ndim < 2:
        raise RuntimeError("mT needs a tensor with at least 2 dimensions")
    return transpose(self, -2, -1)


def _T(self):
    return permute(self, tuple(range(self._data.ndim - 1, -1, -1)))


Tensor.reshape, Tensor.view, Tensor.expand, Tensor.expand_as = reshape, view, expand, expand_as
Tensor.sum_to_size = sum_to_size
Tensor.permute, Tensor.transpose, Tensor.t = permute, transpose, t
Tensor.swapaxes = Tensor.swapdims = transpose
Tensor.squeeze, Tensor.unsqueeze = squeeze, unsqueeze
Tensor.flatten, Tensor.unflatten = flatten, unflatten
Tensor.view_as = lambda self, other: view(self, other.shape)
Tensor.reshape_as = lambda self, other: reshape(self, other.shape)
Tensor.T = property(_T)
Tensor.mT = property(_matrix_transpose)
Tensor.contiguous = contiguous
