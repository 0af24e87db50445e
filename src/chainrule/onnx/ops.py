"""ONNX for each chainrule op: one converter per ``Function`` class (or leaf layer), reading the
op's tensors and keyword options from the trace and writing the ONNX nodes that compute the
same outputs (opset 17). ``CONVERTERS`` maps the class name to its converter; an op without one
cannot be exported, and the error names it and its layer."""

import math

import numpy as np

CONVERTERS = {}
INT64_MAX, INT64_MIN = 2**63 - 1, -(2**63)


def converts(*names):
    def register(function):
        for name in names:
            CONVERTERS[name] = function
        return function
    return register


def _same_dtype(g, step, position):
    """Input ``position`` cast to the output's dtype when they differ (PyTorch's promotion
    already happened; ONNX wants equal operand types)."""
    name = g.x(step, position)
    want = step.outputs[0]._data.dtype
    if g.in_dtype(step, position) != want and want != np.bool_:
        return g.node("Cast", [name], to=_onnx_type(g, want))
    return name


def _onnx_type(g, dtype):
    return g.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


# -- elementwise -----------------------------------------------------------------------------
_BINARY = {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Pow": "Pow",
           "Maximum": "Max", "Minimum": "Min"}
_UNARY = {"Neg": "Neg", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Abs": "Abs",
          "Sign": "Sign", "Sin": "Sin", "Cos": "Cos", "Tanh": "Tanh", "Sigmoid": "Sigmoid",
          "Relu": "Relu", "Clone": "Identity", "Asin": "Asin", "Acos": "Acos", "Atan": "Atan",
          "Sinh": "Sinh", "Cosh": "Cosh", "Tan": "Tan", "Asinh": "Asinh", "Acosh": "Acosh",
          "Atanh": "Atanh", "Erf": "Erf", "Det": "Det"}


@converts(*_BINARY)
def binary(g, step):
    a, b = _same_dtype(g, step, 0), _same_dtype(g, step, 1)
    if step.op == "Pow" and g.in_dtype(step, 1) != step.outputs[0]._data.dtype:
        b = g.x(step, 1)
    g.node(_BINARY[step.op], [a, b], g.outs(step))


@converts(*_UNARY)
def unary(g, step):
    g.node(_UNARY[step.op], [g.x(step)], g.outs(step))


@converts("_Alias", "_BackwardHookIdentity")
def identities(g, step):
    for position, out in enumerate(g.outs(step)):
        g.node("Identity", [g.x(step, position)], [out])


@converts("Rsqrt")
def rsqrt(g, step):
    g.node("Reciprocal", [g.node("Sqrt", [g.x(step)])], g.outs(step))


@converts("Expm1")
def expm1(g, step):
    g.node("Sub", [g.node("Exp", [g.x(step)]), _scalar(g, step, 1.0)], g.outs(step))


@converts("Log1p")
def log1p(g, step):
    g.node("Log", [g.node("Add", [g.x(step), _scalar(g, step, 1.0)])], g.outs(step))


def _scalar(g, step, value, position=0):
    return g.const(np.asarray(value, dtype=g.in_dtype(step, position)))


@converts("Where")
def where(g, step):
    g.node("Where", [g.x(step, 0), _same_dtype(g, step, 1), _same_dtype(g, step, 2)],
           g.outs(step))


@converts("Clamp")
def clamp(g, step):
    low, high = step.options.get("min"), step.options.get("max")
    inputs = [g.x(step), "" if low is None else _scalar(g, step, low),
              "" if high is None else _scalar(g, step, high)]
    g.node("Clip", inputs, g.outs(step))


@converts("Cast")
def cast(g, step):
    g.node("Cast", [g.x(step)], g.outs(step), to=_onnx_type(g, step.outputs[0]._data.dtype))


# -- activations -----------------------------------------------------------------------------
def _normal_cdf(g, step, x):
    scaled = g.node("Div", [x, _scalar(g, step, math.sqrt(2.0))])
    erf = g.node("Erf", [scaled])
    return g.node("Mul", [g.node("Add", [erf, _scalar(g, step, 1.0)]), _scalar(g, step, 0.5)])


@converts("Ndtr")
def ndtr(g, step):
    g.node("Identity", [_normal_cdf(g, step, g.x(step))], g.outs(step))


@converts("Gelu")
def gelu(g, step):
    x = g.x(step)
    if step.options.get("approximate", "none") == "tanh":
        cube = g.node("Mul", [g.node("Mul", [x, x]), x])
        inner = g.node("Add", [x, g.node("Mul", [cube, _scalar(g, step, 0.044715)])])
        inner = g.node("Mul", [inner, _scalar(g, step, math.sqrt(2.0 / math.pi))])
        half = g.node("Mul", [g.node("Add", [g.node("Tanh", [inner]), _scalar(g, step, 1.0)]),
                              _scalar(g, step, 0.5)])
        g.node("Mul", [x, half], g.outs(step))
        return
    g.node("Mul", [x, _normal_cdf(g, step, x)], g.outs(step))


@converts("Silu")
def silu(g, step):
    x = g.x(step)
    g.node("Mul", [x, g.node("Sigmoid", [x])], g.outs(step))


@converts("Elu")
def elu(g, step):
    g.node("Elu", [g.x(step)], g.outs(step), alpha=float(step.options.get("alpha", 1.0)))


@converts("LeakyRelu")
def leaky_relu(g, step):
    g.node("LeakyRelu", [g.x(step)], g.outs(step),
           alpha=float(step.options.get("negative_slope", 0.01)))


@converts("Softplus")
def softplus(g, step):
    x = g.x(step)
    beta, threshold = step.options.get("beta", 1.0), step.options.get("threshold", 20.0)
    scaled = g.node("Mul", [x, _scalar(g, step, beta)])
    soft = g.node("Div", [g.node("Softplus", [scaled]), _scalar(g, step, beta)])
    linear = g.node("Greater", [scaled, _scalar(g, step, threshold)])
    g.node("Where", [linear, x, soft], g.outs(step))


@converts("LogSigmoid")
def log_sigmoid(g, step):
    # min(x, 0) - log(1 + exp(-|x|)), as the op computes it: no overflow in either tail
    x = g.x(step)
    tail = g.node("Log", [g.node("Add", [g.node("Exp", [g.node("Neg", [g.node("Abs", [x])])]),
                                         _scalar(g, step, 1.0)])])
    g.node("Sub", [g.node("Min", [x, _scalar(g, step, 0.0)]), tail], g.outs(step))


@converts("Softmax", "LogSoftmax")
def softmax(g, step):
    g.node(step.op, [g.x(step)], g.outs(step), axis=int(step.options["dim"]))


@converts("Logsumexp")
def logsumexp(g, step):
    g.node("ReduceLogSumExp", [g.x(step), g.ints(step.options["axes"])], g.outs(step),
           keepdims=int(bool(step.options["keepdim"])))


# -- reductions ------------------------------------------------------------------------------
def _axes(step, ndim):
    axes = step.options.get("axes")
    return list(range(ndim)) if axes is None else [int(a) for a in axes]


@converts("Sum", "Amax", "Amin", "Prod")
def reduce(g, step):
    op = {"Sum": "ReduceSum", "Amax": "ReduceMax", "Amin": "ReduceMin",
          "Prod": "ReduceProd"}[step.op]
    x = g.x(step)
    if step.outputs[0]._data.dtype != g.in_dtype(step):
        x = g.node("Cast", [x], to=_onnx_type(g, step.outputs[0]._data.dtype))
    axes = _axes(step, len(g.in_shape(step)))
    if op == "ReduceSum":
        g.node(op, [x, g.ints(axes)], g.outs(step), keepdims=int(bool(step.options["keepdim"])))
    else:  # opset 17 takes these reductions' axes as an attribute
        g.node(op, [x], g.outs(step), axes=axes, keepdims=int(bool(step.options["keepdim"])))


@converts("Var", "Std")
def variance(g, step):
    x = g.x(step)
    shape = g.in_shape(step)
    axes = _axes(step, len(shape))
    count = int(np.prod([shape[a] for a in axes]))
    mean = g.node("ReduceMean", [x], axes=axes, keepdims=1)
    centred = g.node("Sub", [x, mean])
    total = g.node("ReduceSum", [g.node("Mul", [centred, centred]), g.ints(axes)],
                   keepdims=int(bool(step.options["keepdim"])))
    divisor = max(count - step.options["correction"], 0)
    var = g.node("Div", [total, _scalar(g, step, divisor)])
    g.node("Sqrt" if step.op == "Std" else "Identity", [var], g.outs(step))


@converts("Max", "Min")
def extreme_along_dim(g, step):
    x, dim, keep = g.x(step), int(step.options["dim"]), int(bool(step.options["keepdim"]))
    values, indices = g.outs(step)[:2]
    g.node("ReduceMax" if step.op == "Max" else "ReduceMin", [x], [values], axes=[dim],
           keepdims=keep)
    g.node("ArgMax" if step.op == "Max" else "ArgMin", [x], [indices], axis=dim, keepdims=keep,
           select_last_index=0)


@converts("Norm")
def norm(g, step):
    p = step.options["p"]
    if p not in (1, 2, 1.0, 2.0):
        raise g.fail(step, f"only p=1 and p=2 norms are exported, not p={p}")
    g.node("ReduceL1" if p == 1 else "ReduceL2", [g.x(step)], g.outs(step),
           axes=_axes(step, len(g.in_shape(step))), keepdims=int(bool(step.options["keepdim"])))


@converts("Cumsum")
def cumsum(g, step):
    g.node("CumSum", [g.x(step), g.ints(int(step.options["dim"]))], g.outs(step),
           reverse=int(bool(step.options.get("reverse", False))))


# -- linear algebra --------------------------------------------------------------------------
@converts("MatMul")
def matmul(g, step):
    g.node("MatMul", [g.x(step, 0), g.x(step, 1)], g.outs(step))


@converts("Einsum")
def einsum(g, step):
    g.node("Einsum", [g.x(step, i) for i in range(len(step.args))], g.outs(step),
           equation=step.options["equation"])


@converts("Linear")
def linear(g, step):
    weight_t = g.node("Transpose", [g.x(step, 1)], perm=[1, 0])
    if len(step.args) > 2 and step.inputs[2] is not None:
        product = g.node("MatMul", [g.x(step, 0), weight_t])
        g.node("Add", [product, g.x(step, 2)], g.outs(step))
    else:
        g.node("MatMul", [g.x(step, 0), weight_t], g.outs(step))


# -- shapes ----------------------------------------------------------------------------------
def _shape_spec(g, step, out_index=0, in_position=0):
    """ONNX Reshape's shape for this step's output: fixed sizes, 0 where a dynamic size is
    copied from the same input dim, one -1 for the dynamic size left over."""
    in1, in2 = g.in_shape(step, in_position), step.twin.inputs[in_position].array.shape
    out1 = g.out_shape(step, out_index)
    out2 = tuple(np.shape(step.twin.outputs[out_index]._data))
    spec, inferred = [], 0
    for k, (a, b) in enumerate(zip(out1, out2)):
        if a == b:
            spec.append(a)
        elif k < len(in1) and in1[k] == a and in2[k] == b:
            spec.append(0)
        else:
            spec.append(-1)
            inferred += 1
    if inferred > 1:
        raise g.fail(step, f"the new shape {out1} depends on the dynamic sizes in a way ONNX's "
                           "Reshape cannot follow (more than one dim is computed)")
    if 0 in out1:
        raise g.fail(step, "reshaping to a size-0 dimension is not exported")
    return spec


@converts("Reshape")
def reshape(g, step):
    g.node("Reshape", [g.x(step), g.ints(_shape_spec(g, step))], g.outs(step))


@converts("Expand")
def expand(g, step):
    out1, out2 = g.out_shape(step), np.shape(step.twin.outputs[0]._data)
    spec = [a if a == b else 1 for a, b in zip(out1, out2)]  # Expand broadcasts the rest
    g.node("Expand", [g.x(step), g.ints(spec)], g.outs(step))


@converts("SumToSize")
def sum_to_size(g, step):
    shape_in, shape_out = g.in_shape(step), g.out_shape(step)
    lead = len(shape_in) - len(shape_out)
    axes = list(range(lead)) + [lead + i for i, s in enumerate(shape_out)
                                if s == 1 and shape_in[lead + i] != 1]
    if not axes:
        g.node("Identity", [g.x(step)], g.outs(step))
        return
    summed = g.node("ReduceSum", [g.x(step), g.ints(axes)], keepdims=1)
    g.node("Reshape", [summed, g.ints(_shape_spec(g, step))], g.outs(step))


@converts("Permute")
def permute(g, step):
    g.node("Transpose", [g.x(step)], g.outs(step), perm=[int(d) for d in step.options["dims"]])


@converts("Tril", "Triu")
def triangle(g, step):
    g.node("Trilu", [g.x(step), g.ints(int(step.options["diagonal"]))], g.outs(step),
           upper=int(step.op == "Triu"))


@converts("Flip")
def flip(g, step):
    dims = [int(d) for d in step.options["dims"]]
    n = len(dims)
    g.node("Slice", [g.x(step), g.ints([-1] * n), g.ints([INT64_MIN] * n), g.ints(dims),
                     g.ints([-1] * n)], g.outs(step))


@converts("Roll")
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


@converts("Pad")
def pad(g, step):
    widths = step.options["widths"]
    pads = [int(b) for b, _ in widths] + [int(a) for _, a in widths]
    value = g.const(np.asarray(step.options["value"], dtype=g.in_dtype(step)))
    g.node("Pad", [g.x(step), g.ints(pads), value], g.outs(step), mode="constant")


@converts("Cat")
def cat(g, step):
    names = [g.x(step, i) for i, v in enumerate(step.inputs)
             if v is not None and v.array.shape != (0,)]
    g.node("Concat", names, g.outs(step), axis=int(step.options["dim"]))


@converts("Split")
def split(g, step):
    g.node("Split", [g.x(step), g.ints(list(step.options["sizes"]))], g.outs(step),
           axis=int(step.options["dim"]))


@converts("Unbind")
def unbind(g, step):
    dim, outs = int(step.options["dim"]), g.outs(step)
    pieces = g.node("Split", [g.x(step), g.ints([1] * len(outs))], count=len(outs), axis=dim)
    for piece, out in zip([pieces] if len(outs) == 1 else pieces, outs):
        g.node("Squeeze", [piece, g.ints([dim])], [out])


@converts("Index")
def index(g, step):
    basic, advanced = step.options["key"]
    if advanced is not None:
        raise g.fail(step, "indexing with index tensors or masks is exported only for "
                           "nn.Embedding lookups; use torch.gather or nn.Embedding")
    shape = g.in_shape(step)
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    axis = out_axis = 0
    for item in basic:
        if item is Ellipsis:
            out_axis += len(shape) - axis
            axis = len(shape)
        elif item is None:
            unsqueeze.append(out_axis)
            out_axis += 1
        elif isinstance(item, slice):
            if item != slice(None):
                stride = 1 if item.step is None else item.step
                low, high = (0, INT64_MAX) if stride > 0 else (INT64_MAX, INT64_MIN)
                starts.append(low if item.start is None else item.start)
                ends.append(high if item.stop is None else item.stop)
                axes.append(axis)
                steps.append(stride)
            axis += 1
            out_axis += 1
        else:  # an int: a one-wide slice, then squeezed away
            i = int(item)
            starts.append(i)
            ends.append(i + 1 if i != -1 else INT64_MAX)
            axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
            axis += 1
    x = g.x(step)
    if axes:
        x = g.node("Slice", [x, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps)])
    if squeeze:
        x = g.node("Squeeze", [x, g.ints(squeeze)])
    if unsqueeze:
        x = g.node("Unsqueeze", [x, g.ints(unsqueeze)])
    g.node("Identity", [x], g.outs(step))


@converts("Gather")
def gather(g, step):
    g.node("GatherElements", [g.x(step, 0), g.x(step, 1)], g.outs(step),
           axis=int(step.options["dim"]))


# -- convolution and pooling -----------------------------------------------------------------
def _conv_attrs(step):
    options = step.options
    padding = options["padding"]
    pads = [int(lo) for lo, _ in padding] + [int(hi) for _, hi in padding]
    return dict(strides=[int(s) for s in options["stride"]], pads=pads,
                dilations=[int(d) for d in options["dilation"]], group=int(options["groups"]))


def _bias(g, step, position=2):
    return [g.x(step, position)] if len(step.inputs) > position and step.inputs[position] \
        is not None else []


@converts("Conv")
def conv(g, step):
    g.node("Conv", [g.x(step, 0), g.x(step, 1)] + _bias(g, step), g.outs(step),
           **_conv_attrs(step))


@converts("ConvTranspose")
def conv_transpose(g, step):
    attrs = _conv_attrs(step)
    kernel = g.in_shape(step, 1)[2:]
    spatial_in, spatial_out = g.in_shape(step)[2:], g.out_shape(step)[2:]
    natural = [(n - 1) * s + d * (k - 1) + 1 - lo - hi for n, s, d, k, lo, hi in zip(
        spatial_in, attrs["strides"], attrs["dilations"], kernel,
        attrs["pads"][:len(kernel)], attrs["pads"][len(kernel):])]
    attrs["output_padding"] = [o - n for o, n in zip(spatial_out, natural)]
    g.node("ConvTranspose", [g.x(step, 0), g.x(step, 1)] + _bias(g, step), g.outs(step),
           **attrs)


@converts("AvgPool")
def avg_pool(g, step):
    geometry, scale = step.options["geometry"], step.options["scale"]
    pads = [lo for lo, _ in geometry.padding] + [hi for _, hi in geometry.padding]
    mean = g.node("AveragePool", [g.x(step)], kernel_shape=list(geometry.kernel),
                  strides=list(geometry.stride), pads=pads, count_include_pad=1)
    factor = np.asarray(scale, dtype=g.in_dtype(step)) * np.prod(geometry.kernel)
    g.node("Mul", [mean, g.const(factor.astype(g.in_dtype(step)))], g.outs(step))


@converts("AdaptiveAvgPool")
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


@converts("MaxPool1d", "MaxPool2d", "MaxPool3d")
def max_pool_layer(g, step):
    module = step.options["module"]
    nd = int(step.op[-2])
    if module.return_indices:
        raise g.fail(step, "return_indices=True is not exported")
    kernel = _tuple(module.kernel_size, nd)
    stride = _tuple(module.stride if module.stride not in (None, []) else kernel, nd)
    padding = _tuple(module.padding, nd)
    x, added = g.x(step), len(g.in_shape(step)) == nd + 1
    if added:
        x = g.node("Unsqueeze", [x, g.ints([0])])
    pooled = g.node("MaxPool", [x], kernel_shape=kernel, strides=stride,
                    pads=padding + padding, dilations=_tuple(module.dilation, nd),
                    ceil_mode=int(bool(module.ceil_mode)))
    g.node("Squeeze" if added else "Identity", [pooled] + ([g.ints([0])] if added else []),
           g.outs(step))


def _tuple(value, n):
    return [int(v) for v in value] if isinstance(value, (tuple, list)) else [int(value)] * n


@converts("Embedding")
def embedding(g, step):
    module = step.options["module"]
    if module.max_norm is not None:
        raise g.fail(step, "max_norm renormalises the table while looking up; not exported")
    g.node("Gather", [g.name_of(g.values[id(module.weight)], step, "weight"), g.x(step)],
           g.outs(step), axis=0)


# -- normalisation ---------------------------------------------------------------------------
@converts("LayerNorm")
def layer_norm(g, step):
    shape = tuple(step.options["normalized_shape"])
    x = g.x(step)
    dtype = g.in_dtype(step)
    weight = g.x(step, 1) if step.inputs[1] is not None else g.const(np.ones(shape, dtype))
    inputs = [x, weight] + _bias(g, step)
    g.node("LayerNormalization", inputs, g.outs(step), axis=-len(shape),
           epsilon=float(step.options["eps"]))


@converts("RmsNorm")
def rms_norm(g, step):
    shape = tuple(step.options["normalized_shape"])
    x = g.x(step)
    axes = list(range(-len(shape), 0))
    mean_square = g.node("ReduceMean", [g.node("Mul", [x, x])], axes=axes, keepdims=1)
    eps = step.options["eps"]
    eps = float(np.finfo(g.in_dtype(step)).eps) if eps is None else eps
    rms = g.node("Sqrt", [g.node("Add", [mean_square, _scalar(g, step, eps)])])
    y = g.node("Div", [x, rms])
    if step.inputs[1] is not None:
        y = g.node("Mul", [y, g.x(step, 1)])
    g.node("Identity", [y], g.outs(step))


@converts("GroupNorm")
def group_norm(g, step):
    x, shape = g.x(step), g.in_shape(step)
    groups = int(step.options["num_groups"])
    grouped = g.node("Reshape", [x, g.ints([0, groups, -1])])
    mean = g.node("ReduceMean", [grouped], axes=[2], keepdims=1)
    centred = g.node("Sub", [grouped, mean])
    var = g.node("ReduceMean", [g.node("Mul", [centred, centred])], axes=[2], keepdims=1)
    std = g.node("Sqrt", [g.node("Add", [var, _scalar(g, step, step.options["eps"])])])
    normal = g.node("Reshape", [g.node("Div", [centred, std]), g.node("Shape", [x])])
    affine = [1, shape[1]] + [1] * (len(shape) - 2)
    if step.inputs[1] is not None:
        normal = g.node("Mul", [normal, g.node("Reshape", [g.x(step, 1), g.ints(affine)])])
    if len(step.inputs) > 2 and step.inputs[2] is not None:
        normal = g.node("Add", [normal, g.node("Reshape", [g.x(step, 2), g.ints(affine)])])
    g.node("Identity", [normal], g.outs(step))


@converts("BatchNorm")
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


@converts("Normalize")
def normalize(g, step):
    p, dim = step.options["p"], int(step.options["dim"])
    if p not in (1, 2, 1.0, 2.0):
        raise g.fail(step, f"only p=1 and p=2 are exported, not p={p}")
    x = g.x(step)
    size = g.node("ReduceL1" if p == 1 else "ReduceL2", [x], axes=[dim], keepdims=1)
    floor = g.node("Max", [size, _scalar(g, step, step.options["eps"])])
    g.node("Div", [x, floor], g.outs(step))


# -- attention and recurrent layers ----------------------------------------------------------
@converts("ScaledDotProductAttention")
def attention(g, step):
    options = step.options
    if options["keep"] is not None:
        raise g.fail(step, "attention dropout is active; export in eval mode")
    q, k, v = g.x(step, 0), g.x(step, 1), g.x(step, 2)
    rank = len(g.in_shape(step, 1))
    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    scores = g.node("MatMul", [q, g.node("Transpose", [k], perm=perm)])
    scores = g.node("Mul", [scores, _scalar(g, step, options["scale"])])
    if options["mask"] is not None:
        mask = np.asarray(options["mask"])
        twin = np.asarray(step.twin.options["mask"])
        if mask.shape != twin.shape or not np.array_equal(mask, twin):
            raise g.fail(step, "the attention mask depends on the input's values or sizes "
                               "(e.g. a key padding mask); only fixed masks are exported")
        scores = g.node("Add", [scores, g.const(mask.astype(g.in_dtype(step)))])
    outs = g.outs(step)
    probs = g.node("Softmax", [scores], [outs[1]] if options["need_weights"] else None, axis=-1)
    g.node("MatMul", [probs, v], [outs[0]])


_GATE_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2]}  # PyTorch's gate blocks in ONNX order


def _onnx_gates(array, mode, hidden):
    order = _GATE_ORDER.get(mode)
    if order is None:
        return array
    blocks = [array[i * hidden:(i + 1) * hidden] for i in range(len(order))]
    return np.concatenate([blocks[i] for i in order])


@converts("Recurrent")
def recurrent(g, step):
    options = step.options
    mode, layers = options["mode"], int(options["num_layers"])
    directions = 2 if options["bidirectional"] else 1
    weights = [v.array for v in step.inputs[3:]]
    per = len(weights) // (layers * directions)
    hidden = weights[1].shape[1]
    op = {"LSTM": "LSTM", "GRU": "GRU"}.get(mode, "RNN")
    x = g.x(step)
    finals_h, finals_c = [], []
    outs = g.outs(step)
    for layer in range(layers):
        w, r, b = [], [], []
        for d in range(directions):
            chunk = weights[(layer * directions + d) * per:][:per]
            w.append(_onnx_gates(chunk[0], mode, hidden))
            r.append(_onnx_gates(chunk[1], mode, hidden))
            if per == 4:
                b.append(np.concatenate([_onnx_gates(chunk[2], mode, hidden),
                                         _onnx_gates(chunk[3], mode, hidden)]))
        inputs = [x, g.const(np.stack(w)), g.const(np.stack(r)),
                  g.const(np.stack(b)) if b else ""]
        inputs += ["", _initial_state(g, step, 1, layer, directions)]
        if op == "LSTM":
            inputs.append(_initial_state(g, step, 2, layer, directions))
        attrs = dict(hidden_size=hidden, direction="bidirectional" if directions == 2
                     else "forward")
        if op == "GRU":
            attrs["linear_before_reset"] = 1
        if op == "RNN":
            attrs["activations"] = ["Tanh" if mode == "RNN_TANH" else "Relu"] * directions
        results = g.node(op, _trim(inputs), count=3 if op == "LSTM" else 2, **attrs)
        y, y_h = results[0], results[1]
        finals_h.append(y_h)
        if op == "LSTM":
            finals_c.append(results[2])
        # (T, D, N, H) -> (T, N, D * H): the next layer's input and the op's output
        x = g.node("Reshape", [g.node("Transpose", [y], perm=[0, 2, 1, 3]),
                               g.ints([0, 0, -1])])
    g.node("Identity", [x], [outs[0]])
    g.node("Concat", finals_h, [outs[1]], axis=0)
    if op == "LSTM" and len(outs) > 2:
        g.node("Concat", finals_c, [outs[2]], axis=0)


def _initial_state(g, step, position, layer, directions):
    value = step.inputs[position]
    if value is None or (not value.dependent and not np.any(value.array)):
        return ""  # zeros: ONNX's default, and free of the batch size
    state = g.x(step, position)
    return g.node("Slice", [state, g.ints([layer * directions]),
                            g.ints([(layer + 1) * directions]), g.ints([0])])


def _trim(inputs):
    while inputs and inputs[-1] == "":
        inputs.pop()
    return inputs
