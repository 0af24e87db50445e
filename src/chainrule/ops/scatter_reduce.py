"""Scatter with a reduction: ``scatter_reduce`` (sum, prod, mean, amax, amin; ``include_self``)
and ``index_reduce`` (the same along one dim, with a 1-D index), as PyTorch's.

y = x with every src[i][j] reduced into y[i][index[i][j]] (dim=1); with ``include_self=False``
the positions that receive a value start from the reduction's identity instead of x.
Gradients, as PyTorch defines them (masks and counts are constants):
- sum:  dx = dy,  dsrc = dy.gather(index);
- mean: dx = dy / n,  dsrc = (dy / n).gather(index), n = how many values were averaged;
- amax/amin: dy is shared evenly among the values equal to the result;
- prod: dx = dy * (the product of the others), dsrc likewise; a single zero among a position's
  values gets the product of the rest (two or more zeros: the derivative is 0).
With ``include_self=False``, dx is 0 where values were scattered. Every backward is written
with differentiable ops, so gradients of gradients work."""

import numpy as np

from .._dtypes import is_float
from ..autograd.function import Function
from ..tensor import Tensor
from ._operands import normalize_dim, wrap
from .elementwise import where
from .index import Gather, _check_index_tensor, _flat_index, _scatter_positions
from .registry import register

REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")
_UFUNC = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum,
          "amin": np.minimum}


def _identity(reduce, dtype):
    """The value a position starts from when it leaves itself out (include_self=False)."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if is_float(dtype):
        return -np.inf if reduce == "amax" else np.inf
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    if info is None:  # bool
        return reduce == "amin"
    return info.min if reduce == "amax" else info.max


def _counts(shape, index, dim):
    """How many values land on each position of a tensor of ``shape``."""
    counts = np.zeros(shape, dtype=np.int64)
    np.add.at(counts, _scatter_positions(index, dim), 1)
    return counts


class ScatterReduce(Function):
    """y = x with src reduced in at ``index`` along ``dim`` (see the module docstring for
    the reductions and their derivatives). ``src`` has exactly ``index``'s shape."""

    @staticmethod
    def forward(ctx, x, index, src, *, dim, reduce, include_self):
        ctx.dim, ctx.reduce, ctx.include_self = dim, reduce, include_self
        counts = _counts(x._data.shape, index._data, dim)
        hit = counts > 0
        out = x._data.copy()
        if not include_self:
            out[hit] = _identity(reduce, out.dtype)
        _UFUNC[reduce].at(out, _scatter_positions(index._data, dim), src._data)
        if reduce == "mean":
            n = np.maximum(counts + include_self, 1)
            if out.dtype.kind in "iu":
                out = np.floor_divide(out, n).astype(out.dtype)
            else:
                out = (out / n).astype(out.dtype)
            ctx.n = n
        ctx.hit = hit
        ctx.save_for_backward(x, index, src)
        return wrap(out)

    @staticmethod
    def backward(ctx, grad_out):
        x, index, src = ctx.saved_tensors
        dim, reduce, include_self = ctx.dim, ctx.reduce, ctx.include_self
        if reduce == "sum":
            grad_x, grad_src = grad_out, Gather.apply(grad_out, index, dim=dim)
        elif reduce == "mean":
            shared = grad_out / wrap(ctx.n.astype(grad_out._data.dtype))
            grad_x, grad_src = shared, Gather.apply(shared, index, dim=dim)
        elif reduce == "prod":
            grad_x, grad_src = _prod_grads(grad_out, x, index, src, dim, include_self)
        else:
            grad_x, grad_src = _extremum_grads(grad_out, x, index, src, dim, reduce,
                                               include_self)
        if not include_self:
            grad_x = where(wrap(ctx.hit), 0.0, grad_x)
        return grad_x, None, grad_src


def _extremum_grads(grad_out, x, index, src, dim, reduce, include_self):
    """amax/amin: dy shared evenly among x and the src values equal to the result."""
    result = ScatterReduce.apply(x, index, src, dim=dim, reduce=reduce,
                                 include_self=include_self)
    dtype = grad_out._data.dtype
    x_is = (x._data == result._data).astype(dtype)
    src_is = (src._data == np.take_along_axis(result._data, index._data, axis=dim)).astype(dtype)
    n = x_is.copy()
    np.add.at(n, _scatter_positions(index._data, dim), src_is)
    shared = grad_out / wrap(np.maximum(n, 1))
    return shared * wrap(x_is), Gather.apply(shared, index, dim=dim) * wrap(src_is)


def _prod_grads(grad_out, x, index, src, dim, include_self):
    """prod: the product of the other values, computed without dividing by a zero."""
    def product(base, values):
        return ScatterReduce.apply(base, index, values, dim=dim, reduce="prod",
                                   include_self=include_self)

    x_zero = wrap(x._data == 0)
    x_safe = where(x_zero, 1.0, x)
    grad_x = grad_out * product(x_safe, src) / x_safe
    src_zero = src._data == 0
    zeros_there = _gather_array(_scatter_add_array(x._data.shape, index._data, src_zero, dim),
                                index._data, dim)
    single_zero = wrap(src_zero & (zeros_there == 1))
    result = product(x, src)
    without_the_zero = product(x, where(single_zero, 1.0, src))
    grad_src = where(single_zero,
                     Gather.apply(grad_out * without_the_zero, index, dim=dim),
                     Gather.apply(grad_out * result, index, dim=dim)
                     / where(wrap(src_zero), 1.0, src))
    return grad_x, grad_src


def _scatter_add_array(shape, index, values, dim):
    out = np.zeros(shape, dtype=np.int64)
    np.add.at(out, _scatter_positions(index, dim), values)
    return out


def _gather_array(array, index, dim):
    return np.take_along_axis(array, index, axis=dim)


def _check_reduce(op, reduce, allowed):
    if reduce not in allowed:
        raise RuntimeError(
            f"{op}(): reduce argument must be one of {', '.join(allowed)}, but got {reduce!r}"
        )


def _check_dtypes(op, input, src):
    if not isinstance(src, Tensor):
        raise TypeError(f"{op}(): src must be a tensor, got {type(src).__name__}")
    if src._data.dtype != input._data.dtype:
        raise RuntimeError(
            f"{op}(): expected self.dtype to be equal to src.dtype (got {input.dtype} and "
            f"{src.dtype}); convert one with .to(other.dtype)"
        )


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """``input`` with the values of ``src`` reduced in at ``index`` along ``dim``; reduce is
    "sum", "prod", "mean", "amax" or "amin".

    >>> x = chainrule.tensor([1.0, 2.0, 3.0, 4.0])
    >>> x.scatter_reduce(0, chainrule.tensor([0, 1, 0, 1]), x, "amax", include_self=False)
    tensor([3., 4., 3., 4.])
    """
    _check_reduce("scatter_reduce", reduce, REDUCTIONS)
    _check_dtypes("scatter_reduce", input, src)
    d = _check_index_tensor("scatter_reduce", input, dim, index, src)
    if input._data.ndim == 0:
        out = scatter_reduce(input.reshape(1), 0, index.reshape(-1), src.reshape(-1), reduce,
                             include_self=include_self)
        return out.reshape(())
    if tuple(src.shape) != tuple(index.shape):
        src = src[tuple(slice(0, s) for s in index.shape)]
    return ScatterReduce.apply(input, index, src, dim=d, reduce=reduce,
                               include_self=include_self)


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """``input`` with slice i of ``source`` reduced into slice ``index[i]`` along ``dim``;
    reduce is "prod", "mean", "amax" or "amin".

    >>> x = chainrule.ones(2, 2)
    >>> x.index_reduce(0, chainrule.tensor([0, 0]), chainrule.tensor([[2.0, 3.0], [4.0, 5.0]]),
    ...                "prod")
    tensor([[ 8., 15.],
            [ 1.,  1.]])
    """
    _check_reduce("index_reduce", reduce, REDUCTIONS[1:])
    _check_dtypes("index_reduce", input, source)
    d = normalize_dim(dim, input._data.ndim, "index_reduce")
    positions = _flat_index(index, "index_reduce")
    ndim = max(input._data.ndim, 1)
    source_shape = tuple(source.shape) or (1,)
    input_shape = tuple(input.shape) or (1,)
    if (len(source_shape) != ndim or source_shape[d] != len(positions)
            or any(s != i for k, (s, i) in enumerate(zip(source_shape, input_shape)) if k != d)):
        raise RuntimeError(
            f"index_reduce(): source {tuple(source.shape)} must match input "
            f"{tuple(input.shape)} outside dim {d} and have {len(positions)} slices (one per "
            "index) along it"
        )
    if positions.size and (positions.min() < -input_shape[d] or positions.max() >= input_shape[d]):
        raise IndexError(f"index_reduce(): index out of range for dimension {d} with size "
                         f"{input_shape[d]}")
    along = [1] * ndim
    along[d] = len(positions)
    full_index = np.broadcast_to((positions % input_shape[d]).reshape(along), source_shape)
    out = ScatterReduce.apply(input.reshape(input_shape), wrap(np.ascontiguousarray(full_index)),
                              source.reshape(source_shape), dim=d, reduce=reduce,
                              include_self=include_self)
    return out.reshape(tuple(input.shape))


register(scatter_reduce, ScatterReduce)
register(index_reduce)
