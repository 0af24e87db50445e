"""Reductions and scans (the softmax family is in ``softmax``). Their gradients broadcast the
incoming gradient back over the reduced dims (``_restore_reduced_dims``) and weight it by what
each element contributed.

Reductions over no dims (a 0-d input, where PyTorch accepts dim 0 and -1) reduce nothing."""

import builtins
import math

import numpy as np

from .. import return_types
from .._dtypes import is_float, to_numpy_dtype
from ..autograd import grad_mode
from ..autograd.function import Function
from ..tensor import Tensor
from ._operands import normalize_dim, normalize_dims, wrap
from .elementwise import maximum, minimum, where
from .registry import register

# What max/min with a dim return, as torch.return_types.max / .min.


def _axes(dim, ndim, op):
    """``dim`` as a tuple of axes; a 0-d tensor has none to reduce."""
    return normalize_dims(dim, ndim, op) if ndim else ()


def _count(shape, axes):
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


def _restore_reduced_dims(grad_out, input_shape, axes, keepdim):
    """Reshape a reduced gradient so that it broadcasts against the input again."""
    if keepdim or not axes:
        return grad_out
    shape = tuple(1 if i in axes else s for i, s in enumerate(input_shape))
    return grad_out.reshape(shape)


def _integer_sum_dtype(data, dtype):
    if dtype is None and data.dtype.kind in "bi" and data.dtype != np.int64:
        return np.dtype(np.int64)  # PyTorch sums and multiplies integers and bools as int64
    return dtype


def _require_float(input, op):
    if not is_float(input._data.dtype):
        raise RuntimeError(
            f"{op}(): expected a floating point input, got {input.dtype}; convert it first, "
            "e.g. x.float()"
        )


def _require_nonempty(x, axes, op, error=IndexError):
    if builtins.any(x.shape[a] == 0 for a in axes) or (not axes and x.size == 0):
        raise error(
            f"{op}(): cannot reduce over an empty dimension (input shape {x.shape}); "
            "the result would have no value. Pass a dim whose size is non-zero"
        )


# -- sums and products -------------------------------------------------------------------------
class Sum(Function):
    """y = sum of x over ``axes``;  dx = dy broadcast back to x's shape."""

    @staticmethod
    def forward(ctx, x, *, axes, keepdim, dtype=None):
        ctx.input_shape, ctx.axes, ctx.keepdim = x._data.shape, axes, keepdim
        dtype = _integer_sum_dtype(x._data, dtype)
        if dtype is None and x._data.dtype.itemsize == 2 and is_float(x._data.dtype):
            # float16 and bfloat16 sums accumulate in float32, as PyTorch's do (a bfloat16
            # running sum of ones would stop at 256), and round once
            total = np.add.reduce(x._data, axis=axes, dtype=np.float32, keepdims=keepdim)
            return wrap(np.asarray(total).astype(x._data.dtype))
        if axes:  # the ufunc directly: np.sum's Python wrapper costs more than a small sum
            return wrap(np.asarray(np.add.reduce(x._data, axis=axes, dtype=dtype,
                                                 keepdims=keepdim)))
        return wrap(np.asarray(np.sum(x._data, axis=axes, keepdims=keepdim, dtype=dtype)))

    @staticmethod
    def backward(ctx, grad_out):
        shape = ctx.input_shape
        if not grad_mode.is_grad_enabled() and math.prod(shape) <= 4096:
            return wrap(Sum._array_backward(ctx, grad_out._data))
        grad = _restore_reduced_dims(grad_out, shape, ctx.axes, ctx.keepdim)
        return grad.expand(shape)

    @staticmethod
    def _array_backward(ctx, grad):
        # NOTE: without create_graph, a small input's gradient is filled in directly: a new
        # array costs less than np.broadcast_to plus an Expand node (per-op overhead); a big
        # one is the broadcast (read-only) view that Expand makes
        shape = ctx.input_shape
        if not ctx.keepdim and ctx.axes and grad.ndim:  # (a 0-d total broadcasts as it is)
            grad = grad.reshape([1 if i in ctx.axes else n for i, n in enumerate(shape)])
        if math.prod(shape) > 4096:
            return np.broadcast_to(grad, shape)
        out = np.empty(shape, dtype=grad.dtype)
        out[...] = grad
        return out


def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum of the elements, over all dims or over ``dim`` (an int or a tuple)."""
    axes = _axes(dim, input._data.ndim, "sum")
    if dtype is not None:
        dtype = to_numpy_dtype(dtype)
    return Sum.apply(input, axes=axes, keepdim=keepdim, dtype=dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean of the elements, over all dims or over ``dim``."""
    if not is_float(input._data.dtype) and dtype is None:
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be floating point, got "
            f"{input.dtype}; use x.float().mean()"
        )
    axes = _axes(dim, input._data.ndim, "mean")
    return sum(input, dim=axes, keepdim=keepdim, dtype=dtype) / _count(input._data.shape, axes)


class Prod(Function):
    """y = product of x over ``axes``;  dx_i = dy * (product of the other elements), which is
    dy * y / x_i when no element is zero."""

    @staticmethod
    def forward(ctx, x, *, axes, keepdim, dtype=None):
        ctx.axes, ctx.keepdim = axes, keepdim
        dtype = _integer_sum_dtype(x._data, dtype)
        y = wrap(np.asarray(np.prod(x._data, axis=axes, keepdims=keepdim, dtype=dtype)))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        x, y = ctx.saved_tensors
        grad = _restore_reduced_dims(grad_out, x.shape, ctx.axes, ctx.keepdim)
        if not np.any(x._data == 0):
            return grad * _restore_reduced_dims(y, x.shape, ctx.axes, ctx.keepdim) / x
        return grad * _product_of_others(x, ctx.axes)


def _product_of_others(x, axes):
    """For each element, the product of the other elements of its slice, without dividing by
    zero. A slice with one zero gives it the product of the rest and every other element 0;
    with two or more zeros, everything is 0.

    The zeros' values (all 0) enter the formulas through ``zero_sum`` so that the result stays
    correct to differentiate once more: d(product of others of x_i)/d(x_k) for a zero x_k is
    the product of the rest, not 0."""
    zero = x == 0
    safe = where(zero, 1.0, x)
    product = prod(safe, dim=axes, keepdim=True) if axes else safe
    zeros_in_slice = zero.sum(dim=axes, keepdim=True)
    zero_sum = where(zero, x, 0.0).sum(dim=axes, keepdim=True)
    none, one, two = ((zeros_in_slice == k).to(x.dtype) for k in (0, 1, 2))
    at_nonzero = (none + one * zero_sum) * product / safe
    at_zero = (one + two * (zero_sum - x)) * product
    return where(zero, at_zero, at_nonzero)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of the elements, over all dims or along ``dim``."""
    axes = _axes(dim, input._data.ndim, "prod")
    if dtype is not None:
        dtype = to_numpy_dtype(dtype)
    return Prod.apply(input, axes=axes, keepdim=keepdim, dtype=dtype)


# -- spread ------------------------------------------------------------------------------------
def _var_array(x, axes, correction, keepdim):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.var(x._data, axis=axes, ddof=correction, keepdims=keepdim))


def _var_grad(x, grad_var, axes, correction):
    """d var / dx applied to ``grad_var`` (already broadcastable against x)."""
    denominator = _count(x.shape, axes) - correction
    scale = 2.0 / denominator if denominator > 0 else float("inf")
    return grad_var * (x - x.mean(dim=axes, keepdim=True)) * scale


class Var(Function):
    """y = sum((x - mean)^2) / (N - correction);  dx = dy * 2 (x - mean) / (N - correction)."""

    @staticmethod
    def forward(ctx, x, *, axes, correction, keepdim):
        ctx.save_for_backward(x)
        ctx.axes, ctx.correction, ctx.keepdim = axes, correction, keepdim
        return wrap(_var_array(x, axes, correction, keepdim))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        grad = _restore_reduced_dims(grad_out, x.shape, ctx.axes, ctx.keepdim)
        return _var_grad(x, grad, ctx.axes, ctx.correction)


class Std(Function):
    """y = sqrt(var(x));  dx = dy / (2 y) * dvar/dx, and 0 where y = 0 (as PyTorch)."""

    @staticmethod
    def forward(ctx, x, *, axes, correction, keepdim):
        ctx.axes, ctx.correction, ctx.keepdim = axes, correction, keepdim
        y = wrap(np.sqrt(_var_array(x, axes, correction, keepdim)))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        x, y = ctx.saved_tensors
        grad = _restore_reduced_dims(grad_out, x.shape, ctx.axes, ctx.keepdim)
        y = _restore_reduced_dims(y, x.shape, ctx.axes, ctx.keepdim)
        constant = y == 0
        grad_var = where(constant, 0.0, grad / where(constant, 1.0, 2 * y))
        return _var_grad(x, grad_var, ctx.axes, ctx.correction)


def _spread_args(op, input, dim, unbiased, correction):
    _require_float(input, op)
    if isinstance(dim, bool):  # the legacy form var(x, unbiased)
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}(): pass either unbiased= or correction=, not both")
    if correction is None:
        correction = 0 if unbiased is False else 1
    return _axes(dim, input._data.ndim, op), correction


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` with Bessel's ``correction`` (default 1; ``unbiased=False`` is 0)."""
    axes, correction = _spread_args("var", input, dim, unbiased, correction)
    return Var.apply(input, axes=axes, correction=correction, keepdim=keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation over ``dim``; arguments as ``var``."""
    axes, correction = _spread_args("std", input, dim, unbiased, correction)
    return Std.apply(input, axes=axes, correction=correction, keepdim=keepdim)


# -- extremes ----------------------------------------------------------------------------------
def _one_hot(indices, shape, dim):
    """Bool tensor of ``shape``: True where the position along ``dim`` equals ``indices``
    (given with the reduced dim kept)."""
    positions = np.arange(shape[dim]).reshape([-1 if i == dim else 1 for i in range(len(shape))])
    return wrap(positions == indices)


class _ExtremeAlongDim(Function):
    """values, indices of the extreme along ``dim``;  dx = dy at the index, 0 elsewhere."""

    find = None  # np.argmax or np.argmin

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        grad = _restore_reduced_dims(grad_values, ctx.input_shape, (ctx.dim,), ctx.keepdim)
        return where(_one_hot(ctx.indices, ctx.input_shape, ctx.dim), grad, 0.0)

    @classmethod
    def _forward(cls, ctx, x, dim, keepdim):
        ctx.input_shape, ctx.dim, ctx.keepdim = x._data.shape, dim, keepdim
        ctx.indices = cls.find(x._data, axis=dim, keepdims=True)
        values = np.take_along_axis(x._data, ctx.indices, axis=dim)
        indices = ctx.indices.astype(np.int64)
        if not keepdim:
            values, indices = values.squeeze(dim), indices.squeeze(dim)
        return wrap(values), wrap(indices)


class Max(_ExtremeAlongDim):
    """values = max of x along ``dim``, indices = its position;  dx = dy at that position."""

    find = staticmethod(np.argmax)

    @staticmethod
    def forward(ctx, x, *, dim, keepdim):
        return Max._forward(ctx, x, dim, keepdim)


class Min(_ExtremeAlongDim):
    """values = min of x along ``dim``, indices = its position;  dx = dy at that position."""

    find = staticmethod(np.argmin)

    @staticmethod
    def forward(ctx, x, *, dim, keepdim):
        return Min._forward(ctx, x, dim, keepdim)


class _ExtremeOverAxes(Function):
    """y = the extreme of x over ``axes``;  dx = dy shared evenly by the elements equal to y."""

    reduce = None  # np.amax or np.amin

    @classmethod
    def _forward(cls, ctx, x, axes, keepdim):
        ctx.axes, ctx.keepdim = axes, keepdim
        y = wrap(np.asarray(cls.reduce(x._data, axis=axes, keepdims=keepdim)))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        x, y = ctx.saved_tensors
        grad = _restore_reduced_dims(grad_out, x.shape, ctx.axes, ctx.keepdim)
        hit = x == _restore_reduced_dims(y, x.shape, ctx.axes, ctx.keepdim)
        ties = hit.sum(dim=ctx.axes, keepdim=True) if ctx.axes else hit.long()
        return where(hit, grad / where(ties == 0, 1, ties), 0.0)


class Amax(_ExtremeOverAxes):
    """y = max of x over ``axes``;  dx = dy / (number of maxima) at each maximum, else 0."""

    reduce = staticmethod(np.amax)

    @staticmethod
    def forward(ctx, x, *, axes, keepdim):
        return Amax._forward(ctx, x, axes, keepdim)


class Amin(_ExtremeOverAxes):
    """y = min of x over ``axes``;  dx = dy / (number of minima) at each minimum, else 0."""

    reduce = staticmethod(np.amin)

    @staticmethod
    def forward(ctx, x, *, axes, keepdim):
        return Amin._forward(ctx, x, axes, keepdim)


def _extreme(op, along_dim, over_axes, elementwise, result, input, dim, keepdim, other):
    if isinstance(dim, Tensor) or other is not None:
        return elementwise(input, dim if other is None else other)  # max(a, b): elementwise
    if dim is None:
        _require_nonempty(input._data, (), op, RuntimeError)
        return over_axes.apply(input, axes=_axes(None, input._data.ndim, op), keepdim=False)
    if input._data.ndim == 0:
        normalize_dim(dim, 0, op)
        return result(*along_dim.apply(input.reshape(1), dim=0, keepdim=False))
    d = normalize_dim(dim, input._data.ndim, op)
    _require_nonempty(input._data, (d,), op)
    return result(*along_dim.apply(input, dim=d, keepdim=keepdim))


def max(input, dim=None, keepdim=False, *, other=None):
    """The largest element; with ``dim``, (values, indices) along it; with a tensor, maximum."""
    return _extreme("max", Max, Amax, maximum, return_types.max, input, dim, keepdim, other)


def min(input, dim=None, keepdim=False, *, other=None):
    """The smallest element; with ``dim``, (values, indices) along it; with a tensor, minimum."""
    return _extreme("min", Min, Amin, minimum, return_types.min, input, dim, keepdim, other)


def amax(input, dim=(), keepdim=False):
    """Largest element over ``dim`` (all dims by default); ties share the gradient evenly."""
    axes = _axes(None if dim == () else dim, input._data.ndim, "amax")
    _require_nonempty(input._data, axes, "amax", RuntimeError if dim == () else IndexError)
    return Amax.apply(input, axes=axes, keepdim=keepdim)


def amin(input, dim=(), keepdim=False):
    """Smallest element over ``dim`` (all dims by default); ties share the gradient evenly."""
    axes = _axes(None if dim == () else dim, input._data.ndim, "amin")
    _require_nonempty(input._data, axes, "amin", RuntimeError if dim == () else IndexError)
    return Amin.apply(input, axes=axes, keepdim=keepdim)


def _arg_extreme(op, find, input, dim, keepdim):
    data = input._data
    if dim is None:
        _require_nonempty(data, (), op)
        index = np.asarray(find(data), dtype=np.int64)
        return wrap(index.reshape((1,) * data.ndim) if keepdim else index)
    if data.ndim == 0:
        normalize_dim(dim, 0, op)
        return wrap(np.asarray(0, dtype=np.int64))
    d = normalize_dim(dim, data.ndim, op)
    _require_nonempty(data, (d,), op)
    return wrap(np.asarray(find(data, axis=d, keepdims=keepdim), dtype=np.int64))


def argmax(input, dim=None, keepdim=False):
    """Index of the largest element (of the flattened tensor, or along ``dim``)."""
    return _arg_extreme("argmax", np.argmax, input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    """Index of the smallest element (of the flattened tensor, or along ``dim``)."""
    return _arg_extreme("argmin", np.argmin, input, dim, keepdim)


# -- norms -------------------------------------------------------------------------------------
def _norm_array(data, p, axes, keepdim):
    a = np.abs(data)
    if p == np.inf:
        return np.amax(a, axis=axes, keepdims=keepdim)
    if p == -np.inf:
        return np.amin(a, axis=axes, keepdims=keepdim)
    if p == 0:
        return np.sum(a != 0, axis=axes, keepdims=keepdim).astype(data.dtype)
    if p == 1:
        return np.sum(a, axis=axes, keepdims=keepdim)
    if p == 2:
        return np.sqrt(np.sum(a * a, axis=axes, keepdims=keepdim))
    with np.errstate(divide="ignore"):
        return np.sum(a**p, axis=axes, keepdims=keepdim) ** (1 / p)


class Norm(Function):
    """y = (sum |x|^p)^(1/p) over ``axes`` (p = inf: max |x|; -inf: min |x|; 0: nonzero count);
    dx = dy * sign(x) |x|^(p-1) / y^(p-1), which is dy * x / y for p = 2 and dy * sign(x) for
    p = 1; for p = +-inf dy is shared evenly by the elements where |x| = y. Where y = 0 the
    gradient is 0 (as PyTorch), never NaN."""

    @staticmethod
    def forward(ctx, x, *, p, axes, keepdim):
        ctx.p, ctx.axes, ctx.keepdim = p, axes, keepdim
        y = wrap(np.asarray(_norm_array(x._data, p, axes, keepdim)))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        x, y = ctx.saved_tensors
        p = ctx.p
        grad = _restore_reduced_dims(grad_out, x.shape, ctx.axes, ctx.keepdim)
        y = _restore_reduced_dims(y, x.shape, ctx.axes, ctx.keepdim)
        if p == 0:
            return grad * x * 0.0
        if p == 1:
            return grad * x.sign()
        if p in (np.inf, -np.inf):
            hit = x.abs() == y
            ties = hit.sum(dim=ctx.axes, keepdim=True) if ctx.axes else hit.long()
            return where(hit, grad * x.sign() / where(ties == 0, 1, ties), 0.0)
        safe_y = where(y == 0, 1.0, y)  # x is 0 wherever y is, so these gradients are 0
        if p == 2:
            return grad * x / safe_y
        zero = x == 0
        safe_abs = where(zero, 1.0, x.abs())
        return where(zero, 0.0, grad * x.sign() * (safe_abs / safe_y) ** (p - 1))


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over ``dim`` (all dims by default); ``'fro'`` is the 2-norm."""
    if dtype is not None:
        input = input.to(dtype)
    _require_float(input, "norm")
    if p == "fro" or p is None:
        p = 2.0
    elif p == "nuc":  # the sum of singular values of a matrix (or of each matrix over dim)
        from ..linalg import matrix_norm  # (linalg builds on this module)

        return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)
    elif isinstance(p, str):
        raise ValueError(f"norm(): p={p!r} is not supported; use a number, inf, -inf, 'fro' "
                         "or 'nuc'")
    p = float(p)
    axes = _axes(dim, input._data.ndim, "norm")
    if p < 0 or p == np.inf:
        _require_nonempty(input._data, axes, "norm", RuntimeError)
    return Norm.apply(input, p=p, axes=axes, keepdim=keepdim)


# -- scans -------------------------------------------------------------------------------------
class Cumsum(Function):
    """y_i = sum of x_j for j <= i along ``dim`` (j >= i when ``reverse``);
    dx = the cumulative sum of dy in the other direction."""

    @staticmethod
    def forward(ctx, x, *, dim, reverse=False, dtype=None):
        ctx.dim, ctx.reverse = dim, reverse
        data = np.flip(x._data, dim) if reverse else x._data
        y = np.cumsum(data, axis=dim, dtype=_integer_sum_dtype(data, dtype))
        return wrap(np.ascontiguousarray(np.flip(y, dim)) if reverse else y)

    @staticmethod
    def backward(ctx, grad_out):
        return Cumsum.apply(grad_out, dim=ctx.dim, reverse=not ctx.reverse)


def cumsum(input, dim, *, dtype=None):
    """Cumulative sum along ``dim``."""
    if dtype is not None:
        dtype = to_numpy_dtype(dtype)
    if input._data.ndim == 0:
        normalize_dim(dim, 0, "cumsum")
        return Cumsum.apply(input.reshape(1), dim=0, dtype=dtype).reshape(())
    return Cumsum.apply(input, dim=normalize_dim(dim, input._data.ndim, "cumsum"), dtype=dtype)


# -- logical reductions (no gradient) ----------------------------------------------------------
def all(input, dim=None, keepdim=False):
    """Whether every element is nonzero (over ``dim``), as a bool tensor."""
    axes = _axes(dim, input._data.ndim, "all")
    return wrap(np.asarray(np.all(input._data, axis=axes, keepdims=keepdim)))


def any(input, dim=None, keepdim=False):
    """Whether some element is nonzero (over ``dim``), as a bool tensor."""
    axes = _axes(dim, input._data.ndim, "any")
    return wrap(np.asarray(np.any(input._data, axis=axes, keepdims=keepdim)))


def count_nonzero(input, dim=None):
    """Number of nonzero elements (over ``dim``), as int64."""
    axes = _axes(dim, input._data.ndim, "count_nonzero")
    counts = np.sum(input._data != 0, axis=axes, dtype=np.int64)
    return wrap(np.asarray(counts))


# -- registration: chainrule.X and Tensor.X -----------------------------------------------------
register(sum, Sum)
register(mean)
register(prod, Prod)
register(var, Var)
register(std, Std)
register(max, Max, Amax)
register(min, Min, Amin)
register(amax, Amax)
register(amin, Amin)
register(argmax)
register(argmin)
register(norm, Norm)
register(cumsum, Cumsum)
register(all)
register(any)
register(count_nonzero)
