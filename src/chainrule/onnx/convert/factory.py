"""Tensor factories (``zeros``, ``ones``, ``full``, ``arange``, ``*_like``): written as ONNX
when their sizes follow a dynamic axis (``arange(x.shape[1])``, ``zeros_like(x)``); with fixed
sizes they are constants and are folded."""

import numpy as np

from . import call
from .common import onnx_type, out_dtype


def _sizes(options):
    """The sizes of ``zeros(*sizes, size=None)``: given positionally or as ``size=``."""
    size = options["size"] if options.get("size") is not None else options["sizes"]
    if isinstance(size, (tuple, list)) and len(size) == 1 and isinstance(size[0], (tuple, list)):
        return size[0]
    return size if isinstance(size, (tuple, list)) else (size,)


def _filled(g, step, shape, value):
    dtype = out_dtype(step)
    fill = g.onnx.numpy_helper.from_array(np.asarray([value], dtype=dtype), g.fresh("fill"))
    g.node("ConstantOfShape", [shape], g.outs(step), value=fill)


@call("zeros", "ones", "empty", sizes=True)
def filled(g, step):
    _filled(g, step, g.shape(_sizes(step.options)), 1 if step.op == "ones" else 0)


@call("full", sizes=True)
def full(g, step):
    size = step.options["size"]
    sizes = size if isinstance(size, (tuple, list)) else (size,)
    _filled(g, step, g.shape(sizes), step.options["fill_value"])


@call("zeros_like", "ones_like", "empty_like", "full_like")
def like(g, step):
    value = {"zeros_like": 0, "empty_like": 0, "ones_like": 1}.get(step.op)
    _filled(g, step, g.node("Shape", [g.arg(step, "input")]),
            step.options["fill_value"] if value is None else value)


@call("arange", sizes=True)
def arange(g, step):
    start, end, stride = (step.options[k] for k in ("start", "end", "step"))
    if end is None:
        start, end = 0, start
    dtype = out_dtype(step)
    bounds = []
    for value in (start, end, stride):
        if g.is_dynamic(value):
            bounds.append(g.node("Cast", [g.scalar_size(value)], to=onnx_type(g, dtype)))
        else:
            bounds.append(g.const(np.asarray(value, dtype=dtype)))
    g.node("Range", bounds, g.outs(step))
