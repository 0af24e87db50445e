"""Sparse COO tensors, stored densely: ``torch.sparse_coo_tensor``, ``Tensor.to_sparse()``,
``to_dense()``, ``indices()``/``values()``, ``coalesce()``, ``torch.spmm``.

chainrule's arrays are dense NumPy arrays, so a sparse tensor here is a dense tensor marked
with the ``sparse_coo`` layout. Its values, and the results of every op on it, are PyTorch's
(an op's result is dense, as PyTorch's ``sparse @ dense`` is); memory is that of the dense
array. Beside the dense array it keeps its COO structure as PyTorch does: the coordinates and
values it was made from, duplicates and explicit zeros included, until ``coalesce()`` sums the
duplicates (``_indices()``, ``_values()``, ``_nnz()`` and ``is_coalesced()`` answer from it, so
a custom backward that reads ``a._indices()`` gets one entry per given value)."""

import numpy as np

from . import creation
from ._torch_functions import layout, strided
from .tensor import Tensor

__all__ = ["sparse_coo", "sparse_coo_tensor", "spmm"]

sparse_coo = layout("sparse_coo")


def _mark(tensor, sparse_dim, coordinates, coalesced):
    """Mark a dense tensor as sparse with COO ``coordinates`` (an int64 (sparse_dim, nnz)
    array); its values are the dense entries there unless duplicates sum into one."""
    tensor._layout, tensor._sparse_dim = sparse_coo, sparse_dim
    tensor._coo_coordinates, tensor._coo_coalesced = coordinates, coalesced
    return tensor


def _is_sparse(tensor):
    return getattr(tensor, "_layout", strided) is sparse_coo


def _require_sparse(tensor, op, what="sparse coordinate tensor"):
    if not _is_sparse(tensor):
        raise RuntimeError(f"{op} expected {what} layout but got Strided")


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, pin_memory=False,
                      requires_grad=False, check_invariants=None, is_coalesced=None):
    """The tensor with ``values[k]`` at coordinates ``indices[:, k]`` (duplicates summed) and
    zeros elsewhere; ``size`` defaults to the smallest that holds every coordinate."""
    index = indices if isinstance(indices, Tensor) else creation.tensor(indices)
    values = values if isinstance(values, Tensor) else creation.tensor(values, dtype=dtype)
    if index.dim() != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {tuple(index.shape)}")
    coordinates = index.numpy().astype(np.int64)
    sparse_dim, nnz = coordinates.shape
    if values.dim() == 0 or values.shape[0] != nnz:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: "
                           f"{nnz}, nnz from values: {values.shape[0] if values.dim() else 0}")
    if size is None:
        size = tuple(int(c.max()) + 1 if nnz else 0 for c in coordinates) + tuple(
            values.shape[1:])
    size = tuple(size)
    if nnz and any(int(c.max()) >= s or int(c.min()) < 0 for c, s in zip(coordinates, size)):
        raise RuntimeError(f"size is inconsistent with indices: for dim {sparse_dim - 1}, "
                           f"size is {size} but a coordinate lies outside it")
    if dtype is not None:
        values = values.to(dtype)
    dense = creation.zeros(size, dtype=values.dtype).index_put(
        tuple(creation.tensor(c) for c in coordinates), values, accumulate=True)
    if requires_grad:
        dense.requires_grad_()
    sparse = _mark(dense, sparse_dim, coordinates, bool(is_coalesced))
    sparse._coo_values = values
    return sparse


def spmm(input, mat2):
    """``input @ mat2`` for a (sparse) matrix and a dense one."""
    return input.mm(mat2)


def _to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """This tensor in the sparse COO layout (a copy; gradients flow through it)."""
    if _is_sparse(self):
        return self
    dims = self.dim() if sparse_dim is None else sparse_dim
    array = self._data
    entries = array.reshape(array.shape[:dims] + (-1,)) if array.ndim else array
    nonzero = entries != 0 if entries.ndim == dims else (entries != 0).any(-1)
    return _mark(self.clone(), dims, np.stack(np.nonzero(nonzero)).astype(np.int64), True)


def _to_dense(self, dtype=None, *, masked_grad=None):
    """The dense tensor: itself when already dense, as in PyTorch."""
    dense = self.clone() if _is_sparse(self) else self
    return dense if dtype is None else dense.to(dtype)


def _raw_indices(self):
    """``_indices()``: the (sparse_dim, nnz) int64 coordinates as stored, duplicates too."""
    _require_sparse(self, "_indices")
    return Tensor._from_array(self._coo_coordinates.copy())


def _raw_values(self):
    """``_values()``: the values as stored, one per coordinate (not tracked by autograd)."""
    _require_sparse(self, "_values", "sparse tensor")
    stored = getattr(self, "_coo_values", None)
    if stored is None:  # made by to_sparse(): the dense entries at its coordinates
        stored = self[tuple(Tensor._from_array(c) for c in self._coo_coordinates)]
    return stored.detach()


def _require_coalesced(self, what):
    if not self._coo_coalesced:
        raise RuntimeError(f"Cannot get {what} on an uncoalesced tensor, please call "
                           ".coalesce() first")


def _sparse_indices(self):
    """(sparse_dim, nnz) int64 coordinates of a coalesced sparse tensor."""
    _require_sparse(self, "indices")
    _require_coalesced(self, "indices")
    return _raw_indices(self)


def _sparse_values(self):
    """The values at ``indices()`` of a coalesced sparse tensor (gradients flow to it)."""
    _require_sparse(self, "values", "sparse tensor")
    _require_coalesced(self, "values")
    return self[tuple(Tensor._from_array(c) for c in self._coo_coordinates)]


def _coalesce(self):
    """The same tensor with each coordinate once, in sorted order, duplicates summed (explicit
    zeros stay, as in PyTorch); ``self`` when already coalesced."""
    _require_sparse(self, "coalesce")
    if self._coo_coalesced:
        return self
    coordinates = self._coo_coordinates
    if coordinates.shape[1]:
        flat = np.ravel_multi_index(tuple(coordinates), self.shape[:self._sparse_dim])
        unique = np.unique(flat)
        coordinates = np.stack(np.unravel_index(unique, self.shape[:self._sparse_dim]))
    return _mark(self.clone(), self._sparse_dim, coordinates.astype(np.int64), True)


def _is_coalesced(self):
    _require_sparse(self, "is_coalesced")
    return self._coo_coalesced


def _nnz(self):
    _require_sparse(self, "_nnz", "sparse tensor")
    return int(self._coo_coordinates.shape[1])


Tensor.layout = property(lambda self: getattr(self, "_layout", strided))
Tensor.is_sparse = property(_is_sparse)
Tensor.to_sparse = Tensor.to_sparse_coo = _to_sparse
Tensor.to_dense = _to_dense
Tensor.indices, Tensor._indices = _sparse_indices, _raw_indices
Tensor.values, Tensor._values = _sparse_values, _raw_values
Tensor.coalesce = _coalesce
Tensor.is_coalesced = _is_coalesced
Tensor._nnz = _nnz
Tensor.sparse_dim = lambda self: getattr(self, "_sparse_dim", 0)
Tensor.dense_dim = lambda self: self.dim() - getattr(self, "_sparse_dim", self.dim())
