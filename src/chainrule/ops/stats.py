"""Order statistics, scans and counting: median, mode, kthvalue, quantile, cumprod/cummax,
unique, histograms, searchsorted. Values picked by an index (median, cummax, ...) are read
with ``gather``, so their gradient flows to the element that was picked; ``Cumprod`` is the
one primitive here."""


import numpy as np

from .. import return_types
from .._dtypes import is_float
from ..autograd.function import Function
from ..tensor import Tensor
from . import compare as C
from . import elementwise as E
from . import reduce as R
from ._operands import float_array, normalize_dim, wrap
from ._quickselect import quickselect_index
from .registry import register


def _pick(input, dim, index_array, keepdim, result):
    """(values, indices) for indices chosen along ``dim``: values gathered (differentiable)."""
    index = wrap(np.expand_dims(index_array, dim).astype(np.int64))
    values = input.gather(dim, index)
    if not keepdim:
        values, index = values.squeeze(dim), index.squeeze(dim)
    return result(values, index)


class Cumprod(Function):
    """y_i = x_1 ... x_i along dim;  dx_i = sum_{j >= i} dy_j * y_j / x_i (computed without
    dividing, so zeros in x are handled: the products exclude x_i)."""

    @staticmethod
    def forward(ctx, x, *, dim):
        ctx.save_for_backward(x)
        ctx.dim = dim
        return wrap(np.cumprod(x._data, axis=dim))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        dim, n = ctx.dim, x.shape[ctx.dim]
        steps_x = [x.select(dim, i) for i in range(n)]
        steps_g = [grad_out.select(dim, i) for i in range(n)]
        # prefix_i = x_1 ... x_(i-1);  S_i = g_i + x_(i+1) S_(i+1);  dx_i = prefix_i * S_i
        prefix = [None] * n
        running = None
        for i in range(n):
            prefix[i] = running
            running = steps_x[i] if running is None else running * steps_x[i]
        grads, suffix = [None] * n, None
        for i in range(n - 1, -1, -1):
            suffix = steps_g[i] if suffix is None else steps_g[i] + steps_x[i + 1] * suffix
            grads[i] = suffix if prefix[i] is None else prefix[i] * suffix
        return _stack(grads, dim)


def _stack(tensors, dim):
    from .join import stack

    return stack(tensors, dim)


def cumprod(input, dim, *, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind == "b":
        input = input.long()
    return Cumprod.apply(input, dim=normalize_dim(dim, input.ndim, "cumprod"))


def _cumulative_pick(input, dim, accumulate, op):
    dim = normalize_dim(dim, input.ndim, op)
    data = input._data
    best = accumulate.accumulate(data, axis=dim)
    positions = np.arange(data.shape[dim]).reshape([-1 if d == dim else 1
                                                    for d in range(data.ndim)])
    hit = np.where(data == best, positions, -1)  # the latest position holding the best
    index = np.maximum.accumulate(hit, axis=dim)
    values = input.gather(dim, wrap(index.astype(np.int64)))
    return getattr(return_types, op)(values, wrap(index.astype(np.int64)))


def cummax(input, dim):
    return _cumulative_pick(input, dim, np.maximum, "cummax")


def cummin(input, dim):
    return _cumulative_pick(input, dim, np.minimum, "cummin")


def logcumsumexp(input, dim):
    """log(cumsum(exp(x))) without overflow."""
    shift = R.amax(input, dim, keepdim=True).detach()
    return E.log(R.cumsum(E.exp(input - shift), dim)) + shift


class SpreadOverTies(Function):
    """y = ``value``, an order statistic of all of x found on the array;  dx = dy shared evenly
    by the elements equal to y (NaN: by the NaNs), PyTorch's rule for a whole-tensor median."""

    @staticmethod
    def forward(ctx, x, *, value):
        ctx.save_for_backward(x)
        ctx.value = value
        return wrap(np.asarray(value, dtype=x._data.dtype))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        value = ctx.value
        ties = C.isnan(x) if value != value else (x == value)
        ties = ties.to(grad_out.dtype)
        return grad_out * ties / ties.sum()


def _order_statistic(input, dim, keepdim, position, op, ignore_nan=False):
    if dim is None:
        flat = input.reshape(-1)
        picked = _order_statistic(flat.detach(), 0, False, position, op, ignore_nan).values
        return SpreadOverTies.apply(input, value=picked._data[()])
    dim = normalize_dim(dim, input.ndim, op)
    data = input._data
    order = np.argsort(data, axis=dim, kind="stable")
    count = data.shape[dim]
    if ignore_nan:
        valid = (~np.isnan(data)).sum(axis=dim, keepdims=True)
        k = np.maximum(position(valid) if callable(position) else position, 0)
    else:
        has_nan = np.isnan(data).any(axis=dim, keepdims=True) if is_float(data.dtype) else (
            np.zeros((1,) * data.ndim, bool))
        k = np.where(has_nan, count - 1, position(count) if callable(position) else position)
        k = np.broadcast_to(k, order.shape[:dim] + (1,) + order.shape[dim + 1:])
    chosen = np.take_along_axis(order, np.asarray(k, dtype=np.int64).reshape(
        order.shape[:dim] + (1,) + order.shape[dim + 1:]), axis=dim)
    return _pick(input, dim, np.squeeze(chosen, dim), keepdim, getattr(return_types, op))


def median(input, dim=None, keepdim=False):
    """The lower median (NaN if the slice holds one); with ``dim``, (values, indices)."""
    return _order_statistic(input, dim, keepdim, lambda n: (n - 1) // 2, "median")


def nanmedian(input, dim=None, keepdim=False):
    """The lower median of the non-NaN values."""
    return _order_statistic(input, dim, keepdim, lambda n: (n - 1) // 2, "nanmedian",
                            ignore_nan=True)


def kthvalue(input, k, dim=-1, keepdim=False):
    """The k-th smallest value (k from 1) and its index."""
    size = input.shape[dim] if input.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}")
    dim = normalize_dim(dim, input.ndim, "kthvalue")
    if input.ndim == 0:
        return _pick(input.reshape(1), 0, np.asarray(0), False, return_types.kthvalue)
    moved = np.moveaxis(input._data, dim, -1)
    rows = moved.reshape(-1, moved.shape[-1])
    order = np.argsort(rows, axis=-1, kind="stable")  # NaN sorts last, as in PyTorch
    chosen = order[:, k - 1].copy()
    kth = np.take_along_axis(rows, chosen[:, None], axis=-1)
    same = (rows == kth) | (np.isnan(rows) & np.isnan(kth)) if is_float(rows.dtype) else (
        rows == kth)
    for row in np.flatnonzero(same.sum(axis=-1) > 1):  # ties: the index PyTorch reports
        chosen[row] = quickselect_index(rows[row].tolist(), k - 1)
    return _pick(input, dim, chosen.reshape(moved.shape[:-1]), keepdim, return_types.kthvalue)


def mode(input, dim=-1, keepdim=False):
    """The most frequent value (the smallest on ties) and the last index holding it."""
    dim = normalize_dim(dim, input.ndim, "mode")
    moved = np.moveaxis(input._data, dim, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    indices = np.empty(flat.shape[0], dtype=np.int64)
    for row, values in enumerate(flat):
        uniques, counts = np.unique(values, return_counts=True)
        best = uniques[np.argmax(counts)]
        indices[row] = np.flatnonzero(values == best)[-1]
    return _pick(input, dim, indices.reshape(moved.shape[:-1]), keepdim, return_types.mode)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The q-th quantiles (q in [0, 1], a number or a 1-D tensor) along ``dim``."""
    return _quantile(input, q, dim, keepdim, interpolation, np.quantile)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    return _quantile(input, q, dim, keepdim, interpolation, np.nanquantile)


def _quantile(input, q, dim, keepdim, interpolation, numpy_quantile):
    qs = np.asarray(q._data if isinstance(q, Tensor) else q, dtype=np.float64)
    if np.any((qs < 0) | (qs > 1)):
        raise RuntimeError("quantile() q values must be in the range [0, 1]")
    x = input.reshape(-1) if dim is None else input
    axis = 0 if dim is None else normalize_dim(dim, input.ndim, "quantile")
    # the two neighbours of each quantile, combined with differentiable weights
    data = float_array(x._data)
    count = data.shape[axis]
    positions = qs * (count - 1)
    low, high = np.floor(positions).astype(np.int64), np.ceil(positions).astype(np.int64)
    order = np.argsort(np.where(np.isnan(data), np.inf, data), axis=axis, kind="stable")
    xs = x if is_float(x._data.dtype) else x.to(data.dtype)
    sorted_x = xs.gather(axis, wrap(order))
    weight = positions - low
    if interpolation == "lower":
        weight = np.zeros_like(weight)
    elif interpolation == "higher":
        weight = np.ones_like(weight)
    elif interpolation == "nearest":
        weight = (np.round(positions) == high).astype(np.float64)  # NumPy rounds half to even
    elif interpolation == "midpoint":
        weight = np.where(high > low, 0.5, 0.0)
    results = []
    for lo, hi, w in zip(np.atleast_1d(low), np.atleast_1d(high), np.atleast_1d(weight)):
        a, b = sorted_x.select(axis, int(lo)), sorted_x.select(axis, int(hi))
        results.append(a + (b - a) * float(w))
    if numpy_quantile is np.nanquantile and np.isnan(data).any():
        values = numpy_quantile(data, qs, axis=axis, method=interpolation)
        return wrap(np.asarray(values, dtype=data.dtype))
    from .join import stack

    out = stack(results, 0) if qs.ndim else results[0]
    if keepdim and dim is not None:
        out = out.unsqueeze(axis + (1 if qs.ndim else 0))
    return out


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    return R.sum(E.where(C.isnan(input), 0.0, input), dim, keepdim=keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    count = R.sum(~C.isnan(input), dim, keepdim=keepdim)
    return nansum(input, dim, keepdim, dtype=dtype) / count


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over ``dim``; arguments as ``std`` (``unbiased`` too, as PyTorch takes it)."""
    if isinstance(dim, bool):  # std_mean(x, False): the bool is ``unbiased``
        dim, unbiased = None, dim
    return (R.std(input, dim, unbiased, keepdim, correction=correction),
            R.mean(input, dim, keepdim=keepdim))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over ``dim``; arguments as ``var``."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return (R.var(input, dim, unbiased, keepdim, correction=correction),
            R.mean(input, dim, keepdim=keepdim))


def aminmax(input, *, dim=None, keepdim=False):
    if dim is None:
        return return_types.aminmax(R.amin(input), R.amax(input))
    return return_types.aminmax(R.amin(input, dim, keepdim=keepdim),
                                R.amax(input, dim, keepdim=keepdim))


def histc(input, bins=100, min=0, max=0):
    """A histogram of ``bins`` equal bins over [min, max] (the data's range when both are 0);
    values outside are ignored."""
    data = input._data
    low, high = (float(data.min()), float(data.max())) if min == max == 0 else (min, max)
    if low == high:
        low, high = low - 1, high + 1
    counts, _ = np.histogram(data, bins=bins, range=(low, high))
    return wrap(counts.astype(float_array(data).dtype))


def histogram(input, bins=100, *, range=None, weight=None, density=False):
    w = None if weight is None else weight._data
    edges = bins._data if isinstance(bins, Tensor) else bins
    hist, bin_edges = np.histogram(input._data, bins=edges, range=range, weights=w,
                                   density=density)
    dtype = float_array(input._data).dtype
    return return_types.histogram(wrap(hist.astype(dtype)), wrap(bin_edges.astype(dtype)))


def bincount(input, weights=None, minlength=0):
    data = input._data
    if data.ndim != 1 or (data.size and data.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    w = None if weights is None else weights._data
    counts = np.bincount(data, weights=w, minlength=minlength)
    return wrap(counts if w is None else counts.astype(float_array(w).dtype))


def dist(input, other, p=2):
    """The p-norm of input - other."""
    difference = (input - other).reshape(-1)
    if p == 0:
        return (difference != 0).sum().to(input.dtype)
    return R.norm(difference, p)  # (its gradient where input == other is 0, as PyTorch's)


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in the rows of ``input``."""
    x = input if input.ndim == 2 else input.reshape(1, -1)
    if fweights is not None or aweights is not None:
        w = None
        for given in (fweights, aweights):
            if given is not None:
                w = given if w is None else w * given
        total = w.sum()
        mean = (x * w).sum(1, keepdim=True) / total
        centred = x - mean
        if aweights is None:
            norm = total - correction
        else:
            norm = total - correction * (w * aweights).sum() / total
        out = (centred * w) @ centred.t() / norm
    else:
        centred = x - x.mean(1, keepdim=True)
        out = centred @ centred.t() / (x.shape[1] - correction)
    return out.squeeze() if input.ndim < 2 else out


def corrcoef(input):
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = E.sqrt(c.diagonal())
    return E.clamp(c / d.unsqueeze(1) / d.unsqueeze(0), -1, 1)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted), with the inverse indices and counts when asked."""
    values, inverse, counts = np.unique(input._data, return_inverse=True, return_counts=True,
                                        axis=dim)
    out = [wrap(values)]
    if return_inverse:
        out.append(wrap(inverse.reshape(input.shape if dim is None else -1).astype(np.int64)))
    if return_counts:
        out.append(wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive values."""
    flat = input._data.reshape(-1) if dim is None else np.moveaxis(input._data, dim, 0)
    if flat.shape[0] == 0:
        starts = np.zeros(0, dtype=bool)
    else:
        change = np.any((flat[1:] != flat[:-1]).reshape(flat.shape[0] - 1, -1), axis=1)
        starts = np.concatenate([[True], change])
    values = flat[starts]
    if dim is not None:
        values = np.moveaxis(values, 0, dim)
    out = [wrap(values)]
    if return_inverse:
        inverse = np.cumsum(starts) - 1
        out.append(wrap(inverse.reshape(input.shape if dim is None else -1).astype(np.int64)))
    if return_counts:
        bounds = np.flatnonzero(np.concatenate([starts, [True]]))
        out.append(wrap(np.diff(bounds).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """Where each value of ``input`` would be inserted into the (last-dim) sorted sequence."""
    right = side == "right" if side is not None else right
    sequence = sorted_sequence._data
    values = input._data if isinstance(input, Tensor) else np.asarray(input)
    if sorter is not None:
        sequence = np.take_along_axis(sequence, sorter._data, axis=-1)
    how = "right" if right else "left"
    if sequence.ndim == 1:
        result = np.searchsorted(sequence, values, side=how)
    else:
        rows = sequence.reshape(-1, sequence.shape[-1])
        queries = values.reshape(rows.shape[0], -1)
        result = np.stack([np.searchsorted(r, q, side=how) for r, q in zip(rows, queries)])
        result = result.reshape(values.shape)
    return wrap(np.asarray(result, dtype=np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket index of each value, by 1-D ``boundaries`` (right=False: boundaries[i-1] <
    x <= boundaries[i])."""
    values = input._data if isinstance(input, Tensor) else np.asarray(input)
    result = np.searchsorted(boundaries._data, values, side="right" if right else "left")
    return wrap(np.asarray(result, dtype=np.int32 if out_int32 else np.int64))


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    a = elements._data if isinstance(elements, Tensor) else np.asarray(elements)
    b = test_elements._data if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    return wrap(np.isin(a, b, invert=invert))


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The integral of y along ``dim`` by the trapezoidal rule."""
    dim = normalize_dim(dim, y.ndim, "trapezoid")
    n = y.shape[dim]
    left, right = y.narrow(dim, 0, n - 1), y.narrow(dim, 1, n - 1)
    if x is None:
        return ((left + right) * (0.5 * (1.0 if dx is None else dx))).sum(dim)
    spacing = x.diff(dim=dim if x.ndim == y.ndim else -1)
    return ((left + right) * spacing * 0.5).sum(dim)





def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    dim = normalize_dim(dim, y.ndim, "cumulative_trapezoid")
    n = y.shape[dim]
    left, right = y.narrow(dim, 0, n - 1), y.narrow(dim, 1, n - 1)
    if x is None:
        return R.cumsum((left + right) * (0.5 * (1.0 if dx is None else dx)), dim)
    spacing = x.diff(dim=dim if x.ndim == y.ndim else -1)
    return R.cumsum((left + right) * spacing * 0.5, dim)


def renorm(input, p, dim, maxnorm):
    """Rescale each slice along ``dim`` whose p-norm exceeds ``maxnorm`` to that norm."""
    dim = normalize_dim(dim, input.ndim, "renorm")
    others = tuple(d for d in range(input.ndim) if d != dim)
    norms = R.norm(input, p, others, keepdim=True)
    factor = E.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    return input * factor


def msort(input):
    return input.sort(dim=0).values


def histogramdd(input, bins=10, *, range=None, weight=None, density=False):
    """A histogram of the rows of ``input`` (N, D): counts and the D bin-edge tensors."""
    edges = bins._data if isinstance(bins, Tensor) else bins
    if isinstance(edges, (list, tuple)):
        edges = [e._data if isinstance(e, Tensor) else e for e in edges]
    pairs = None if range is None else list(zip(range[0::2], range[1::2]))
    hist, bin_edges = np.histogramdd(input._data.reshape(-1, input.shape[-1]), bins=edges,
                                     range=pairs, weights=None if weight is None
                                     else weight._data.reshape(-1), density=density)
    dtype = float_array(input._data).dtype
    return return_types.histogramdd(wrap(hist.astype(dtype)),
                                    [wrap(e.astype(dtype)) for e in bin_edges])


# -- registration ------------------------------------------------------------------------------
register(cumprod, Cumprod)
register(cummax)
register(cummin)
register(logcumsumexp)
register(median, SpreadOverTies)
register(nanmedian, SpreadOverTies)
register(mode)
register(kthvalue)
register(quantile)
register(nanquantile)
register(nansum)
register(nanmean)
register(std_mean, method=False)
register(var_mean, method=False)
register(aminmax)
register(histc)
register(bincount)
register(histogram)
register(dist)
register(cov)
register(corrcoef)
register(unique)
register(unique_consecutive)
register(searchsorted, method=False)
register(bucketize, method=False)
register(isin, method=False)
register(trapezoid, aliases=("trapz",), method=False)
register(cumulative_trapezoid, method=False)
register(renorm)
register(msort)
register(histogramdd, method=False)
