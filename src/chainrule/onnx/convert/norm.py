"""Normalisation layers."""


import numpy as np

from . import call, op
from .common import bias, reduce, scalar


@op("LayerNorm")
def layer_norm(g, step):
    shape = tuple(step.options["normalized_shape"])
    x = g.x(step)
    dtype = g.in_dtype(step)
    weight = g.x(step, 1) if step.inputs[1] is not None else g.const(np.ones(shape, dtype))
    inputs = [x, weight] + bias(g, step)
    g.node("LayerNormalization", inputs, g.outs(step), axis=-len(shape),
           epsilon=float(step.options["eps"]))


@op("RmsNorm")
def rms_norm(g, step):
    shape = tuple(step.options["normalized_shape"])
    x = g.x(step)
    axes = list(range(-len(shape), 0))
    mean_square = reduce(g, "ReduceMean", g.node("Mul", [x, x]), axes, True)
    eps = step.options["eps"]
    eps = float(np.finfo(g.in_dtype(step)).eps) if eps is None else eps
    rms = g.node("Sqrt", [g.node("Add", [mean_square, scalar(g, step, eps)])])
    y = g.node("Div", [x, rms])
    if step.inputs[1] is not None:
        y = g.node("Mul", [y, g.x(step, 1)])
    g.node("Identity", [y], g.outs(step))


@op("GroupNorm")
def group_norm(g, step):
    x, shape = g.x(step), g.in_shape(step)
    groups = int(step.options["num_groups"])
    grouped = g.node("Reshape", [x, g.ints([0, groups, -1])])
    mean = reduce(g, "ReduceMean", grouped, [2], True)
    centred = g.node("Sub", [grouped, mean])
    var = reduce(g, "ReduceMean", g.node("Mul", [centred, centred]), [2], True)
    std = g.node("Sqrt", [g.node("Add", [var, scalar(g, step, step.options["eps"])])])
    normal = g.node("Reshape", [g.node("Div", [centred, std]), g.node("Shape", [x])])
    affine = [1, shape[1]] + [1] * (len(shape) - 2)
    if step.inputs[1] is not None:
        normal = g.node("Mul", [normal, g.node("Reshape", [g.x(step, 1), g.ints(affine)])])
    if len(step.inputs) > 2 and step.inputs[2] is not None:
        normal = g.node("Add", [normal, g.node("Reshape", [g.x(step, 2), g.ints(affine)])])
    g.node("Identity", [normal], g.outs(step))


@op("BatchNorm")
def batch_norm(g, step):
    options = step.options
    if options["training"] or options["running_mean"] is None:
        raise g.fail(step, "batch statistics are used (training mode or no running "
                           "statistics); export a model in eval mode with running statistics")
    channels = g.in_shape(step)[1]
    dtype = g.in_dtype(step)
    weight = g.x(step, 1) if step.inputs[1] is not None else g.const(np.ones(channels, dtype))
    bias = g.x(step, 2) if step.inputs[2] is not None else g.const(np.zeros(channels, dtype))
    stats = [g.name_of(g.values[id(options[k])], step, k) if id(options[k]) in g.values
             else g.const(np.asarray(options[k]._data)) for k in ("running_mean", "running_var")]
    g.node("BatchNormalization", [g.x(step), weight, bias] + stats, g.outs(step),
           epsilon=float(options["eps"]))


@op("Normalize")
def normalize(g, step):
    p, dim = step.options["p"], int(step.options["dim"])
    if p not in (1, 2, 1.0, 2.0):
        raise g.fail(step, f"only p=1 and p=2 are exported, not p={p}")
    x = g.x(step)
    size = reduce(g, "ReduceL1" if p == 1 else "ReduceL2", x, [dim], True)
    floor = g.node("Max", [size, scalar(g, step, step.options["eps"])])
    g.node("Div", [x, floor], g.outs(step))




@call("instance_norm")
def instance_norm(g, step):
    """Per sample and channel over the spatial dims (ONNX InstanceNormalization), or with the
    running statistics when the layer tracks them and is in eval mode."""
    options = step.options
    channels, dtype = g.in_shape(step)[1], g.in_dtype(step)

    def given(name, fill):
        if options.get(name) is None:
            return g.const(np.full(channels, fill, dtype))
        return g.arg(step, name)

    x, scale, shift = g.arg(step, "input"), given("weight", 1.0), given("bias", 0.0)
    eps = float(options.get("eps", 1e-5))
    if options.get("use_input_stats", True):
        g.node("InstanceNormalization", [x, scale, shift], g.outs(step), epsilon=eps)
    else:
        g.node("BatchNormalization", [x, scale, shift, g.arg(step, "running_mean"),
                                      g.arg(step, "running_var")], g.outs(step), epsilon=eps)
