"""Joining and splitting: cat/stack and their variants, split/chunk/unbind, repeat/tile.

The pieces split and unbind return are views of their input (sharing its version counter);
each gradient is the inverse operation: split's is a cat, cat's is a slice of dy per input."""

import numpy as np

from .._dtypes import promote_numpy
from ..autograd.function import Function
from ..tensor import Tensor
from ._operands import normalize_dim, wrap
from .registry import register
from .shape import _shape_arg, _view_of, expand, narrow, reshape, unsqueeze


class Cat(Function):
    """y = the inputs joined along dim;  each dx is its own slice of dy."""

    @staticmethod
    def forward(ctx, *tensors, dim):
        arrays = [t._data for t in tensors]
        kept = [a for a in arrays if not _is_legacy_empty(a, arrays)]
        ctx.dim = dim
        ctx.sizes = [0 if _is_legacy_empty(a, arrays) else a.shape[dim] for a in arrays]
        ctx.shapes = [a.shape for a in arrays]
        dtype = kept[0].dtype
        for a in kept[1:]:
            dtype = promote_numpy(dtype, a.dtype)
        return wrap(np.concatenate(kept, axis=dim, dtype=dtype, casting="unsafe"))

    @staticmethod
    def backward(ctx, grad_out):
        grads, offset = [], 0
        for need, size, shape in zip(ctx.needs_input_grad, ctx.sizes, ctx.shapes):
            if not need:
                grads.append(None)
            elif len(shape) != grad_out.ndim:  # a legacy empty input
                grads.append(grad_out.new_zeros(shape))
            else:
                grads.append(narrow(grad_out, ctx.dim, offset, size))
            offset += size
        return tuple(grads)


def _is_legacy_empty(array, arrays):
    """PyTorch lets 1-D empty tensors join tensors of any shape (they are skipped)."""
    return array.shape == (0,) and any(a.ndim != 1 for a in arrays)


class Split(Function):
    """ys = consecutive pieces of x along dim (views);  dx = cat(dys, dim)."""

    @staticmethod
    def forward(ctx, x, *, sizes, dim):
        ctx.dim = dim
        pieces, start = [], 0
        for size in sizes:
            key = (slice(None),) * dim + (slice(start, start + size),)
            pieces.append(_view_of(x, x._data[key], "Split"))
            start += size
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grad_outs):
        return cat(grad_outs, ctx.dim)


class Unbind(Function):
    """ys = the slices of x along dim, that dim removed (views);  dx = stack(dys, dim)."""

    @staticmethod
    def forward(ctx, x, *, dim):
        ctx.dim = dim
        lead = (slice(None),) * dim
        return tuple(_view_of(x, x._data[lead + (i, Ellipsis)], "Unbind")
                     for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grad_outs):
        return stack(grad_outs, ctx.dim)


# -- public functions --------------------------------------------------------------------------
def _concat_dim(tensors, dim, op):
    if not isinstance(tensors, (list, tuple)) or not tensors:
        raise ValueError(f"{op} expects a non-empty list or tuple of tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: element {i} is {type(t).__name__}, not a tensor")
    arrays = [t._data for t in tensors]
    shaped = [(i, a.shape) for i, a in enumerate(arrays) if not _is_legacy_empty(a, arrays)]
    first, shape = shaped[0]
    if not shape:
        raise RuntimeError(f"{op}: zero-dimensional tensor (at position {first}) cannot be "
                           "concatenated; unsqueeze it first, or use stack")
    d = normalize_dim(dim, len(shape), op)
    for i, other in shaped[1:]:
        if len(other) != len(shape) or any(
                a != b for k, (a, b) in enumerate(zip(shape, other)) if k != d):
            raise RuntimeError(
                f"{op}: sizes of tensors must match except in dimension {d}, but tensor "
                f"{first} has shape {shape} and tensor {i} has shape {other}"
            )
    return d


def cat(tensors, dim=0):
    """Join tensors along an existing dimension."""
    d = _concat_dim(tensors, dim, "cat")
    return Cat.apply(*tensors, dim=d)


def stack(tensors, dim=0):
    """Join same-shaped tensors along a new dimension."""
    if not isinstance(tensors, (list, tuple)) or not tensors:
        raise ValueError("stack expects a non-empty list or tuple of tensors")
    shape = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {tuple(shape)} at entry "
                f"0 and {tuple(t.shape)} at entry {i}"
            )
    d = normalize_dim(dim, len(shape) + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


def hstack(tensors):
    """Join along dim 1 (dim 0 for 1-D tensors)."""
    tensors = [t.reshape(1) if t.ndim == 0 else t for t in tensors]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Join along dim 0, 1-D tensors becoming rows."""
    return cat([t.reshape(1, -1) if t.ndim < 2 else t for t in tensors], 0)


def split(tensor, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the listed
    sizes."""
    ndim = tensor._data.ndim
    d = normalize_dim(dim, ndim, "split")
    if ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    length = tensor._data.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size < 0 or (size == 0 and length != 0):
            raise RuntimeError(f"split: split_size must be positive, got {size}")
        count = max(-(-length // size), 1) if size else 1
        sizes = [size] * (count - 1) + [length - size * (count - 1)]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != length or any(s < 0 for s in sizes):
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {length} (input "
                f"tensor's size at dimension {d}), but got split_sizes={sizes}"
            )
    return Split.apply(tensor, sizes=tuple(sizes), dim=d)


def chunk(input, chunks, dim=0):
    """At most ``chunks`` pieces of equal size (the last may be smaller) along ``dim``."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = normalize_dim(dim, input._data.ndim, "chunk")
    length = input._data.shape[d]
    if length == 0:
        return split(input, [0] * chunks, d)
    return split(input, -(-length // chunks), d)


def unbind(input, dim=0):
    """The slices along ``dim``, each without that dim."""
    if input._data.ndim == 0:
        raise RuntimeError("unbind: dimension specified as 0 but tensor has no dimensions")
    return Unbind.apply(input, dim=normalize_dim(dim, input._data.ndim, "unbind"))


def repeat(input, *sizes):
    """Tile ``input``: dim i repeated ``sizes[i]`` times (leading new dims allowed)."""
    sizes = _shape_arg(sizes)
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(
            f"repeat: number of dimensions of repeat dims ({len(sizes)}) can not be smaller "
            f"than number of dimensions of tensor ({len(shape)})"
        )
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"repeat: repeats must be non-negative, got {sizes}")
    shape = (1,) * (len(sizes) - len(shape)) + shape
    # y[r, i] = x[i] for every repeat r: a broadcast view, then one copying reshape.
    spread = reshape(input, tuple(x for s in shape for x in (1, s)))
    tiled = expand(spread, tuple(x for r, s in zip(sizes, shape) for x in (r, s)))
    out = reshape(tiled, tuple(r * s for r, s in zip(sizes, shape)))
    return out.clone() if np.may_share_memory(out._data, input._data) else out


def tile(input, dims):
    """Like repeat, with missing leading repeats taken as 1."""
    dims = _shape_arg((dims,))
    return repeat(input, (1,) * (input._data.ndim - len(dims)) + dims)


# -- registration: chainrule.X and Tensor.X, unless stated otherwise ---------------------------
register(cat, Cat, aliases=("concat", "concatenate"), method=False)
register(stack, method=False)
register(hstack, method=False)
register(vstack, method=False)
register(split, Split)
register(chunk)
register(unbind, Unbind)
register(repeat, top=False)
register(tile)
