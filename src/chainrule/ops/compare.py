"""Comparisons, logic and tests for special values: elementwise results that carry no
gradient (bool and integer tensors). Rounding, which PyTorch differentiates (to zeros), is
``rounding.py``."""

import numpy as np

from ..tensor import Tensor
from ._operands import as_common_dtype, as_tensor_pair, wrap
from .elementwise import _array, _broadcast_error
from .registry import register


def _compare(ufunc, input, other):
    """``ufunc`` on the operands (a bool or integer tensor, never differentiable), compared in
    the promoted dtype, as PyTorch does: float32 x == float64 0-d y compares two float32
    values (NumPy would compare in float64)."""
    if isinstance(input, Tensor) and type(other) in (float, int) and (
            input._data.dtype.kind == "f" or (input._data.dtype == np.int64
                                               and type(other) is int)):
        # NumPy 2 compares a float tensor with a number, or an int64 one with an int, in
        # the tensor's dtype, as PyTorch does: the common `x > 0` needs no promotion (the
        # general path below also wraps ints around as PyTorch does for small int dtypes)
        return wrap(ufunc(input._data, other))
    a, b = as_tensor_pair(input, other)
    x, y = as_common_dtype(a, b)
    try:
        return wrap(ufunc(x, y))
    except ValueError:
        raise _broadcast_error(ufunc.__name__, a, b) from None
    except TypeError:
        raise RuntimeError(
            f"{ufunc.__name__} is not defined for {a.dtype} and {b.dtype} tensors; "
            "convert them first (bitwise ops need integer or bool tensors)"
        ) from None


def eq(input, other):
    return _compare(np.equal, input, other)


def ne(input, other):
    return _compare(np.not_equal, input, other)


def lt(input, other):
    return _compare(np.less, input, other)


def le(input, other):
    return _compare(np.less_equal, input, other)


def gt(input, other):
    return _compare(np.greater, input, other)


def ge(input, other):
    return _compare(np.greater_equal, input, other)


def logical_and(input, other):
    return _compare(np.logical_and, input, other)


def logical_or(input, other):
    return _compare(np.logical_or, input, other)


def logical_xor(input, other):
    return _compare(np.logical_xor, input, other)


def bitwise_and(input, other):
    return _compare(np.bitwise_and, input, other)


def bitwise_or(input, other):
    return _compare(np.bitwise_or, input, other)


def bitwise_xor(input, other):
    return _compare(np.bitwise_xor, input, other)


def logical_not(input):
    return wrap(np.logical_not(input._data))


def bitwise_not(input):
    """``~x``: logical not for bool tensors, bitwise not for integers."""
    if input._data.dtype == np.bool_:
        return wrap(np.logical_not(input._data))
    return wrap(np.invert(input._data))


def isnan(input):
    return wrap(np.isnan(input._data))


def isinf(input):
    return wrap(np.isinf(input._data))


def isfinite(input):
    return wrap(np.isfinite(input._data))


def equal(input, other):
    return input.shape == other.shape and bool(np.array_equal(input._data, other._data))


def allclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False):
    return bool(np.allclose(input._data, _array(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False):
    return wrap(np.isclose(input._data, _array(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


# -- registration: chainrule.X and Tensor.X ----------------------------------------------------
register(eq, operators=("__eq__",))
register(ne, aliases=("not_equal",), operators=("__ne__",))
register(lt, aliases=("less",), operators=("__lt__",))
register(le, aliases=("less_equal",), operators=("__le__",))
register(gt, aliases=("greater",), operators=("__gt__",))
register(ge, aliases=("greater_equal",), operators=("__ge__",))
register(bitwise_and, operators=("__and__",))
register(bitwise_or, operators=("__or__",))
register(bitwise_xor, operators=("__xor__",))
register(bitwise_not, operators=("__invert__",))
register(logical_and)
register(logical_or)
register(logical_xor)
register(logical_not)
register(isnan)
register(isinf)
register(isfinite)
register(equal)
register(allclose)
register(isclose)
