"""Indexing (``x[key]`` with ints, slices, None, ellipsis, index tensors and masks), gathering,
embedding lookups, one-hot and nonzero."""

import numpy as np

from ...tensor import Tensor
from . import call, op
from .common import INT64_MAX, cast, onnx_type, out_dtype, reduce


# -- x[key] ------------------------------------------------------------------------------------
def _items(key, ndim):
    """The key as a list with the ellipsis spelled out as full slices."""
    items = list(key) if isinstance(key, tuple) else [key]
    used = sum(_dims_used(item) for item in items)
    if not any(item is Ellipsis for item in items):
        items.append(Ellipsis)
    position = next(i for i, item in enumerate(items) if item is Ellipsis)
    return items[:position] + [slice(None)] * (ndim - used) + items[position + 1:]


def _dims_used(item):
    if item is None or item is Ellipsis or isinstance(item, bool):
        return 0
    if isinstance(item, Tensor) and item._data.dtype == np.bool_:
        return item._data.ndim
    if isinstance(item, np.ndarray) and item.dtype == np.bool_:
        return item.ndim
    return 1


def _index_array(g, step, item):
    """An index tensor, list or array of the key as an ONNX int64 tensor."""
    if isinstance(item, Tensor):
        name = g.name_of(g.tensor_value(step, item), step)
        return name if item._data.dtype == np.int64 else g.node("Cast", [name],
                                                                to=onnx_type(g, np.int64))
    return g.ints(np.asarray(item, dtype=np.int64))


def index_key(g, step, x, items, rank):
    """The nodes of ``x[items]`` for ``x`` of ``rank`` dims (PyTorch's rules: ints select
    first, then index tensors apply to what is left, NumPy-style)."""
    axis, advanced = 0, []
    for item in items:
        is_array = isinstance(item, (Tensor, np.ndarray, list, tuple, range))
        if is_array and np.asarray(item._data if isinstance(item, Tensor)
                                   else item).dtype == np.bool_:
            mask = (g.name_of(g.tensor_value(step, item), step) if isinstance(item, Tensor)
                    else g.const(np.asarray(item)))
            positions = g.node("NonZero", [mask])  # (mask dims, count)
            rank = np.ndim(item._data if isinstance(item, Tensor) else item)
            for k in range(rank):
                advanced.append((axis + k, g.node("Gather", [positions, g.ints(k)], axis=0), 1))
            axis += rank
        elif is_array and np.ndim(item._data if isinstance(item, Tensor) else item) == 0:
            x = g.node("Gather", [x, _index_array(g, step, item)], axis=axis)
            rank -= 1
        elif is_array:
            width = np.ndim(item._data if isinstance(item, Tensor) else item)
            advanced.append((axis, _index_array(g, step, item), width))
            axis += 1
        elif item is None or item is True:
            x = g.node("Unsqueeze", [x, g.ints([axis])])
            axis += 1
            rank += 1
        elif item is False:
            raise g.fail(step, "indexing with False (an empty selection) is not exported")
        elif isinstance(item, slice):
            if item.step is not None and int(item.step) <= 0:
                raise g.fail(step, "slices with a step below 1 are not exported")
            if item != slice(None):
                bounds = [g.size(0 if item.start is None else item.start),
                          g.size(INT64_MAX if item.stop is None else item.stop),
                          g.ints([axis]), g.size(1 if item.step is None else item.step)]
                x = g.node("Slice", [x] + bounds)
            axis += 1
        else:  # an int selects: the dim goes away
            x = g.node("Gather", [x, g.node("Squeeze", [g.size(item), g.ints([0])])],
                       axis=axis)
            rank -= 1
    return _advanced(g, x, rank, advanced)


def _advanced(g, x, rank, advanced):
    """Index tensors at several axes: one Gather for one of them, else they broadcast together
    and GatherND picks along those axes moved to the front."""
    if not advanced:
        return x
    if len(advanced) == 1:
        axis, index, _ = advanced[0]
        return g.node("Gather", [x, index], axis=axis)
    axes = [axis for axis, _, _ in advanced]
    total = advanced[0][1]
    for _, index, _ in advanced[1:]:
        total = g.node("Add", [total, index])
    shape = g.node("Shape", [total])  # the index tensors broadcast together
    stacked = g.node("Concat", [g.node("Unsqueeze", [g.node("Expand", [index, shape]),
                                                     g.ints([-1])])
                                for _, index, _ in advanced], axis=-1)
    rest = [a for a in range(rank) if a not in axes]
    moved = g.node("Transpose", [x], perm=axes + rest)
    picked = g.node("GatherND", [moved, stacked])  # broadcast dims, then the rest
    if axes != list(range(axes[0], axes[0] + len(axes))) or axes[0] == 0:
        return picked  # NumPy: separated index tensors put their dims first
    width = max(w for _, _, w in advanced)
    order = list(range(width, width + axes[0])) + list(range(width)) + list(
        range(width + axes[0], width + len(rest)))
    return g.node("Transpose", [picked], perm=order)


@call("__getitem__", sizes=True)
def getitem(g, step):
    x = step.options["self"]
    g.node("Identity", [index_key(g, step, g.arg(step, "self"), _items(step.options["key"],
                                                                        x._data.ndim),
                                  x._data.ndim)], g.outs(step))


@op("Index", sizes=True)
def index(g, step):
    basic, advanced = step.options["key"]
    if advanced is not None:
        raise g.fail(step, "indexing with index tensors is exported when written as x[key]")
    ndim = len(g.in_shape(step))
    g.node("Identity", [index_key(g, step, g.x(step), _items(basic, ndim), ndim)],
           g.outs(step))


@call("index_select")
def index_select(g, step):
    x, dim = step.options["input"], int(step.options["dim"])
    index = g.node("Reshape", [_index_array(g, step, step.options["index"]), g.ints([-1])])
    if x._data.ndim == 0:
        picked = g.node("Gather", [g.node("Reshape", [g.arg(step, "input"), g.ints([1])]),
                                   index], axis=0)
        g.node("Reshape", [picked, g.ints([])], g.outs(step))
        return
    g.node("Gather", [g.arg(step, "input"), index], g.outs(step), axis=dim % x._data.ndim)


@op("Gather")
def gather(g, step):
    g.node("GatherElements", [g.x(step, 0), g.x(step, 1)], g.outs(step),
           axis=int(step.options["dim"]))


@op("Scatter", "ScatterAdd")
def scatter(g, step):
    """ONNX ScatterElements (summing for scatter_add); PyTorch reads ``src`` only where the
    index reaches, so the updates are ``src`` cut to the index's shape."""
    index, rank = g.x(step, 1), len(g.in_shape(step))
    updates = g.node("Slice", [g.x(step, 2), g.ints([0] * rank), g.node("Shape", [index]),
                               g.ints(list(range(rank)))])
    updates = cast(g, updates, g.in_dtype(step, 2), out_dtype(step))
    g.node("ScatterElements", [g.x(step), index, updates], g.outs(step),
           axis=int(step.options["dim"]), reduction="add" if step.op == "ScatterAdd" else None)


@call("index_add")
def index_add(g, step):
    """``input`` with ``alpha * source`` added at ``index`` along ``dim``: ScatterElements
    summing, its index spread over the source's shape."""
    options = step.options
    ndim = options["input"]._data.ndim
    dim = options["dim"] % ndim
    dtype = options["input"]._data.dtype
    source = cast(g, g.arg(step, "source"), options["source"]._data.dtype, dtype)
    if options.get("alpha", 1) != 1:
        source = g.node("Mul", [source, g.const(np.asarray(options["alpha"], dtype))])
    index = g.node("Reshape", [_index_array(g, step, options["index"]),
                               g.ints([1] * dim + [-1] + [1] * (ndim - dim - 1))])
    index = g.node("Expand", [index, g.node("Shape", [source])])
    g.node("ScatterElements", [g.arg(step, "input"), index, source], g.outs(step), axis=dim,
           reduction="add")


@call("embedding")
def embedding(g, step):
    if step.options.get("max_norm") is not None:
        raise g.fail(step, "max_norm renormalises the table while looking up; not exported")
    g.node("Gather", [g.arg(step, "weight"), _index_array(g, step, step.options["input"])],
           g.outs(step), axis=0)


@call("one_hot")
def one_hot(g, step):
    indices = _index_array(g, step, step.options["tensor"])
    classes = step.options.get("num_classes", -1)
    if classes == -1:  # the largest index + 1, as PyTorch computes it
        depth = g.node("Add", [reduce(g, "ReduceMax", indices, None, False), g.ints(1)])
    else:
        depth = g.ints(int(classes))
    g.node("OneHot", [indices, depth, g.ints([0, 1])], g.outs(step), axis=-1)


@call("nonzero", "argwhere")
def nonzero(g, step):
    x = step.options["input"]
    positions = g.node("NonZero", [g.arg(step, "input")])
    outs = g.outs(step)
    if not step.options.get("as_tuple", False):
        g.node("Transpose", [positions], outs, perm=[1, 0])
        return
    for k, out in enumerate(outs[:max(x._data.ndim, 1)]):
        g.node("Gather", [positions, g.ints(k)], [out], axis=0)


@call("masked_select")
def masked_select(g, step):
    x, mask = g.arg(step, "input"), g.arg(step, "mask")
    values = g.node("Where", [mask, x, x])  # x broadcast with the mask
    spread = g.node("Expand", [mask, g.node("Shape", [values])])
    positions = g.node("Transpose", [g.node("NonZero", [spread])], perm=[1, 0])
    g.node("GatherND", [values, positions], g.outs(step))


@call("take_along_dim")
def take_along_dim(g, step):
    """GatherElements after broadcasting input and indices against each other outside
    ``dim`` (the larger of two sizes is the broadcast one)."""
    x, index = g.arg(step, "input"), _index_array(g, step, step.options["indices"])
    dim = step.options.get("dim")
    if dim is None:
        flat = [g.node("Reshape", [name, g.ints([-1])]) for name in (x, index)]
        g.node("GatherElements", flat, g.outs(step), axis=0)
        return
    ndim = step.options["input"]._data.ndim
    dim %= ndim
    shapes = [g.node("Shape", [name]) for name in (x, index)]
    common = g.node("Max", shapes)

    def spread(name, shape):
        parts = [g.node("Slice", [common, g.ints([0]), g.ints([dim])]),
                 g.node("Slice", [shape, g.ints([dim]), g.ints([dim + 1])]),
                 g.node("Slice", [common, g.ints([dim + 1]), g.ints([ndim])])]
        return g.node("Expand", [name, g.node("Concat", parts, axis=0)])

    g.node("GatherElements", [spread(x, shapes[0]), spread(index, shapes[1])], g.outs(step),
           axis=dim)


@call("embedding_bag")
def embedding_bag(g, step):
    """Bags as the rows of a 2-D input, or as the slices of a 1-D input that start at
    ``offsets`` (the text-classification tutorials' form): the looked-up rows summed, averaged
    or maxed per bag, leaving out ``padding_idx`` (an empty bag gives zeros)."""
    options = step.options
    if options.get("max_norm") is not None:
        raise g.fail(step, "max_norm renormalises the table while looking up; not exported")
    indices = _index_array(g, step, options["input"])
    dtype = options["weight"]._data.dtype
    rows = g.node("Gather", [g.arg(step, "weight"), indices], axis=0)  # (..., dim)
    if options.get("per_sample_weights") is not None:
        rows = g.node("Mul", [rows, g.node("Unsqueeze", [g.arg(step, "per_sample_weights"),
                                                         g.ints([-1])])])
    keep = None
    if options.get("padding_idx") is not None:
        padding = options["padding_idx"] % options["weight"]._data.shape[0]
        keep = g.node("Not", [g.node("Equal", [indices, g.ints(padding)])])
    if options["input"]._data.ndim == 1:
        # (bags, n) membership of each index in each bag; rows broadcast to (1, n, dim)
        member = _bag_membership(g, step, indices)
        keep = member if keep is None else g.node("And", [member, keep])
        rows = g.node("Unsqueeze", [rows, g.ints([0])])
    elif keep is None:
        keep = g.node("Equal", [indices, indices])  # (bags, length): every index counts
    _reduce_bags(g, step, rows, g.node("Unsqueeze", [keep, g.ints([-1])]), dtype)


def _bag_membership(g, step, indices):
    """(bags, n) booleans: index i is in bag b when offsets[b] <= i < offsets[b + 1] (the
    last bag runs to the end, or to the last offset with ``include_last_offset``)."""
    offsets = _index_array(g, step, step.options["offsets"])
    count = g.node("Shape", [indices])
    following = g.node("Slice", [offsets, g.ints([1]), g.ints([INT64_MAX])])
    if step.options.get("include_last_offset", False):
        starts = g.node("Slice", [offsets, g.ints([0]), g.ints([-1])])
        ends = following
    else:
        starts = offsets
        ends = g.node("Concat", [following, count], axis=0)
    position = g.node("Unsqueeze", [g.node("Range", [g.ints(0), g.node("Squeeze", [count]),
                                                     g.ints(1)]), g.ints([0])])
    after_start = g.node("Not", [g.node("Less", [position, g.node("Unsqueeze", [
        starts, g.ints([1])])])])
    before_end = g.node("Less", [position, g.node("Unsqueeze", [ends, g.ints([1])])])
    return g.node("And", [after_start, before_end])


def _reduce_bags(g, step, rows, keep, dtype):
    """Sum, mean or max of ``rows`` (bags, length, dim) over the length where ``keep``
    (bags, length, 1) holds."""
    mode = step.options.get("mode", "mean")
    if mode == "max":
        rows = g.node("Where", [keep, rows, g.const(np.asarray(-np.inf, dtype))])
        found = reduce(g, "ReduceMax", rows, [1], False)
        empty = g.node("IsInf", [found], detect_positive=0)
        g.node("Where", [empty, g.const(np.asarray(0, dtype)), found], g.outs(step))
        return
    weights = g.node("Cast", [keep], to=onnx_type(g, dtype))
    total = reduce(g, "ReduceSum", g.node("Mul", [rows, weights]), [1], False)
    if mode == "sum":
        g.node("Identity", [total], g.outs(step))
        return
    count = reduce(g, "ReduceSum", weights, [1], False)
    g.node("Div", [total, g.node("Max", [count, g.const(np.asarray(1, dtype))])], g.outs(step))
