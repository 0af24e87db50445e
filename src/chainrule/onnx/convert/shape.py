"""Reshaping, permuting, joining and splitting."""


import numpy as np

from . import call, op
from .common import INT64_MAX, INT64_MIN


def target_shape(g, step, sizes=None, x=None, position=0, index=0):
    """ONNX Reshape's shape for output ``index`` of ``step`` from input ``position``: per dim,
    the size the caller gave when it follows a dynamic axis (a SymInt), else the number when it
    is the same in both runs, else the size of the input dim that matches it in both runs, else
    -1 (once)."""
    x = x or g.x(step, position)
    in1, in2 = g.in_shape(step, position), step.twin.inputs[position].array.shape
    out1 = g.out_shape(step, index)
    out2 = tuple(np.shape(step.twin.outputs[index]._data))
    given = list(sizes) if sizes is not None and len(sizes) == len(out1) else [None] * len(out1)
    parts, inferred = [], 0
    for k, (a, b) in enumerate(zip(out1, out2)):
        matches = [j for j in range(len(in1)) if in1[j] == a and in2[j] == b]
        if given[k] is not None and g.is_dynamic(given[k]):
            parts.append(g.size(given[k]))
        elif a == b:
            parts.append(a)
        elif matches:
            j = k if k in matches else matches[0]
            parts.append(g.node("Shape", [x], start=j, end=j + 1))
        else:
            parts.append(-1)
            inferred += 1
    if inferred > 1:
        raise g.fail(step, f"the new shape {out1} depends on the dynamic sizes in a way ONNX's "
                           "Reshape cannot follow (more than one dim is computed); pass the "
                           "sizes as x.shape[i] / x.size(i)")
    if 0 in out1:
        raise g.fail(step, "reshaping to a size-0 dimension is not exported")
    if all(isinstance(part, int) for part in parts):
        return g.ints(parts)
    return g.node("Concat", [g.ints([p]) if isinstance(p, int) else p for p in parts], axis=0)


@op("Reshape", varying=("shape",))
def reshape(g, step):
    g.node("Reshape", [g.x(step), target_shape(g, step)], g.outs(step))


@call("reshape", "view", sizes=True, varying=("shape",))
def reshape_call(g, step):
    sizes = step.options["shape"]
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    g.node("Reshape", [g.x(step), target_shape(g, step, sizes)], g.outs(step))


@call("view_as", "reshape_as")
def reshape_as(g, step):
    g.node("Reshape", [g.arg(step, "input" if "input" in step.options else "self"),
                       g.node("Shape", [g.arg(step, "other")])], g.outs(step))


@op("Expand", varying=("shape",))
def expand(g, step):
    g.node("Expand", [g.x(step), _expand_shape(g, step)], g.outs(step))


@call("expand", sizes=True, varying=("sizes", "size"))
def expand_call(g, step):
    sizes = step.options.get("sizes", step.options.get("size"))
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    g.node("Expand", [g.x(step), _expand_shape(g, step, sizes)], g.outs(step))


def _expand_shape(g, step, sizes=None):
    """Expand's shape: 1 keeps the input's size (ONNX broadcasts), a SymInt following a dynamic
    axis is written from its record, other sizes must not change between the runs."""
    in1, in2 = g.in_shape(step), step.twin.inputs[0].array.shape
    out1, out2 = g.out_shape(step), np.shape(step.twin.outputs[0]._data)
    lead = len(out1) - len(in1)
    given = list(sizes) if sizes is not None and len(sizes) == len(out1) else [None] * len(out1)
    spec = []
    for k, (a, b) in enumerate(zip(out1, out2)):
        own = k >= lead and in1[k - lead] == a and in2[k - lead] == b
        if given[k] is not None and g.is_dynamic(given[k]):
            spec.append(given[k])
        elif a == b or own:
            spec.append(1 if own else a)
        else:
            raise g.fail(step, f"dim {k} is expanded to a size that follows a dynamic axis "
                               "but was not passed as x.shape[i] / x.size(i)")
    return g.shape(spec)


@call("expand_as")
def expand_as(g, step):
    g.node("Expand", [g.arg(step, "input"), g.node("Shape", [g.arg(step, "other")])],
           g.outs(step))


@op("SumToSize", varying=("shape",))
def sum_to_size(g, step):
    shape_in, shape_out = g.in_shape(step), g.out_shape(step)
    lead = len(shape_in) - len(shape_out)
    axes = list(range(lead)) + [lead + i for i, s in enumerate(shape_out)
                                if s == 1 and shape_in[lead + i] != 1]
    if not axes:
        g.node("Identity", [g.x(step)], g.outs(step))
        return
    summed = g.node("ReduceSum", [g.x(step), g.ints(axes)], keepdims=1)
    g.node("Reshape", [summed, target_shape(g, step)], g.outs(step))


@op("Permute")
def permute(g, step):
    g.node("Transpose", [g.x(step)], g.outs(step), perm=[int(d) for d in step.options["dims"]])


@op("Diagonal")
def diagonal(g, step):
    # the two planes' dims moved last and merged, then the diagonal's flat positions gathered
    offset, d1, d2 = (int(step.options[k]) for k in ("offset", "d1", "d2"))
    g.static_axes(step, 0, (d1, d2))
    shape = g.in_shape(step)
    rows, cols = shape[d1], shape[d2]
    kept = [axis for axis in range(len(shape)) if axis not in (d1, d2)]
    start_row, start_col = max(-offset, 0), max(offset, 0)
    length = max(min(rows - start_row, cols - start_col), 0)
    if length == 0:
        raise g.fail(step, "an empty diagonal (the offset is past the matrix) is not exported")
    moved = g.node("Transpose", [g.x(step)], perm=kept + [d1, d2])
    flat = g.node("Reshape", [moved, g.ints([0] * len(kept) + [rows * cols])])
    positions = start_row * cols + start_col + np.arange(length) * (cols + 1)
    g.node("Gather", [flat, g.ints(positions)], g.outs(step), axis=len(kept))


@op("Tril", "Triu")
def triangle(g, step):
    g.node("Trilu", [g.x(step), g.ints(int(step.options["diagonal"]))], g.outs(step),
           upper=int(step.op == "Triu"))


@op("Flip")
def flip(g, step):
    dims = [int(d) for d in step.options["dims"]]
    n = len(dims)
    g.node("Slice", [g.x(step), g.ints([-1] * n), g.ints([INT64_MIN] * n), g.ints(dims),
                     g.ints([-1] * n)], g.outs(step))


@op("Roll")
def roll(g, step):
    shifts, dims = step.options["shifts"], step.options["dims"]
    if dims is None:
        raise g.fail(step, "rolling the flattened tensor (dims=None) is not exported")
    x, shape = g.x(step), g.in_shape(step)
    for shift, dim in zip(shifts, dims):
        size = shape[dim]
        if step.twin.inputs[0].array.shape[dim] != size:
            raise g.fail(step, "rolling along a dynamic axis is not exported")
        cut = size - shift % size
        pieces = [g.node("Slice", [x, g.ints([lo]), g.ints([hi]), g.ints([dim])])
                  for lo, hi in ((cut, size), (0, cut))]
        x = g.node("Concat", pieces, axis=int(dim))
    g.node("Identity", [x], g.outs(step))


@op("Pad")
def pad(g, step):
    widths = step.options["widths"]
    pads = [int(b) for b, _ in widths] + [int(a) for _, a in widths]
    value = g.const(np.asarray(step.options["value"], dtype=g.in_dtype(step)))
    g.node("Pad", [g.x(step), g.ints(pads), value], g.outs(step), mode="constant")


@call("pad", sizes=True)
def pad_call(g, step):
    """F.pad: constant (negative widths crop), reflect and replicate (ONNX's reflect and edge),
    circular (the ends wrapped around, by slicing); widths may follow dynamic sizes."""
    x, ndim = g.x(step), len(g.in_shape(step))
    widths = list(step.options["pad"])
    per_dim = {ndim - 1 - i: (widths[2 * i], widths[2 * i + 1]) for i in range(len(widths) // 2)}
    mode, value = step.options.get("mode", "constant"), step.options.get("value")
    if mode == "circular":
        for dim, (before, after) in sorted(per_dim.items()):
            if min(before, after) < 0 or g.is_dynamic(before) or g.is_dynamic(after):
                raise g.fail(step, "circular padding with negative or dynamic widths is not "
                                   "exported")
            pieces = ([g.node("Slice", [x, g.ints([-before]), g.ints([INT64_MAX]),
                                        g.ints([dim])])] if before else []) + [x] + (
                [g.node("Slice", [x, g.ints([0]), g.ints([after]), g.ints([dim])])]
                if after else [])
            x = g.node("Concat", pieces, axis=dim)
        g.node("Identity", [x], g.outs(step))
        return
    begins = [per_dim.get(d, (0, 0))[0] for d in range(ndim)]
    ends = [per_dim.get(d, (0, 0))[1] for d in range(ndim)]
    if mode != "constant" and min(begins + ends) < 0:
        raise g.fail(step, f"{mode} padding with negative widths is not exported")
    inputs = [x, g.shape(begins + ends)]
    if mode == "constant":
        inputs.append(g.const(np.asarray(0 if value is None else value, g.in_dtype(step))))
    g.node("Pad", inputs, g.outs(step), mode={"replicate": "edge"}.get(mode, mode))


@op("Cat")
def cat(g, step):
    names = [g.x(step, i) for i, v in enumerate(step.inputs)
             if v is not None and v.array.shape != (0,)]
    g.node("Concat", names, g.outs(step), axis=int(step.options["dim"]))


@op("Split")
def split(g, step):
    g.node("Split", [g.x(step), g.ints(list(step.options["sizes"]))], g.outs(step),
           axis=int(step.options["dim"]))


@op("Unbind")
def unbind(g, step):
    dim, outs = int(step.options["dim"]), g.outs(step)
    pieces = g.node("Split", [g.x(step), g.ints([1] * len(outs))], count=len(outs), axis=dim)
    for piece, out in zip([pieces] if len(outs) == 1 else pieces, outs):
        g.node("Squeeze", [piece, g.ints([dim])], [out])


