"""``torch.sparse``: the operations of sparse tensors (stored densely here; see
``chainrule._sparse``)."""

import warnings

from . import _dtypes
from ._sparse import sparse_coo_tensor, spmm

__all__ = ["addmm", "log_softmax", "mm", "softmax", "sum"]


def _legacy_constructor(name, dtype):
    def construct(*args, device=None):
        """PyTorch's deprecated ``torch.sparse.FloatTensor(indices, values[, size])``; with
        sizes only (``FloatTensor(2, 3)``), a sparse tensor with no entries."""
        warnings.warn("torch.sparse.SparseTensor(indices, values, shape, *, device=) is "
                      "deprecated.  Please use torch.sparse_coo_tensor(indices, values, shape, "
                      "dtype=, device=).", UserWarning, stacklevel=2)
        if args and hasattr(args[0], "shape") and len(args) in (2, 3):
            return sparse_coo_tensor(*args, dtype=dtype, device=device)
        sizes = tuple(args[0]) if len(args) == 1 and not isinstance(args[0], int) else args
        return sparse_coo_tensor([[] for _ in sizes] or [[]], [], sizes or (0,), dtype=dtype,
                                 device=device)

    construct.__name__ = construct.__qualname__ = name
    return construct


for _name in ("FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
              "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor", "BFloat16Tensor"):
    _dtype_name = {v: k for k, v in _dtypes.LEGACY_TYPE_NAMES.items()}[_name]
    globals()[_name] = _legacy_constructor(_name, getattr(_dtypes, _dtype_name.replace(
        "bool", "bool_")))


def mm(mat1, mat2, reduce="sum"):
    """``mat1 @ mat2`` where either may be sparse."""
    if reduce != "sum":
        raise NotImplementedError(f"torch.sparse.mm with reduce={reduce!r}: only 'sum' is "
                                  "supported by chainrule")
    return spmm(mat1, mat2)


def addmm(mat, mat1, mat2, *, beta=1.0, alpha=1.0):
    return beta * mat + alpha * spmm(mat1, mat2)


def sum(input, dim=None, dtype=None):  # noqa: A001 - PyTorch's name
    """The sum of every entry (or over ``dim``) of a sparse tensor."""
    result = input.sum(dtype=dtype) if dim is None else input.sum(dim, dtype=dtype)
    return result


def softmax(input, dim, *, dtype=None):
    return input.softmax(dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    return input.log_softmax(dim, dtype=dtype)
