"""Selecting, splitting, broadcasting and rearranging, built from the view, join and index
ops (so they need no backward of their own): ``select``, ``broadcast_to``, ``atleast_2d``,
``tensor_split``, ``rot90``, ``repeat_interleave``, ``take``, ``meshgrid``, ``diff`` ..."""

import numpy as np

from .. import creation
from ..tensor import Size, Tensor
from . import elementwise as E
from . import join as J
from . import shape as S
from ._operands import normalize_dim, wrap
from .registry import register
from .view_writes import strided_positions


def select(input, dim, index):
    """The slice at ``index`` of dimension ``dim`` (that dimension removed); a view."""
    dim = normalize_dim(dim, input.ndim, "select")
    size = input.shape[dim]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {dim}")
    return input[(slice(None),) * dim + (index,)]


def broadcast_shapes(*shapes):
    """The shape all of ``shapes`` broadcast to."""
    try:
        return Size(np.broadcast_shapes(*[tuple(s) if not isinstance(s, int) else (s,)
                                          for s in shapes]))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape: "
                           f"{[tuple(s) if not isinstance(s, int) else (s,) for s in shapes]}"
                           ) from None


def broadcast_to(input, size):
    return S.expand(input, *size)


def broadcast_tensors(*tensors):
    shape = broadcast_shapes(*[t.shape for t in tensors])
    return tuple(S.expand(t, *shape) for t in tensors)


def _atleast(tensors, ndim, shaper):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    out = tuple(shaper(t) if t.ndim < ndim else t for t in tensors)
    return out[0] if len(out) == 1 else out


def atleast_1d(*tensors):
    return _atleast(tensors, 1, lambda t: t.reshape(1))


def atleast_2d(*tensors):
    return _atleast(tensors, 2, lambda t: t.reshape(1, -1))


def atleast_3d(*tensors):
    return _atleast(tensors, 3, lambda t: t.reshape(1, 1, 1) if t.ndim == 0 else (
        t.reshape(1, -1, 1) if t.ndim == 1 else t.unsqueeze(-1)))


def ravel(input):
    return input.reshape(-1)


def column_stack(tensors):
    return J.hstack([t.reshape(-1, 1) if t.ndim < 2 else t for t in tensors])


def row_stack(tensors):
    return J.vstack(tensors)


def dstack(tensors):
    return J.cat([atleast_3d(t) for t in tensors], 2)


def tensor_split(input, indices_or_sections, dim=0):
    """Split into ``n`` nearly equal parts (the first ones one longer), or at the given
    indices; views."""
    dim = normalize_dim(dim, input.ndim, "tensor_split")
    size = input.shape[dim]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        sections = indices_or_sections
        if sections <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be larger than 0, got "
                               f"{sections}")
        base, extra = divmod(size, sections)
        bounds = np.cumsum([0] + [base + (i < extra) for i in range(sections)]).tolist()
    else:
        bounds = [0] + [min(max(int(i), 0), size) for i in indices_or_sections] + [size]
    return tuple(S.narrow(input, dim, start, max(end - start, 0))
                 for start, end in zip(bounds[:-1], bounds[1:]))


def split_with_sizes(input, split_sizes, dim=0):
    return J.split(input, list(split_sizes), dim)


def unsafe_split(input, split_size, dim=0):
    return J.split(input, split_size, dim)




def unsafe_chunk(input, chunks, dim=0):
    return J.chunk(input, chunks, dim)


def _split_on(input, sections, dim, op):
    if isinstance(sections, int) and input.shape[dim] % sections:
        raise RuntimeError(f"torch.{op} attempted to split along dimension {dim}, but the size "
                           f"of the dimension {input.shape[dim]} is not divisible by the split "
                           f"size {sections}!")
    return tensor_split(input, sections, dim)


def hsplit(input, sections):
    return _split_on(input, sections, 1 if input.ndim > 1 else 0, "hsplit")


def vsplit(input, sections):
    return _split_on(input, sections, 0, "vsplit")


def dsplit(input, sections):
    return _split_on(input, sections, 2, "dsplit")


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane ``dims`` (from the first towards the
    second)."""
    d0, d1 = (normalize_dim(d, input.ndim, "rot90") for d in dims)
    k %= 4
    if k == 1:
        return S.flip(input, [d1]).transpose(d0, d1)
    if k == 2:
        return S.flip(input, [d0, d1])
    if k == 3:
        return S.flip(input, [d0]).transpose(d0, d1)
    return input.clone()


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times (an int, or one count per element of ``dim``)."""
    if repeats is None:  # repeat_interleave(repeats): indices repeated by their counts
        counts = input._data
        return wrap(np.repeat(np.arange(counts.size), counts).astype(np.int64))
    if dim is None:
        input, dim = input.reshape(-1), 0
    dim = normalize_dim(dim, input.ndim, "repeat_interleave")
    counts = repeats._data if isinstance(repeats, Tensor) else repeats
    index = np.repeat(np.arange(input.shape[dim]), counts).astype(np.int64)
    return input.index_select(dim, wrap(index))


def take(input, index):
    """Elements of ``input`` read as a flat tensor, at ``index`` (shaped like index)."""
    return input.reshape(-1)[index]


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids; ``indexing`` "ij" (matrix) or "xy" (Cartesian)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    vectors = list(tensors)
    shape = [v.numel() for v in vectors]
    grids = []
    for i, v in enumerate(vectors):
        view = [1] * len(vectors)
        view[i] = -1
        grids.append(S.expand(v.reshape(view), *shape))
    if indexing == "xy" and len(grids) >= 2:  # Cartesian: the first two dims swap
        grids = [g.transpose(0, 1) for g in grids]
    return tuple(grids)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along ``dim``."""
    dim = normalize_dim(dim, input.ndim, "diff")
    parts = [t for t in (prepend, input, append) if t is not None]
    x = J.cat(parts, dim) if len(parts) > 1 else input
    for _ in range(n):
        length = x.shape[dim]
        if x._data.dtype == np.bool_:
            x = S.narrow(x, dim, 1, length - 1) ^ S.narrow(x, dim, 0, length - 1)
        else:
            x = S.narrow(x, dim, 1, length - 1) - S.narrow(x, dim, 0, length - 1)
    return x


def index_fill(input, dim, index, value):
    """A copy of ``input`` with the slices at ``index`` along ``dim`` set to ``value``."""
    dim = normalize_dim(dim, input.ndim, "index_fill")
    mask = np.zeros(input.shape[dim], dtype=bool)
    mask[np.asarray(index._data if isinstance(index, Tensor) else index)] = True
    shape = [1] * input.ndim
    shape[dim] = -1
    return E.where(wrap(mask.reshape(shape)), value, input)


def index_copy(input, dim, index, source):
    """A copy of ``input`` with the slices at ``index`` along ``dim`` replaced by ``source``'s
    (gradients flow to both; each index should appear once, as in PyTorch)."""
    cleared = index_fill(input, dim, index, 0)
    return cleared + creation.zeros_like(input).index_add(dim, index, source)


def masked_scatter(input, mask, source):
    """``input`` with the positions where ``mask`` holds filled from ``source`` in order."""
    mask_array = np.broadcast_to(mask._data, input.shape)
    count = int(mask_array.sum())
    picks = np.cumsum(mask_array.reshape(-1)) - 1
    if count > source.numel():
        raise RuntimeError("masked_scatter: expected source to have at least as many elements "
                           f"as mask's True entries ({count}), got {source.numel()}")
    values = source.reshape(-1)[wrap(np.where(mask_array.reshape(-1), picks, 0))]
    return E.where(wrap(mask_array), values.reshape(input.shape), input)


def unravel_index(indices, shape):
    """The coordinates of flat ``indices`` in a tensor of ``shape``."""
    array = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return tuple(wrap(c.astype(np.int64)) for c in np.unravel_index(array, shape))


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the vector x: columns x^(N-1) ... x^0 (or increasing)."""
    n = x.shape[0] if N is None else N
    powers = list(range(n)) if increasing else list(range(n - 1, -1, -1))
    return J.stack([x ** p if p else x.new_ones(x.shape) for p in powers], dim=1)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return wrap(np.stack(np.tril_indices(row, offset, col)).astype(np.int64))


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return wrap(np.stack(np.triu_indices(row, offset, col)).astype(np.int64))


def cartesian_prod(*tensors):
    """Every combination of one element from each vector, as rows."""
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return J.stack([g.reshape(-1) for g in grids], dim=1)


def combinations(input, r=2, with_replacement=False):
    """The r-element combinations of a vector's elements, as rows (itertools' order)."""
    import itertools

    pick = itertools.combinations_with_replacement if with_replacement else (
        itertools.combinations)
    index = np.array(list(pick(range(input.shape[0]), r)), dtype=np.int64)
    if index.size == 0:
        return input.new_zeros((0, r)) if r else input.new_zeros((0,))
    return input[wrap(index)]


def block_diag(*tensors):
    """A block-diagonal matrix with the given matrices (or vectors/scalars) on its diagonal."""
    blocks = [t.reshape(1, -1) if t.ndim < 2 else t for t in tensors]
    blocks = [b.reshape(1, 1) if b.numel() == 1 and b.ndim < 2 else b for b in blocks]
    total = sum(b.shape[1] for b in blocks)
    rows, start = [], 0
    for b in blocks:
        rows.append(S.pad(b, (start, total - start - b.shape[1])))
        start += b.shape[1]
    return J.cat(rows, 0)


# -- sliding windows and strided views -------------------------------------------------------
def unfold_windows(self, dimension, size, step):
    """``Tensor.unfold``: all slices of length ``size`` along ``dimension``, ``step`` apart, as a
    new last dim (registered as the method form of the op ``unfold``, whose function is
    ``nn.functional.unfold``, im2col)."""
    dim = normalize_dim(dimension, self.ndim, "unfold")
    length = self.shape[dim] if self.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {dim} is {length} but size is "
                           f"{size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    starts = np.arange(0, length - size + 1, step)
    index = (starts[:, None] + np.arange(size)[None, :]).reshape(-1)
    picked = self.index_select(dim, wrap(index.astype(np.int64)))
    shape = list(self.shape)
    shape[dim:dim + 1] = [len(starts), size]
    return picked.reshape(shape).movedim(dim + 1, -1)


def as_strided(input, size, stride, storage_offset=0):
    """The elements at ``storage_offset + sum(i_k * stride_k)`` of the flattened tensor."""
    return input.reshape(-1)[wrap(strided_positions(size, stride, storage_offset))]


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """The derivative estimated by differences along each of ``dim`` (all dims by default):
    central differences inside, one-sided ones of ``edge_order`` 1 or 2 at the edges; one
    tensor per dim. ``spacing``: one step, a step per dim, or a 1-D tensor of coordinates per
    dim (uneven grids, NumPy's second-order formulas)."""
    dims = range(input.ndim) if dim is None else ([dim] if isinstance(dim, int) else dim)
    dims = [normalize_dim(d, input.ndim, "gradient") for d in dims]
    if isinstance(spacing, (int, float, Tensor)) and not (
            isinstance(spacing, Tensor) and spacing.ndim):
        spacing = [spacing] * len(dims)
    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2, got "
                           f"{edge_order}")
    results = []
    for d, step in zip(dims, spacing):
        n = input.shape[d]
        if n < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
        if isinstance(step, Tensor) and step.ndim:
            results.append(_gradient_on_grid(input, d, step.numpy().astype(np.float64),
                                             edge_order))
            continue
        h = float(step.item() if isinstance(step, Tensor) else step)
        part = lambda start, length, d=d: S.narrow(input, d, start, length)  # noqa: E731
        if edge_order == 1:
            first = (part(1, 1) - part(0, 1)) / h
            last = (part(n - 1, 1) - part(n - 2, 1)) / h
        else:
            first = (-1.5 * part(0, 1) + 2 * part(1, 1) - 0.5 * part(2, 1)) / h
            last = (0.5 * part(n - 3, 1) - 2 * part(n - 2, 1) + 1.5 * part(n - 1, 1)) / h
        parts = [first]
        if n > 2:
            parts.append((part(2, n - 2) - part(0, n - 2)) / (2 * h))
        parts.append(last)
        results.append(J.cat(parts, d))
    return tuple(results)


def _gradient_on_grid(input, d, x, edge_order):
    """torch.gradient along ``d`` with sample coordinates ``x`` (NumPy's formulas: each
    point's derivative is a weighted sum of itself and its two neighbours)."""
    n = input.shape[d]
    if x.shape != (n,):
        raise RuntimeError(f"torch.gradient expected spacing coordinates of size {n} along "
                           f"dimension {d}, got shape {tuple(x.shape)}")
    dx = np.diff(x)
    part = lambda start, length: S.narrow(input, d, start, length)  # noqa: E731
    along = [1] * input.ndim
    along[d] = -1

    def weighted(*terms):
        total = None
        for coefficient, values in terms:
            term = values * wrap(np.asarray(coefficient, input.dtype.numpy).reshape(along))
            total = term if total is None else total + term
        return total

    if edge_order == 1:
        first = weighted((-1 / dx[:1], part(0, 1)), (1 / dx[:1], part(1, 1)))
        last = weighted((-1 / dx[-1:], part(n - 2, 1)), (1 / dx[-1:], part(n - 1, 1)))
    else:
        h1, h2 = dx[:1], dx[1:2]
        first = weighted((-(2 * h1 + h2) / (h1 * (h1 + h2)), part(0, 1)),
                         ((h1 + h2) / (h1 * h2), part(1, 1)),
                         (-h1 / (h2 * (h1 + h2)), part(2, 1)))
        h1, h2 = dx[-2:-1], dx[-1:]
        last = weighted((h2 / (h1 * (h1 + h2)), part(n - 3, 1)),
                        (-(h2 + h1) / (h1 * h2), part(n - 2, 1)),
                        ((2 * h2 + h1) / (h2 * (h1 + h2)), part(n - 1, 1)))
    parts = [first]
    if n > 2:
        h1, h2 = dx[:-1], dx[1:]
        parts.append(weighted((-h2 / (h1 * (h1 + h2)), part(0, n - 2)),
                              ((h2 - h1) / (h1 * h2), part(1, n - 2)),
                              (h1 / (h2 * (h1 + h2)), part(2, n - 2))))
    parts.append(last)
    return J.cat(parts, d)


# -- registration ------------------------------------------------------------------------------
register(select)
register(broadcast_to)
register(broadcast_tensors, method=False)
register(broadcast_shapes, method=False)
register(atleast_1d, method=False)
register(atleast_2d, method=False)
register(atleast_3d, method=False)
register(ravel)
register(column_stack, method=False)
register(row_stack, method=False)
register(dstack, method=False)
register(hsplit)
register(vsplit)
register(dsplit)
register(tensor_split)
register(split_with_sizes, aliases=("unsafe_split_with_sizes",))
register(unsafe_split)
register(unsafe_chunk)
register(rot90)
register(repeat_interleave)
register(take)
register(meshgrid, method=False)
register(diff)
register(index_fill)
register(index_copy)
register(masked_scatter)
register(unravel_index, method=False)
register(vander, method=False)
register(tril_indices, method=False)
register(triu_indices, method=False)
register(cartesian_prod, method=False)
register(combinations, method=False)
register(block_diag, method=False)
register(as_strided)
register(gradient, method=False)
