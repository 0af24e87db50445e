"""Rounding: floor, ceil, round and trunc, piecewise constant.

Their gradient is zero almost everywhere, and PyTorch records them with a backward that
returns zeros (``FloorBackward0`` and its kin) rather than cutting the graph: a loss built only
from rounded values can still call ``backward()``, and the input's ``.grad`` is zeros, not None.
So they are differentiable ops here too. Integer tensors come back unchanged (a copy), as in
PyTorch; bool tensors are refused, as PyTorch refuses them.
"""

import numpy as np

from ..autograd.function import Function
from ..creation import zeros_like
from ._operands import wrap
from .registry import register


class Rounding(Function):
    """y = rounder(x);  dx = 0 (zeros, whatever the incoming gradient holds, as PyTorch's
    ``zeros_like(grad)``: an inf or NaN gradient does not pass through a rounding)."""

    _array_forward = True

    @staticmethod
    def forward(ctx, x, *, mode, decimals):
        data = x._data
        if decimals is not None:
            return wrap(np.round(data, decimals))
        return wrap(_ROUNDERS[mode](data))

    @staticmethod
    def backward(ctx, grad_out):
        return zeros_like(grad_out)


_ROUNDERS = {"floor": np.floor, "ceil": np.ceil, "round": np.round, "trunc": np.trunc}


def _rounded(name, input, decimals=None):
    kind = input._data.dtype.kind
    if kind == "b":
        raise RuntimeError(
            f"{name}() is not defined for bool tensors (as in PyTorch); convert first: "
            f"x.float() or x.long()"
        )
    if kind in "iu":
        return wrap(input._data.copy())  # already whole numbers
    return Rounding.apply(input, mode=name, decimals=decimals)


def floor(input):
    return _rounded("floor", input)


def ceil(input):
    return _rounded("ceil", input)


def round(input, *, decimals=0):
    """Halves to the even neighbour, as PyTorch and NumPy do; ``decimals`` places kept."""
    return _rounded("round", input, decimals or None)


def trunc(input):
    return _rounded("trunc", input)


register(floor, Rounding)
register(ceil, Rounding)
register(round, Rounding, special=True)
register(trunc, Rounding)
