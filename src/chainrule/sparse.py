"""``torch.sparse``: the operations of sparse tensors (stored densely here; see
``chainrule._sparse``)."""

from ._sparse import spmm

__all__ = ["addmm", "log_softmax", "mm", "softmax", "sum"]


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
