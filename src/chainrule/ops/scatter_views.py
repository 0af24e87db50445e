"""Out-of-place writes into a view: ``select_scatter``, ``slice_scatter``,
``diagonal_scatter``, ``as_strided_scatter`` (the input with a slice replaced by ``src``) and
``put`` (values at flat indices). Built on ``index_put``, so gradients flow to both the input
(outside the slice) and ``src``."""

import numpy as np

from ._operands import normalize_dim, wrap
from .index import index_put
from .registry import register
from .view_writes import strided_positions


def _positions(shape, view):
    """The flat positions, in ``view(flat positions reshaped)``'s order."""
    return view(np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape))


def _replace(input, positions, src):
    flat = input.reshape(-1)
    out = index_put(flat, (wrap(np.asarray(positions).reshape(-1).astype(np.int64)),),
                    src.reshape(-1).to(input.dtype))
    return out.reshape(input.shape)


def select_scatter(input, src, dim, index):
    """``input`` with ``input.select(dim, index)`` replaced by ``src``."""
    dim = normalize_dim(dim, input.ndim, "select_scatter")
    positions = _positions(input.shape, lambda p: np.take(p, index, axis=dim))
    return _replace(input, positions, src)


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """``input`` with the slice ``start:end:step`` of ``dim`` replaced by ``src``."""
    dim = normalize_dim(dim, input.ndim, "slice_scatter")
    key = (slice(None),) * dim + (slice(start, end, step),)
    positions = _positions(input.shape, lambda p: p[key])
    return _replace(input, positions, src)


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """``input`` with its ``offset`` diagonal over (dim1, dim2) replaced by ``src``."""
    positions = _positions(input.shape, lambda p: np.diagonal(p, offset, dim1, dim2))
    return _replace(input, positions, src)


def as_strided_scatter(input, src, size, stride, storage_offset=0):
    """``input`` with the elements ``as_strided(size, stride, storage_offset)`` reads replaced
    by ``src``."""
    return _replace(input, strided_positions(size, stride, storage_offset), src)


def put(input, index, source, accumulate=False):
    """``input`` (read flat) with ``source`` written at the flat ``index`` positions (added
    when ``accumulate``)."""
    flat = input.reshape(-1)
    out = index_put(flat, (index.reshape(-1),), source.reshape(-1).to(input.dtype), accumulate)
    return out.reshape(input.shape)


register(select_scatter)
register(slice_scatter)
register(diagonal_scatter)
register(as_strided_scatter)
register(put)
