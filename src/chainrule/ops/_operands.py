"""Turning op arguments into tensors, with PyTorch's type promotion.

Python scalars are "weak" (as in PyTorch and NumPy 2): ``float32_tensor * 2.5`` stays float32.
Integer and float tensors mix to the float dtype (``int64 + float32 -> float32``, where NumPy
would give float64), and integer division gives the default float dtype."""

import numpy as np

from .._dtypes import default_float
from ..tensor import Tensor

wrap = Tensor._from_array


def result_dtype(da, db):
    """The dtype of a binary op on arrays of dtypes ``da`` and ``db``."""
    if da == db:
        return da
    a_float, b_float = da.kind == "f", db.kind == "f"
    if a_float != b_float:
        return da if a_float else db
    return np.promote_types(da, db)


def scalar_tensor(value, like):
    """A 0-d tensor for a Python number used with tensor ``like``."""
    kind = like._data.dtype.kind
    if isinstance(value, bool):
        dtype = like._data.dtype
    elif isinstance(value, (int, np.integer)):
        dtype = like._data.dtype if kind != "b" else np.dtype(np.int64)
    elif isinstance(value, (float, np.floating)):
        dtype = like._data.dtype if kind == "f" else default_float()
    else:
        raise TypeError(
            f"unsupported operand of type {type(value).__name__}; use a tensor or a number"
        )
    return wrap(np.asarray(value, dtype=dtype))


def as_tensor_pair(a, b):
    """Both operands of a binary op as tensors (a Python number becomes a 0-d tensor)."""
    a_is, b_is = isinstance(a, Tensor), isinstance(b, Tensor)
    if a_is and b_is:
        return a, b
    if a_is:
        return a, (scalar_tensor(b, a) if not isinstance(b, np.ndarray) else wrap(b))
    if b_is:
        return (scalar_tensor(a, b) if not isinstance(a, np.ndarray) else wrap(a)), b
    raise TypeError("expected at least one tensor operand")


def as_tensor_arg(x):
    """A tensor argument; arrays and numbers are wrapped (float numbers as float32)."""
    if isinstance(x, Tensor):
        return x
    array = np.asarray(x)
    if array.dtype == np.float64 and not isinstance(x, np.ndarray):
        array = array.astype(default_float())
    return wrap(array)


def float_array(array):
    """The array itself if floating, else cast to the default float dtype (``exp(int)``)."""
    return array if array.dtype.kind == "f" else array.astype(default_float())


def normalize_dim(dim, ndim, op):
    """A dim in ``[-ndim, ndim)`` as a non-negative int, or a clear IndexError."""
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise IndexError(
            f"{op}: dimension out of range (expected to be in range of [{-size}, {size - 1}], "
            f"but got {dim})"
        )
    return dim % size


def normalize_dims(dim, ndim, op):
    """``dim`` (None, an int or a sequence of ints) as a tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        return (normalize_dim(int(dim), ndim, op),)
    return tuple(normalize_dim(int(d), ndim, op) for d in dim)
