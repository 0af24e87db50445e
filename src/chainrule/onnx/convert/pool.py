"""Pooling."""


import numpy as np

from . import call, op
from .common import ints_of, reduce


@op("AvgPool")
def avg_pool(g, step):
    geometry, scale = step.options["geometry"], step.options["scale"]
    pads = [lo for lo, _ in geometry.padding] + [hi for _, hi in geometry.padding]
    mean = g.node("AveragePool", [g.x(step)], kernel_shape=list(geometry.kernel),
                  strides=list(geometry.stride), pads=pads, count_include_pad=1)
    factor = np.asarray(scale, dtype=g.in_dtype(step)) * np.prod(geometry.kernel)
    g.node("Mul", [mean, g.const(factor.astype(g.in_dtype(step)))], g.outs(step))


@op("AdaptiveAvgPool")
def adaptive_avg_pool(g, step):
    x, rank = g.x(step), len(g.in_shape(step))
    matrices = step.options["matrices"]
    first = rank - len(matrices)
    for axis, matrix in enumerate(matrices, start=first):
        order = [a for a in range(rank) if a != axis] + [axis]
        inverse = list(np.argsort(order))
        moved = g.node("Transpose", [x], perm=order)
        product = g.node("MatMul", [moved, g.const(np.ascontiguousarray(matrix.T))])
        x = g.node("Transpose", [product], perm=[int(i) for i in inverse])
    g.node("Identity", [x], g.outs(step))


def _batched(g, step, nd):
    """The input as a batch (unbatched inputs get a batch dim of 1) and whether one was added."""
    x = g.arg(step, "input")
    if step.options["input"]._data.ndim == nd + 1:
        return g.node("Unsqueeze", [x, g.ints([0])]), True
    return x, False


def _unbatched(g, name, added, out):
    if added:
        return g.node("Squeeze", [name, g.ints([0])], [out])
    return g.node("Identity", [name], [out])


_MAX_POOLS = {f"max_pool{n}d{tail}": n for n in (1, 2, 3) for tail in ("", "_with_indices")}


@call(*_MAX_POOLS, sizes=True)
def max_pool(g, step):
    """F.max_pool*d: ONNX MaxPool; its indices count over the whole tensor, PyTorch's within
    each sample's and channel's plane, hence the remainder by the plane's size. A kernel as
    long as a dynamic dim (``F.max_pool1d(h, h.size(2))``, pooling over time) is a ReduceMax."""
    nd, options = _MAX_POOLS[step.op], step.options
    x, added = _batched(g, step, nd)
    kernel, stride, whole = _kernel_and_stride(g, step, nd)
    padding = ints_of(options.get("padding", 0), nd)
    outs = g.outs(step)
    indices = step.op.endswith("_with_indices") or options.get("return_indices")
    if whole:
        if indices or any(padding) or ints_of(options.get("dilation", 1), nd) != [1] * nd:
            raise g.fail(step, "a kernel that follows a dynamic dim is exported only without "
                               "padding, dilation and indices")
        x = reduce(g, "ReduceMax", x, [2 + k for k in whole], True)
    pooled = g.node("MaxPool", [x], count=2 if indices else 1, kernel_shape=kernel,
                    strides=stride, pads=padding + padding,
                    dilations=ints_of(options.get("dilation", 1), nd),
                    ceil_mode=int(bool(options.get("ceil_mode", False))))
    if not indices:
        _unbatched(g, pooled, added, outs[0])
        return
    values, flat = pooled
    plane = reduce(g, "ReduceProd", g.node("Shape", [x], start=2), None, False)
    _unbatched(g, values, added, outs[0])
    _unbatched(g, g.node("Mod", [flat, plane], fmod=0), added, outs[1])


def _kernel_and_stride(g, step, nd):
    """Kernel and stride as numbers; the dims whose kernel follows a dynamic size and spans the
    whole dim in both runs (pooled by a reduction instead: kernel and stride 1 there)."""
    sizes = []
    for s in (step, step.twin):
        kernel = s.options["kernel_size"]
        kernel = list(kernel) if isinstance(kernel, (tuple, list)) else [kernel] * nd
        stride = s.options.get("stride")
        stride = kernel if stride is None or stride == [] else (
            list(stride) if isinstance(stride, (tuple, list)) else [stride] * nd)
        sizes.append((kernel, stride, np.shape(s.options["input"]._data)[-nd:]))
    (kernel, stride, spatial), (kernel2, stride2, spatial2) = sizes
    whole = [k for k in range(nd) if g.is_dynamic(kernel[k])]
    for k in whole:
        if not (kernel[k] == stride[k] == spatial[k] and kernel2[k] == stride2[k] == spatial2[k]):
            raise g.fail(step, f"its kernel size follows a dynamic dim but does not span the "
                               f"whole of dim {k + 2}")
    for k in range(nd):
        if k not in whole and (kernel[k] != kernel2[k] or stride[k] != stride2[k]):
            raise g.fail(step, "its kernel size or stride changes with the dynamic axes")
    kernel = [1 if k in whole else int(v) for k, v in enumerate(kernel)]
    stride = [1 if k in whole else int(v) for k, v in enumerate(stride)]
    return kernel, stride, whole


_ADAPTIVE_MAX = {f"adaptive_max_pool{n}d{tail}": n for n in (1, 2, 3)
                 for tail in ("", "_with_indices")}


@call(*_ADAPTIVE_MAX)
def adaptive_max_pool(g, step):
    """Each output cell is the max over [floor(i n / o), ceil((i + 1) n / o)) along every
    spatial dim; a max over a box is the max along one dim after the other, so each dim is
    pooled on its own: one MaxPool when the windows tile the dim evenly, else a ReduceMax per
    window."""
    nd = _ADAPTIVE_MAX[step.op]
    if step.op.endswith("_with_indices") or step.options.get("return_indices"):
        values = g.output_values(step)
        if len(values) > 1 and values[1] is not None and values[1].dependent:
            raise g.fail(step, "the indices of adaptive max pooling are not exported")
    x, added = _batched(g, step, nd)
    rank, ndim = nd + 2, len(g.in_shape(step))
    spatial = g.in_shape(step)[-nd:]
    g.static_axes(step, 0, range(ndim - nd, ndim))
    sizes = step.options["output_size"]
    sizes = (sizes,) * nd if isinstance(sizes, (int, type(None))) else sizes
    for k, (n, o) in enumerate(zip(spatial, sizes)):
        o = n if o is None else int(o)
        axis = rank - nd + k
        if n % o == 0:
            window = [1] * nd
            window[k] = n // o
            x = g.node("MaxPool", [x], kernel_shape=window, strides=window)
            continue
        pieces = []
        for i in range(o):
            start, end = (i * n) // o, -(-((i + 1) * n) // o)
            piece = g.node("Slice", [x, g.ints([start]), g.ints([end]), g.ints([axis])])
            pieces.append(reduce(g, "ReduceMax", piece, [axis], True))
        x = g.node("Concat", pieces, axis=axis)
    _unbatched(g, x, added, g.outs(step)[0])
