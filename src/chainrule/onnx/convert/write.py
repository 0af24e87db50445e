"""Writes in place (trace.py's ``write:`` steps): each makes the written tensor's next
version, as a new ONNX value computed from the old one."""

import numpy as np

from ...tensor import Tensor
from . import call
from .common import cast, operand, out_dtype, reduce
from .index import _items, index_key


@call("write:result")
def result(g, step):
    """An op's out-of-place result written over the tensor (``x.relu_()``, ``x.masked_fill_``,
    ``nn.ReLU(inplace=True)``), in the tensor's dtype."""
    g.node("Identity", [cast(g, g.x(step), g.in_dtype(step), out_dtype(step))], g.outs(step))


_UFUNCS = {"add": "Add", "subtract": "Sub", "multiply": "Mul", "divide": "Div",
           "true_divide": "Div"}


@call("write:ufunc")
def ufunc(g, step):
    """``x += y`` and the like, written by a NumPy ufunc: computed in the promoted dtype and
    cast back, as the ufunc does."""
    options, dtype = step.options, out_dtype(step)
    other = options["other"]
    common = np.result_type(dtype, other._data.dtype) if isinstance(other, Tensor) else dtype
    old = cast(g, g.arg(step, "tensor"), dtype, common)
    computed = g.node(_UFUNCS[options["ufunc"].__name__], [old, operand(g, step, other, common)])
    g.node("Identity", [cast(g, computed, common, dtype)], g.outs(step))


@call("write:fill")
def fill(g, step):
    _spread(g, step, step.options["value"])


@call("write:copy")
def copy(g, step):
    _spread(g, step, step.options["src"])


def _spread(g, step, value):
    """``value`` (a number or a tensor) broadcast over the whole tensor, in its dtype."""
    shape = g.node("Shape", [g.arg(step, "self")])
    g.node("Expand", [operand(g, step, value, out_dtype(step)), shape], g.outs(step))


@call("write:setitem", sizes=True)
def setitem(g, step):
    """``x[key] = value``, with every key ``x[key]`` reads: the key picks, from a tensor that
    holds each element's flat position, the positions it selects; ScatterElements writes the
    value (broadcast to the selection) there."""
    options = step.options
    target, dtype = options["self"], out_dtype(step)
    old = g.arg(step, "self")
    shape = g.node("Shape", [old])
    count = reduce(g, "ReduceProd", shape, None, False)
    positions = g.node("Reshape", [g.node("Range", [g.ints(0), count, g.ints(1)]), shape])
    ndim = target._data.ndim
    selected = index_key(g, step, positions, _items(options["key"], ndim), ndim)
    value = g.node("Expand", [operand(g, step, options["value"], dtype),
                              g.node("Shape", [selected])])
    flat = [g.node("Reshape", [name, g.ints([-1])]) for name in (old, selected, value)]
    written = g.node("ScatterElements", flat, axis=0)
    g.node("Reshape", [written, shape], g.outs(step))

