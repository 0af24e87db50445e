"""Sparse COO tensors, stored densely: ``torch.sparse_coo_tensor``, ``Tensor.to_sparse()``,
``to_dense()``, ``indices()``/``values()``, ``torch.spmm``.

chainrule's arrays are dense NumPy arrays, so a sparse tensor here is a dense tensor marked
with the ``sparse_coo`` layout. Its values, and the results of every op on it, are PyTorch's
(an op's result is dense, as PyTorch's ``sparse @ dense`` is); memory is that of the dense
array, and duplicate coordinates are summed on construction (PyTorch keeps them until
``coalesce()``). ``indices()``/``values()`` read the nonzero entries."""

import numpy as np

from . import creation
from ._torch_functions import layout, strided
from .tensor import Tensor

__all__ = ["sparse_coo", "sparse_coo_tensor", "spmm"]

sparse_coo = layout("sparse_coo")


def _mark(tensor, sparse_dim):
    tensor._layout, tensor._sparse_dim = sparse_coo, sparse_dim
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
    return _mark(dense, sparse_dim)


def spmm(input, mat2):
    """``input @ mat2`` for a (sparse) matrix and a dense one."""
    return input.mm(mat2)


def _to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """This tensor in the sparse COO layout (a copy; gradients flow through it)."""
    if _is_sparse(self):
        return self
    dims = self.dim() if sparse_dim is None else sparse_dim
    return _mark(self.clone(), dims)


def _to_dense(self, dtype=None, *, masked_grad=None):
    """The dense tensor: itself when already dense, as in PyTorch."""
    dense = self.clone() if _is_sparse(self) else self
    return dense if dtype is None else dense.to(dtype)


def _sparse_indices(self):
    """(sparse_dim, nnz) int64 coordinates of the entries that are not zero."""
    _require_sparse(self, "indices")
    array = self.numpy()
    sparse = array.reshape(array.shape[:self._sparse_dim] + (-1,)) if array.ndim else array
    nonzero = sparse != 0 if sparse.ndim == self._sparse_dim else (sparse != 0).any(-1)
    return Tensor._from_array(np.stack(np.nonzero(nonzero)).astype(np.int64))


def _sparse_values(self):
    _require_sparse(self, "values", "sparse tensor")
    index = _sparse_indices(self)
    return self[tuple(index[i] for i in range(index.shape[0]))]


def _coalesce(self):
    _require_sparse(self, "coalesce")
    return self


def _is_coalesced(self):
    _require_sparse(self, "is_coalesced")
    return True


def _nnz(self):
    _require_sparse(self, "_nnz", "sparse tensor")
    return int(_sparse_indices(self).shape[1])


Tensor.layout = property(lambda self: getattr(self, "_layout", strided))
Tensor.is_sparse = property(_is_sparse)
Tensor.to_sparse = Tensor.to_sparse_coo = _to_sparse
Tensor.to_dense = _to_dense
Tensor.indices = Tensor._indices = _sparse_indices
Tensor.values = Tensor._values = _sparse_values
Tensor.coalesce = _coalesce
Tensor.is_coalesced = _is_coalesced
Tensor._nnz = _nnz
Tensor.sparse_dim = lambda self: getattr(self, "_sparse_dim", 0)
Tensor.dense_dim = lambda self: self.dim() - getattr(self, "_sparse_dim", self.dim())
