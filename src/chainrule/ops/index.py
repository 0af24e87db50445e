"""Indexing: ``x[key]``, index_put, gather/scatter and masks.

A key follows PyTorch's rules, which differ from NumPy's in one place: integers select first
(like ``select``), and only then do index tensors apply to what is left. So a key is parsed into
a *basic* NumPy key (ints, slices, None: a view) and an optional *advanced* key (index arrays
and full slices) applied to that view. Gradients scatter back with ``np.add.at``, so an element
picked twice receives both gradients."""

from collections.abc import Sequence

import numpy as np

from .. import kernels
from ..autograd.function import Function
from ..tensor import Tensor
from ._operands import as_tensor_arg, normalize_dim, wrap
from .elementwise import where
from .registry import register
from .shape import _view_of, expand, pad


# -- parsing a key ------------------------------------------------------------------------------
def _as_index_item(item):
    """One entry of a key as None, Ellipsis, a slice, an int, a bool or an integer ndarray."""
    if item is None or item is Ellipsis or isinstance(item, (slice, bool)):
        return item
    if isinstance(item, (int, np.integer)):
        return int(item)
    if isinstance(item, Tensor):
        array = item._data
    elif isinstance(item, (np.ndarray, list, tuple, range)):
        array = np.asarray(item)  # t[range(n), idx]: any Python sequence of indices
    elif isinstance(item, Sequence) and not isinstance(item, (str, bytes)):
        array = np.asarray(list(item))
    else:
        raise IndexError(
            "only integers, slices (`:`), ellipsis (`...`), None and long or bool tensors are "
            f"valid indices, got {type(item).__name__}"
        )
    if array.dtype == np.uint8:
        array = array.astype(bool)  # PyTorch reads uint8 index tensors as masks
    if array.dtype.kind == "b":
        return bool(array) if array.ndim == 0 else array
    if array.dtype.kind in "iu":
        # A 0-d integer tensor selects, like an int (as in PyTorch).
        return int(array) if array.ndim == 0 else array.astype(np.intp, copy=False)
    if array.size == 0 and array.dtype.kind == "f":
        return array.astype(np.intp)  # x[[]]: an empty list parses as float
    raise IndexError(
        f"tensors used as indices must be long, int or bool tensors, got dtype {array.dtype}"
    )


def _dims_used(item):
    if item is None or item is Ellipsis or isinstance(item, bool):
        return 0
    if isinstance(item, np.ndarray) and item.dtype == bool:
        return item.ndim
    return 1


def _check_int(value, dim, size):
    if not -size <= value < size:
        raise IndexError(f"index {value} is out of bounds for dimension {dim} with size {size}")


def _check_slice(item):
    if item.step is not None and int(item.step) <= 0:
        raise ValueError(
            f"step must be greater than zero, got {item.step}: negative and zero slice steps "
            "are not supported (as in PyTorch); reverse with x.flip(dim), e.g. x.flip(0)[::2]"
        )


def _parse_key(shape, key):
    """PyTorch's indexing key as ``(basic, advanced)`` NumPy keys; advanced is None when the
    key has no index tensors (then the result is a view)."""
    items = [_as_index_item(k) for k in (key if isinstance(key, tuple) else (key,))]
    if sum(k is Ellipsis for k in items) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(_dims_used(k) for k in items)
    if used > len(shape):
        raise IndexError(
            f"too many indices for tensor of dimension {len(shape)}: the key indexes {used} dims"
        )
    if not any(k is Ellipsis for k in items):
        items.append(Ellipsis)
    basic, advanced, dim, fancy = [], [], 0, False
    for item in items:
        if item is Ellipsis:
            rest = len(shape) - used
            basic += [slice(None)] * rest
            advanced += [slice(None)] * rest
            dim += rest
        elif item is None or isinstance(item, bool):
            basic.append(None)
            advanced.append(slice(None) if item in (None, True) else np.zeros(0, np.intp))
            fancy = fancy or item is False
        elif isinstance(item, int):
            _check_int(item, dim, shape[dim])
            basic.append(item)
            dim += 1
        elif isinstance(item, slice):
            _check_slice(item)
            basic.append(item)
            advanced.append(slice(None))
            dim += 1
        elif item.dtype == bool:
            covered = shape[dim:dim + item.ndim]
            if item.shape != covered:
                raise IndexError(
                    f"the shape of the mask {list(item.shape)} does not match the shape "
                    f"{list(covered)} of the indexed tensor at dims {dim}..{dim + item.ndim - 1}"
                )
            basic += [slice(None)] * item.ndim
            advanced += list(np.nonzero(item))
            dim += item.ndim
            fancy = True
        else:
            if item.size and (item.min() < -shape[dim] or item.max() >= shape[dim]):
                bad = item.min() if item.min() < -shape[dim] else item.max()
                _check_int(int(bad), dim, shape[dim])
            basic.append(slice(None))
            advanced.append(item)
            dim += 1
            fancy = True
    basic.append(Ellipsis)  # so that NumPy returns a 0-d view rather than a scalar
    return tuple(basic), (tuple(advanced) if fancy else None)


def _index_shapes(advanced):
    return ", ".join(str(a.shape) for a in advanced if isinstance(a, np.ndarray))


# -- the primitives -----------------------------------------------------------------------------
class Index(Function):
    """y = x[key] (a view for basic keys);  dx = zeros with dy added at key, so repeated
    indices accumulate."""

    @staticmethod
    def forward(ctx, x, *, key):
        ctx.input_shape, ctx.key = x._data.shape, key
        basic, advanced = key
        picked = x._data[basic]
        if advanced is None:
            return _view_of(x, picked)
        try:
            return wrap(picked[advanced])
        except IndexError:
            raise IndexError(
                f"index: the index tensors of shapes {_index_shapes(advanced)} cannot be "
                "broadcast together"
            ) from None

    @staticmethod
    def backward(ctx, grad_out):
        zeros = grad_out.new_zeros(ctx.input_shape)
        return IndexPut.apply(zeros, grad_out, key=ctx.key, accumulate=True)


def _add_at(target, advanced, values):
    """np.add.at(target, advanced, values). One integer index array along the first axis (an
    embedding's or a gather's gradient) goes through a stable sort and np.add.reduceat, ~5x
    faster than np.add.at; the rows of one index are still added in their original order."""
    full = slice(None)
    while len(advanced) > 1 and isinstance(advanced[-1], slice) and advanced[-1] == full:
        advanced = advanced[:-1]  # trailing full slices (an embedding's key) select nothing
    index = advanced[0] if len(advanced) == 1 else None
    if (not isinstance(index, np.ndarray) or index.dtype.kind not in "iu" or target.ndim == 0
            or index.size == 0):
        np.add.at(target, advanced, values)
        return
    rows = index.reshape(-1)
    n = target.shape[0]
    if rows.min() < -n or rows.max() >= n:
        np.add.at(target, advanced, values)  # raises the IndexError
        return
    rows = np.where(rows < 0, rows + n, rows)
    values = np.broadcast_to(values, index.shape + target.shape[1:])
    values = values.reshape((rows.size,) + target.shape[1:])
    fast = kernels.load("scatter", target, values, size=values.size)
    if fast is not None and target.ndim > 1 and kernels.writable_in_place(target):
        width = target[0].size
        fast.add_rows(target.reshape(n, width), rows.astype(np.int64, copy=False),
                      np.ascontiguousarray(values).reshape(rows.size, width))
        return
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    starts = np.flatnonzero(np.concatenate(([True], rows[1:] != rows[:-1])))
    target[rows[starts]] += np.add.reduceat(values[order], starts, axis=0)


def _write(array, key, values, accumulate):
    """Write (or add) ``values`` into ``array`` in place at a parsed key."""
    basic, advanced = key
    target = array[basic]  # a view into array
    v = values.astype(array.dtype, copy=False)
    while v.ndim and v.shape[0] == 1:
        v = v[0]  # leading size-1 dims never matter when broadcasting to the target
    try:
        if advanced is None:
            if accumulate:
                np.add(target, v, out=target)
            else:
                target[...] = v
        elif accumulate:
            _add_at(target, advanced, v)
        else:
            target[advanced] = v
    except (ValueError, IndexError):
        shape = target.shape if advanced is None else np.empty(target.shape)[advanced].shape
        raise RuntimeError(
            f"index_put: values of shape {tuple(values.shape)} cannot be broadcast to the "
            f"indexed shape {shape}"
        ) from None


def set_in_place(self, key, value):
    """``self[key] = value`` outside the graph, with PyTorch's indexing rules (the caller
    bumps the version)."""
    values = value._data if isinstance(value, Tensor) else np.asarray(value)
    _write(self._data, _parse_key(self._data.shape, key), values, accumulate=False)


class IndexPut(Function):
    """y = x with values written at key (added if accumulate);  dx = dy (zero at key unless
    accumulate),  dvalues = dy[key]."""

    @staticmethod
    def forward(ctx, x, values, *, key, accumulate):
        ctx.key, ctx.accumulate, ctx.values_shape = key, accumulate, values._data.shape
        basic, advanced = key
        out = x._data.copy()
        _write(out, key, values._data, accumulate)
        return wrap(out)

    @staticmethod
    def backward(ctx, grad_out):
        grad_x = grad_values = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_out
            if not ctx.accumulate:
                grad_x = IndexPut.apply(grad_out, grad_out.new_zeros(()), key=ctx.key,
                                        accumulate=False)
        if ctx.needs_input_grad[1]:
            grad_values = Index.apply(grad_out, key=ctx.key)
            missing = len(ctx.values_shape) - grad_values.ndim
            if missing > 0:
                grad_values = grad_values.reshape((1,) * missing + tuple(grad_values.shape))
        return grad_x, grad_values


class Gather(Function):
    """y[i][j] = x[i][index[i][j]] (dim=1);  dx = zeros.scatter_add(dim, index, dy)."""

    @staticmethod
    def forward(ctx, x, index, *, dim):
        ctx.input_shape, ctx.dim = x._data.shape, dim
        ctx.save_for_backward(index)
        window = x._data[_leading_window(index._data.shape, dim)]
        return wrap(np.take_along_axis(window, index._data, axis=dim))

    @staticmethod
    def backward(ctx, grad_out):
        (index,) = ctx.saved_tensors
        zeros = grad_out.new_zeros(ctx.input_shape)
        return ScatterAdd.apply(zeros, index, grad_out, dim=ctx.dim), None


class Scatter(Function):
    """y = x with y[i][index[i][j]] = src[i][j] (dim=1);  dx = dy zeroed where written,
    dsrc = dy.gather(dim, index) (zero beyond index's shape)."""

    @staticmethod
    def forward(ctx, x, index, src, *, dim):
        ctx.dim, ctx.src_shape = dim, src._data.shape
        ctx.save_for_backward(index)
        out = x._data.copy()
        window = src._data[_leading_window(index._data.shape, None)]
        out[_scatter_positions(index._data, dim)] = window
        return wrap(out)

    @staticmethod
    def backward(ctx, grad_out):
        (index,) = ctx.saved_tensors
        grad_x = grad_src = None
        if ctx.needs_input_grad[0]:
            zeros = grad_out.new_zeros(tuple(index.shape))
            grad_x = Scatter.apply(grad_out, index, zeros, dim=ctx.dim)
        if ctx.needs_input_grad[2]:
            grad_src = _pad_to(Gather.apply(grad_out, index, dim=ctx.dim), ctx.src_shape)
        return grad_x, None, grad_src


class ScatterAdd(Function):
    """y = x with src[i][j] added at y[i][index[i][j]] (dim=1);  dx = dy,
    dsrc = dy.gather(dim, index) (zero beyond index's shape)."""

    @staticmethod
    def forward(ctx, x, index, src, *, dim):
        ctx.dim, ctx.src_shape = dim, src._data.shape
        ctx.save_for_backward(index)
        out = x._data.copy()
        window = src._data[_leading_window(index._data.shape, None)].astype(out.dtype)
        np.add.at(out, _scatter_positions(index._data, dim), window)
        return wrap(out)

    @staticmethod
    def backward(ctx, grad_out):
        (index,) = ctx.saved_tensors
        grad_src = None
        if ctx.needs_input_grad[2]:
            grad_src = _pad_to(Gather.apply(grad_out, index, dim=ctx.dim), ctx.src_shape)
        return grad_out, None, grad_src


def _leading_window(index_shape, dim):
    """The part of a tensor that an index of ``index_shape`` addresses (all of ``dim``)."""
    return tuple(slice(None) if d == dim else slice(0, s) for d, s in enumerate(index_shape))


def _scatter_positions(index, dim):
    """Full NumPy coordinates for scatter: open grids, with ``index`` along ``dim``."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


def _pad_to(tensor, shape):
    """Zero-pad ``tensor`` at the end of each dim up to ``shape``."""
    if tuple(tensor.shape) == tuple(shape):
        return tensor
    widths = []
    for have, want in reversed(list(zip(tensor.shape, shape))):
        widths += [0, want - have]
    return pad(tensor, widths)


def _check_index_tensor(op, input, dim, index, src=None):
    """Validate gather/scatter arguments: PyTorch's shape rules, integer indices in range."""
    if not isinstance(index, Tensor) or index._data.dtype.kind not in "iu":
        kind = index.dtype if isinstance(index, Tensor) else type(index).__name__
        raise RuntimeError(f"{op}(): expected an int64 index tensor, got {kind}")
    ndim = input._data.ndim
    if index._data.ndim != ndim and not (ndim <= 1 and index._data.ndim <= 1):
        raise RuntimeError(
            f"{op}(): index tensor must have the same number of dimensions as the input "
            f"(input {tuple(input.shape)}, index {tuple(index.shape)})"
        )
    d = normalize_dim(dim, ndim, op)
    for axis, (i_size, x_size) in enumerate(zip(index.shape, input.shape)):
        if axis != d and i_size > x_size:
            raise RuntimeError(
                f"{op}(): index {tuple(index.shape)} is larger than input {tuple(input.shape)} "
                f"in dimension {axis}"
            )
        if src is not None and i_size > src.shape[axis]:
            raise RuntimeError(
                f"{op}(): index {tuple(index.shape)} is larger than src {tuple(src.shape)} in "
                f"dimension {axis}"
            )
    size = input._data.shape[d] if ndim else 1
    data = index._data
    if data.size and (data.min() < 0 or data.max() >= size):
        bad = int(data.min() if data.min() < 0 else data.max())
        raise RuntimeError(
            f"{op}(): index {bad} is out of bounds for dimension {d} with size {size}"
        )
    return d


def _at_least_1d(tensors, result_shape):
    """0-d tensors as 1-d (NumPy's take_along_axis needs an axis), with a function that
    gives a result back its proper shape."""
    if all(t._data.ndim > 0 for t in tensors):
        return list(tensors), lambda r: r
    return [t.reshape(-1) for t in tensors], lambda r: r.reshape(tuple(result_shape))


# -- public functions ---------------------------------------------------------------------------
def getitem(self, key):
    """``self[key]``: ints and slices give a view, index tensors and masks a copy."""
    return Index.apply(self, key=_parse_key(self._data.shape, key))


def _values_like(input, values):
    """``values`` as a tensor of ``input``'s dtype (a number becomes a 0-d tensor)."""
    if not isinstance(values, Tensor):
        return wrap(np.asarray(values, dtype=input._data.dtype))
    return values if values._data.dtype == input._data.dtype else values.to(input._data.dtype)


def index_put(input, indices, values, accumulate=False):
    """A copy of ``input`` with ``values`` written (or added) at ``indices``: a tuple of index
    tensors as in PyTorch, or any key that ``input[key]`` accepts."""
    if isinstance(indices, list) and indices and all(isinstance(i, Tensor) for i in indices):
        indices = tuple(indices)
    key = _parse_key(input._data.shape, indices)
    return IndexPut.apply(input, _values_like(input, values), key=key, accumulate=accumulate)


def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` slices added at positions ``index`` along ``dim``."""
    d = normalize_dim(dim, input._data.ndim, "index_add")
    if alpha != 1:
        source = source * alpha
    key = (slice(None),) * d + (_flat_index(index, "index_add"),)
    return index_put(input, key, source, accumulate=True)


def _flat_index(index, op):
    index = as_tensor_arg(index)
    if index._data.ndim > 1 or index._data.dtype.kind not in "iu":
        raise IndexError(
            f"{op}(): index must be a 1-D integer tensor, got shape {tuple(index.shape)} and "
            f"dtype {index.dtype}"
        )
    return index._data.reshape(-1)


def index_select(input, dim, index):
    """The slices of ``input`` at positions ``index`` (1-D) along ``dim``."""
    d = normalize_dim(dim, input._data.ndim, "index_select")
    if input._data.ndim == 0:
        return input.reshape(1)[_flat_index(index, "index_select")].reshape(())
    return input[(slice(None),) * d + (_flat_index(index, "index_select"),)]


def gather(input, dim, index, *, sparse_grad=False):
    """Values of ``input`` along ``dim`` at the positions in ``index``."""
    d = _check_index_tensor("gather", input, dim, index)
    (x, i), restore = _at_least_1d((input, index), index.shape)
    return restore(Gather.apply(x, i, dim=d))


def scatter(input, dim, index, src=None, *, value=None):
    """A copy of ``input`` with ``src`` (a tensor or a number) written at ``index`` along
    ``dim``."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() needs src (a tensor) or value (a number)")
    d = _check_index_tensor("scatter", input, dim, index, src if isinstance(src, Tensor) else None)
    if not isinstance(src, Tensor):
        src = wrap(np.full(index._data.shape, src, dtype=input._data.dtype))
    (x, i, s), restore = _at_least_1d((input, index, _values_like(input, src)), input.shape)
    return restore(Scatter.apply(x, i, s, dim=d))


def scatter_add(input, dim, index, src):
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeats add up)."""
    d = _check_index_tensor("scatter_add", input, dim, index, src)
    (x, i, s), restore = _at_least_1d((input, index, _values_like(input, src)), input.shape)
    return restore(ScatterAdd.apply(x, i, s, dim=d))


def take_along_dim(input, indices, dim=None):
    """``gather`` with broadcasting of ``input`` and ``indices`` outside ``dim``."""
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    d = normalize_dim(dim, input._data.ndim, "take_along_dim")
    if input._data.ndim != indices._data.ndim:
        raise RuntimeError(
            f"take_along_dim(): input {tuple(input.shape)} and indices "
            f"{tuple(indices.shape)} must have the same number of dimensions"
        )
    x_shape, i_shape = list(input.shape), list(indices.shape)
    x_shape[d] = i_shape[d] = 1
    try:
        common = list(np.broadcast_shapes(tuple(x_shape), tuple(i_shape)))
    except ValueError:
        raise RuntimeError(
            f"take_along_dim(): input {tuple(input.shape)} and indices {tuple(indices.shape)} "
            f"cannot be broadcast together outside dim {d}"
        ) from None
    x_shape, i_shape = list(common), list(common)
    x_shape[d], i_shape[d] = input.shape[d], indices.shape[d]
    return gather(expand(input, x_shape), d, expand(indices, i_shape))


def _bool_mask(op, mask):
    if not isinstance(mask, Tensor) or mask._data.dtype != np.bool_:
        kind = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype {kind}")
    return mask


def masked_fill(input, mask, value):
    """A copy of ``input`` with ``value`` where ``mask`` is True (no gradient to input there)."""
    mask = _bool_mask("masked_fill", mask)
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError(
            "masked_fill only supports a 0-dimensional value tensor, but got a tensor with "
            f"{value._data.ndim} dimension(s); use where(mask, values, input) instead"
        )
    return where(mask, _values_like(input, value), input)


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` is True, as a 1-D tensor."""
    mask = _bool_mask("masked_select", mask)
    try:
        shape = np.broadcast_shapes(input._data.shape, mask._data.shape)
    except ValueError:
        raise RuntimeError(
            f"masked_select: input {tuple(input.shape)} and mask {tuple(mask.shape)} cannot be "
            "broadcast together"
        ) from None
    return expand(input, shape)[np.broadcast_to(mask._data, shape)]


def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or one per dim."""
    array = input._data
    if as_tuple:
        return tuple(wrap(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(array)))
    return wrap(np.argwhere(array).astype(np.int64))


def argwhere(input):
    """Indices of the non-zero elements as an (n, ndim) int64 tensor."""
    return nonzero(input)


def iterate(self):
    """``iter(x)``: the sub-tensors ``x[0]``, ``x[1]``, ... along the first dim."""
    if self._data.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    return (getitem(self, i) for i in range(self._data.shape[0]))


# -- registration: chainrule.X and Tensor.X, unless stated otherwise ---------------------------
register(getitem, Index, name="__getitem__", top=False)
register(iterate, name="__iter__", top=False)
register(index_put, IndexPut)
register(index_add)
register(index_select)
register(gather, Gather)
register(scatter, Scatter)
register(scatter_add, ScatterAdd)
register(take_along_dim)
register(masked_fill)
register(masked_select)
register(nonzero)
register(argwhere)
