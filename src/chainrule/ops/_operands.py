"""Turning op arguments into tensors, with PyTorch's type promotion.

PyTorch's rule (https://pytorch.org/docs/stable/tensor_attributes.html#type-promotion-doc):
operands rank in three tiers: tensors with dimensions, then 0-d tensors, then Python numbers.
A lower tier changes the result's dtype only when its category (bool < integer < float) is
higher than every operand above it: ``float32 vector * float64 0-d tensor`` is float32,
``int32 vector * 2.5`` is the default float dtype, ``int32 vector + int64 0-d`` stays int32,
``where(cond, 1, 0)`` is int64. Within a tier dtypes promote as ``promote_types`` says
(``uint8 + int8 -> int16``; an integer and a float give the float, where NumPy would widen to
float64): ``_dtypes.promote_numpy``."""

import numbers

import numpy as np

from .._dtypes import default_float, from_numpy_dtype, is_float, promote_numpy
from ..tensor import Tensor

wrap = Tensor._from_array

_BOOL, _INT64 = np.dtype(np.bool_), np.dtype(np.int64)


def wrap_each(arrays):
    """Each array of a tuple as a tensor, None staying None (what a backward on arrays,
    ``Function._array_backward``, returns, for the tensor ``backward`` that calls it)."""
    return tuple([None if array is None else wrap(array) for array in arrays])


def _kind(dtype):
    """NumPy's kind letter, with bfloat16 (kind 'V' in NumPy) counted as floating."""
    return "f" if is_float(dtype) else dtype.kind


def _combine_tiers(higher, lower):
    """The dtype of a higher tier after a lower tier joins (PyTorch's combine_categories)."""
    if higher is None:
        return lower
    if lower is None or _kind(higher) == "f":
        return higher
    if higher.kind == "b" or _kind(lower) == "f":
        return promote_numpy(higher, lower)
    return higher


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}
_NUMBER_CATEGORY = {bool: 0, int: 1, float: 2}


def _number_dtype(value):
    """The dtype a Python number takes when it decides a result (bool, int64, default float)."""
    if isinstance(value, (bool, np.bool_)):
        return _BOOL
    if isinstance(value, numbers.Integral):
        return _INT64
    if isinstance(value, numbers.Real) or (isinstance(value, np.generic) and is_float(value.dtype)):
        return default_float()  # bfloat16 scalars (ml_dtypes) are not registered as numbers.Real
    raise TypeError(
        f"unsupported operand of type {type(value).__name__}; use a tensor or a number"
    )


def promoted_dtype(*operands):
    """The NumPy dtype of an op on ``operands`` (tensors, arrays and numbers), by PyTorch's
    three-tier rule (see the module docstring)."""
    dimensioned = zero_dim = numbers_ = None
    for operand in operands:
        if isinstance(operand, (Tensor, np.ndarray)):
            array = operand._data if isinstance(operand, Tensor) else operand
            if array.ndim:
                dimensioned = array.dtype if dimensioned is None else promote_numpy(
                    dimensioned, array.dtype)
            else:
                zero_dim = array.dtype if zero_dim is None else promote_numpy(zero_dim, array.dtype)
        elif operand is not None:
            dtype = _number_dtype(operand)
            numbers_ = dtype if numbers_ is None else promote_numpy(numbers_, dtype)
    return _combine_tiers(dimensioned, _combine_tiers(zero_dim, numbers_))


def result_type(tensor1, tensor2):
    """The dtype an op on two operands (tensors or numbers) gives, as ``torch.result_type``.

    >>> chainrule.result_type(chainrule.tensor([1, 2]), 1.0)
    chainrule.float32
    """
    return from_numpy_dtype(promoted_dtype(tensor1, tensor2))


def number_array(value, dtype):
    """A Python number as a 0-d array of ``dtype``; integers wrap around as in PyTorch
    (``uint8_tensor + 300`` adds 44) instead of NumPy 2's OverflowError."""
    if isinstance(value, Tensor):
        return value._data.astype(dtype, copy=False)
    if dtype.kind in "iu" and type(value) is not bool and isinstance(value, numbers.Integral):
        return np.asarray(int(value) % (1 << (8 * dtype.itemsize))).astype(dtype)
    return np.asarray(value, dtype=dtype)


def as_tensor_pair(a, b):
    """Both operands of a binary op as tensors; a Python number becomes a 0-d tensor of the
    dtype the pair promotes to, so the op itself only has to promote two tensors."""
    a_is, b_is = isinstance(a, Tensor), isinstance(b, Tensor)
    if a_is and b_is:
        return a, b
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a = a if a_is else wrap(np.asarray(a)) if isinstance(a, np.ndarray) else a
        b = b if b_is else wrap(np.asarray(b)) if isinstance(b, np.ndarray) else b
        return as_tensor_pair(a, b)
    if not (a_is or b_is):
        raise TypeError("expected at least one tensor operand")
    tensor, number = (a, b) if a_is else (b, a)
    dtype = tensor._data.dtype
    # the common case, a number of the tensor's category or lower, keeps the tensor's dtype
    # (float32 * 2 is float32); only a higher category needs the whole rule
    category = _NUMBER_CATEGORY.get(type(number))
    if category is None or category > _CATEGORY[_kind(dtype)]:
        dtype = promoted_dtype(a, b)
    if a_is:
        return a, wrap(number_array(b, dtype))
    return wrap(number_array(a, dtype)), b


def as_common_dtype(*tensors):
    """The arrays of ``tensors`` cast to the dtype their op promotes to (as a tuple)."""
    if all(t._data.dtype == tensors[0]._data.dtype for t in tensors):
        return tuple(t._data for t in tensors)
    dtype = promoted_dtype(*tensors)
    return tuple(t._data if t._data.dtype == dtype else t._data.astype(dtype) for t in tensors)


def as_tensor_arg(x):
    """A tensor argument; arrays and numbers are wrapped (float numbers as float32)."""
    if isinstance(x, Tensor):
        return x
    array = np.asarray(x)
    if array.dtype == np.float64 and not isinstance(x, np.ndarray):
        array = array.astype(default_float())
    return wrap(array)


_constants = {}


def constant(value, dtype):
    """``value`` as a read-only 0-d array of ``dtype``, made once per pair. NOTE: for a
    backward rule's fixed numbers (the 1 in tanh's 1 - y^2): NumPy 2 converts a Python number
    on every ufunc call, ~2k instructions (0.2 us); a 0-d array of the other operand's dtype
    gives the same bits without it."""
    key = (value, dtype)
    array = _constants.get(key)
    if array is None:
        array = np.array(value, dtype)
        array.flags.writeable = False
        _constants[key] = array
    return array


def float_array(array):
    """The array itself if floating, else cast to the default float dtype (``exp(int)``)."""
    if array.dtype.kind == "f":  # (is_float's common case, inline: every unary op asks)
        return array
    return array if is_float(array.dtype) else array.astype(default_float())


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
