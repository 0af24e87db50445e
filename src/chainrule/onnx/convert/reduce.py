"""Reductions, norms, arg-extremes, sorting, cumulative sums and linear algebra."""

import numpy as np

from ...ops._operands import normalize_dim
from . import call, op
from .common import cast, onnx_type, out_dtype, reduce, scalar


def _axes(step, ndim):
    axes = step.options.get("axes")
    return list(range(ndim)) if axes is None else [int(a) for a in axes]


def _dims(step, ndim):
    """A call's ``dim`` argument (None, an int or a sequence) as a list of axes."""
    dim = step.options.get("dim")
    if dim is None:
        return list(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else [dim]
    return [normalize_dim(d, max(ndim, 1), step.op) for d in dims]


def _count(g, step, x, axes):
    """How many elements ``axes`` of input 0 hold, as a 0-d ONNX tensor of its dtype (read from
    the shape when one of those axes is dynamic)."""
    shape, twin = g.in_shape(step), step.twin.inputs[0].array.shape
    dtype = g.in_dtype(step)
    if all(shape[a] == twin[a] for a in axes):
        return scalar(g, step, int(np.prod([shape[a] for a in axes])))
    sizes = g.node("Gather", [g.node("Shape", [x]), g.ints(axes)], axis=0)
    total = reduce(g, "ReduceProd", sizes, None, False)
    return g.node("Cast", [total], to=onnx_type(g, dtype))


_REDUCTIONS = {"Sum": "ReduceSum", "Amax": "ReduceMax", "Amin": "ReduceMin",
               "Prod": "ReduceProd"}


@op(*_REDUCTIONS)
def reduction(g, step):
    x = cast(g, g.x(step), g.in_dtype(step), out_dtype(step))
    reduce(g, _REDUCTIONS[step.op], x, _axes(step, len(g.in_shape(step))),
           step.options["keepdim"], g.outs(step))


@call("mean")
def mean(g, step):
    x = cast(g, g.x(step), g.in_dtype(step), out_dtype(step))
    reduce(g, "ReduceMean", x, _dims(step, len(g.in_shape(step))),
           step.options.get("keepdim", False), g.outs(step))


@call("all", "any")
def all_any(g, step):
    x = cast(g, g.x(step), g.in_dtype(step), bool)
    as_int = g.node("Cast", [x], to=onnx_type(g, np.int32))
    axes = _dims(step, len(g.in_shape(step)))
    found = reduce(g, "ReduceMin" if step.op == "all" else "ReduceMax", as_int, axes,
                   step.options.get("keepdim", False))
    g.node("Cast", [found], g.outs(step), to=onnx_type(g, bool))


@call("count_nonzero")
def count_nonzero(g, step):
    x = g.x(step)
    nonzero = g.node("Not", [g.node("Equal", [x, scalar(g, step, 0)])])
    counted = g.node("Cast", [nonzero], to=onnx_type(g, np.int64))
    reduce(g, "ReduceSum", counted, _dims(step, len(g.in_shape(step))), False, g.outs(step))


@op("Var", "Std")
def variance(g, step):
    x = g.x(step)
    axes = _axes(step, len(g.in_shape(step)))
    mean = reduce(g, "ReduceMean", x, axes, True)
    centred = g.node("Sub", [x, mean])
    total = reduce(g, "ReduceSum", g.node("Mul", [centred, centred]), axes,
                   step.options["keepdim"])
    divisor = g.node("Max", [g.node("Sub", [_count(g, step, x, axes),
                                            scalar(g, step, step.options["correction"])]),
                             scalar(g, step, 0)])
    var = g.node("Div", [total, divisor])
    g.node("Sqrt" if step.op == "Std" else "Identity", [var], g.outs(step))


@op("Max", "Min")
def extreme_along_dim(g, step):
    x, dim, keep = g.x(step), int(step.options["dim"]), step.options["keepdim"]
    values, indices = g.outs(step)[:2]
    reduce(g, "ReduceMax" if step.op == "Max" else "ReduceMin", x, [dim], keep, [values])
    g.node("ArgMax" if step.op == "Max" else "ArgMin", [x], [indices], axis=dim,
           keepdims=int(bool(keep)), select_last_index=0)


@call("argmax", "argmin")
def arg_extreme(g, step):
    x, dim = g.x(step), step.options.get("dim")
    keep = int(bool(step.options.get("keepdim", False)))
    op_type = "ArgMax" if step.op == "argmax" else "ArgMin"
    if dim is None:
        flat = g.node("Reshape", [x, g.ints([-1])])
        found = g.node(op_type, [flat], axis=0, keepdims=0)
        shape = g.ints([1] * len(g.in_shape(step)) if keep else [])
        g.node("Reshape", [found, shape], g.outs(step))
        return
    g.node(op_type, [x], g.outs(step), axis=normalize_dim(dim, len(g.in_shape(step)), "arg"),
           keepdims=keep)


@op("Norm")
def norm(g, step):
    p, x = step.options["p"], g.x(step)
    axes, keep = _axes(step, len(g.in_shape(step))), step.options["keepdim"]
    if p in (1, 2):
        reduce(g, "ReduceL1" if p == 1 else "ReduceL2", x, axes, keep, g.outs(step))
    elif p in (np.inf, -np.inf):
        reduce(g, "ReduceMax" if p > 0 else "ReduceMin", g.node("Abs", [x]), axes, keep,
               g.outs(step))
    elif p == 0:
        nonzero = g.node("Cast", [g.node("Not", [g.node("Equal", [x, scalar(g, step, 0)])])],
                         to=onnx_type(g, g.in_dtype(step)))
        reduce(g, "ReduceSum", nonzero, axes, keep, g.outs(step))
    else:
        powered = g.node("Pow", [g.node("Abs", [x]), scalar(g, step, p)])
        total = reduce(g, "ReduceSum", powered, axes, keep)
        g.node("Pow", [total, scalar(g, step, 1.0 / p)], g.outs(step))


@op("Cumsum")
def cumsum(g, step):
    g.node("CumSum", [g.x(step), g.ints(int(step.options["dim"]))], g.outs(step),
           reverse=int(bool(step.options.get("reverse", False))))


# -- sorting -----------------------------------------------------------------------------------
def _top(g, step, x, dim, k, largest):
    """ONNX TopK: (values, int64 indices) along ``dim``."""
    return g.node("TopK", [x, g.node("Reshape", [k, g.ints([1])])], count=2, axis=dim,
                  largest=int(bool(largest)), sorted=1)


def _whole_dim(g, x, dim):
    return g.node("Shape", [x], start=dim, end=dim + 1)


@call("sort", "argsort")
def sort(g, step):
    x, ndim = g.x(step), len(g.in_shape(step))
    if ndim == 0:
        raise g.fail(step, "sorting a 0-d tensor is not exported")
    dim = normalize_dim(step.options.get("dim", -1), ndim, step.op)
    values, indices = _top(g, step, x, dim, _whole_dim(g, x, dim),
                           step.options.get("descending", False))
    outs = g.outs(step)
    if step.op == "argsort":
        g.node("Identity", [indices], outs)
    else:
        g.node("Identity", [values], [outs[0]])
        g.node("Identity", [indices], [outs[1]])


@call("topk", sizes=True)
def topk(g, step):
    x, ndim = g.x(step), len(g.in_shape(step))
    dim = normalize_dim(step.options.get("dim", -1), ndim, "topk")
    values, indices = _top(g, step, x, dim, g.size(step.options["k"]),
                           step.options.get("largest", True))
    outs = g.outs(step)
    g.node("Identity", [values], [outs[0]])
    g.node("Identity", [indices], [outs[1]])


# -- linear algebra ----------------------------------------------------------------------------
@op("MatMul")
def matmul(g, step):
    g.node("MatMul", [g.x(step, 0), g.x(step, 1)], g.outs(step))


@op("Einsum")
def einsum(g, step):
    g.node("Einsum", [g.x(step, i) for i in range(len(step.args))], g.outs(step),
           equation=step.options["equation"])


@op("Linear")
def linear(g, step):
    weight_t = g.node("Transpose", [g.x(step, 1)], perm=[1, 0])
    if len(step.args) > 2 and step.inputs[2] is not None:
        product = g.node("MatMul", [g.x(step, 0), weight_t])
        g.node("Add", [product, g.x(step, 2)], g.outs(step))
    else:
        g.node("MatMul", [g.x(step, 0), weight_t], g.outs(step))
