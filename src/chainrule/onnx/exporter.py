"""``export``: a model's forward pass as an ONNX file, by tracing it twice (see graph.py)."""

import inspect

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor
from .convert import CALLS, REFUSED, converter_for
from .errors import UnsupportedOperatorError
from .graph import Graph
from .trace import Trace, flat_tensors, watched_calls

# The calls recorded as one step: those with a converter, and those refused by name.
WHOLE = frozenset(CALLS) | frozenset(REFUSED)
MIN_OPSET = 17  # LayerNormalization; everything else the converters write is older
IR_VERSION = 8  # the oldest that holds opset 17, so that older runtimes read the file


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("ONNX export needs the onnx package: pip install 'chainrule[onnx]'"
                          ) from None
    return onnx


def export(model, args=(), f=None, *, kwargs=None, export_params=True, verbose=None,
           input_names=None, output_names=None, opset_version=None, dynamic_axes=None,
           training=None, do_constant_folding=True, keep_initializers_as_inputs=None,
           dynamo=False, dynamic_shapes=None, external_data=True, optimize=True,
           **unsupported):
    """Write ``model``'s forward pass on ``args`` as ONNX to ``f`` (a path or a binary file)
    and return the ``onnx.ModelProto`` (with ``dynamo=True``, an ``ONNXProgram`` holding it,
    as PyTorch 2.x returns; ``dynamic_shapes`` then marks dynamic axes by argument name);
    PyTorch's ``torch.onnx.export``.

    The model is traced in eval mode. ``dynamic_axes`` ({name: {axis: "label"}} or
    {name: [axis]}) marks input and output axes whose size may change, such as the batch.

    With the ``onnx`` extra installed::

        chainrule.onnx.export(model, (x,), "model.onnx", input_names=["x"],
                              output_names=["y"], dynamic_axes={"x": {0: "batch"}})
    """
    if unsupported:
        raise TypeError(f"export() got unsupported arguments {sorted(unsupported)}")
    if dynamo and input_names is None:
        input_names = _forward_names(model, args)  # PyTorch's dynamo export names them so
    if not export_params:
        raise ValueError("export_params=False is not supported: the file always holds the "
                         "weights")
    onnx = _onnx()
    opset = MIN_OPSET if opset_version is None else int(opset_version)
    if opset < MIN_OPSET:
        raise ValueError(f"chainrule writes ONNX opset {MIN_OPSET} or later, not "
                         f"{opset_version}")
    args = args if isinstance(args, tuple) else (args,)
    inputs = flat_tensors(list(args))
    input_names = _names(input_names, len(inputs), "input")
    if dynamic_shapes is not None:
        dynamic_axes = {**_axes_of_shapes(model, args, dynamic_shapes, input_names),
                        **(dynamic_axes or {})}
    dynamic = _dynamic_axes(dynamic_axes)
    was_training = model.training
    model.eval()
    watched = watched_calls()
    try:
        with no_grad():
            first = Trace(model, args, kwargs or {}, watched, WHOLE)
            varied, second = _second_run(model, args, kwargs or {}, inputs, input_names,
                                         dynamic, watched)
    finally:
        model.train(was_training)
    graph = Graph(onnx, model, first, second, inputs, flat_tensors(list(varied)), input_names,
                  dynamic, opset)
    needed = graph.needed_steps()
    for step in first.steps:
        if id(step) in needed:
            converter = converter_for(step)
            if converter is None:
                raise UnsupportedOperatorError(
                    f"cannot export op {step.op} in layer {step.layer} to ONNX: "
                    + REFUSED.get(step.op, "chainrule has no ONNX conversion for it"))
            graph.check_options(step, converter)
            converter(graph, step)
    output_names = _names(output_names, len(graph.outputs), "output")
    proto = _model(onnx, graph, inputs, flat_tensors(list(varied)), input_names, output_names,
                   dynamic, opset)
    if dynamo:
        from .program import ONNXProgram

        program = ONNXProgram(proto)
        if f is not None and not hasattr(f, "write"):
            program.save(f, external_data=None if external_data else False)
            return program
    if f is not None:
        if hasattr(f, "write"):
            f.write(proto.SerializeToString())
        else:
            onnx.save(proto, str(f))
    return program if dynamo else proto


def _forward_names(model, args):
    """The forward's parameter names for its tensor arguments, when each argument is one
    tensor (else None: the default names)."""
    if not all(isinstance(a, Tensor) for a in args):
        return None
    parameters = [p.name for p in inspect.signature(model.forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return parameters[:len(args)] if len(parameters) >= len(args) else None


def _axes_of_shapes(model, args, dynamic_shapes, input_names):
    """``dynamic_shapes`` (PyTorch's dynamo form: per forward argument, by name or position,
    {axis: Dim or name} or one entry per axis) as ``dynamic_axes`` over the input names."""
    if not all(isinstance(a, Tensor) for a in args):
        raise ValueError("dynamic_shapes is supported for forwards whose arguments are each "
                         "one tensor; pass dynamic_axes by input name instead")
    names = _names(input_names, len(args), "input")
    if isinstance(dynamic_shapes, dict):
        parameters = [p.name for p in inspect.signature(model.forward).parameters.values()]
        unknown = [k for k in dynamic_shapes if k not in parameters[:len(args)]]
        if unknown:
            raise ValueError(f"dynamic_shapes names {unknown}, which are not arguments of the "
                             f"forward given tensors ({parameters[:len(args)]})")
        specs = [(parameters.index(k), v) for k, v in dynamic_shapes.items()]
    else:
        specs = list(enumerate(dynamic_shapes))
    axes = {}
    for position, spec in specs:
        if spec is None:
            continue
        items = spec.items() if isinstance(spec, dict) else enumerate(spec)
        labels = {int(axis): _dim_label(dim, names[position], axis) for axis, dim in items
                  if dim is not None}
        if labels:
            axes[names[position]] = labels
    return axes


def _dim_label(dim, name, axis):
    """A dynamic axis's label: a string as it is, a torch.export.Dim by its name, anything
    else (Dim.AUTO, Dim.DYNAMIC) named after the input and axis."""
    if isinstance(dim, str):
        return dim
    label = getattr(dim, "__name__", None)
    return label if isinstance(label, str) and label.isidentifier() else f"{name}_dim{axis}"


def _names(names, count, stem):
    names = list(names or [])
    if len(names) > count:
        raise ValueError(f"{len(names)} {stem} names given for {count} {stem}s")
    return names + [stem if count == 1 else f"{stem}_{i}" for i in range(len(names), count)]


def _dynamic_axes(dynamic_axes):
    result = {}
    for name, axes in (dynamic_axes or {}).items():
        if isinstance(axes, dict):
            result[name] = {int(k): str(v) for k, v in axes.items()}
        else:
            result[name] = {int(k): f"{name}_dynamic_axes_{i + 1}" for i, k in enumerate(axes)}
    return result


def _second_run(model, args, kwargs, inputs, names, dynamic, watched):
    """Trace again with other values and other sizes along the dynamic axes: the k-th label
    grows from n to 2n + k (so that two dynamic axes never share sizes in both runs, and a
    size divided down by strided layers still differs), or, if the model refuses larger sizes
    (a maximum length), shrinks to n - k where the sizes allow."""
    labels = list(dict.fromkeys(label for name in names
                                for label in dynamic.get(name, {}).values()))
    smallest = {label: min(tensor._data.shape[axis] for tensor, name in zip(inputs, names)
                           for axis, other in dynamic.get(name, {}).items() if other == label)
                for label in labels}
    grow = {label: (lambda n, k=k + 1: 2 * n + k) for k, label in enumerate(labels)}
    shrink = {label: (lambda n, k=k + 1: n - k) if smallest[label] > k + 2 else grow[label]
              for k, label in enumerate(labels)}
    error = None
    for resize in [grow, shrink][:2 if labels else 1]:
        varied = _varied_args(args, inputs, names, dynamic, resize)
        try:
            return varied, Trace(model, varied, kwargs, watched, WHOLE)
        except UnsupportedOperatorError:
            raise
        except Exception as caught:  # noqa: BLE001 - the model's own check of a size
            error = error or caught
    along = f" and other sizes along the dynamic axes {dynamic}" if labels else ""
    raise UnsupportedOperatorError(
        f"the model fails when traced again with other input values{along} (the export "
        f"compares two runs): {type(error).__name__}: {error}") from error


def _varied_args(args, inputs, names, dynamic, resize):
    """The second run's arguments: other values, and each dynamic axis resized
    (``resize[label](size)``)."""
    rng = np.random.default_rng(1234)
    replaced = {}
    for tensor, name in zip(inputs, names):
        array = tensor._data
        shape = list(array.shape)
        for axis, label in dynamic.get(name, {}).items():
            shape[axis] = resize[label](shape[axis])
        take = np.resize(array, shape) if array.size else np.zeros(shape, array.dtype)
        if array.dtype.kind == "f":
            noise = rng.standard_normal(shape) * (np.std(array.astype(np.float64)) + 1.0)
            new = (take.astype(np.float64) + noise).astype(array.dtype)
        elif array.dtype.kind in "iu" and array.size:
            new = _ordered_like(array, rng.integers(array.min(), array.max() + 1, size=shape)
                                .astype(array.dtype))
        elif array.dtype == np.bool_:
            new = rng.random(shape) < 0.5
        else:
            new = take
        replaced[id(tensor)] = Tensor._from_array(np.ascontiguousarray(new))

    def swap(value):
        if isinstance(value, Tensor):
            return replaced[id(value)]
        if isinstance(value, (tuple, list)):
            return type(value)(swap(v) for v in value)
        return value
    return tuple(swap(a) for a in args)


def _ordered_like(array, new):
    """Integer inputs ordered along their last axis (EmbeddingBag's offsets, lengths sorted
    for pack_padded_sequence) stay ordered from the same first value (offsets start at 0,
    sorted lengths at the padded length): layers check that order and refuse random values."""
    if array.ndim == 0 or array.shape[-1] < 2 or new.shape[-1] < 2:
        return new
    steps = np.diff(array, axis=-1)
    first = np.resize(array[..., :1], new[..., :1].shape)
    if (steps >= 0).all():
        rest = np.maximum(np.sort(new[..., 1:], axis=-1), first)
    elif (steps <= 0).all():
        rest = np.minimum(-np.sort(-new[..., 1:], axis=-1), first)
    else:
        return new
    return np.concatenate([first, rest], axis=-1)


def _model(onnx, graph, inputs, inputs2, input_names, output_names, dynamic, opset):
    helper = onnx.helper

    def info(name, array, array2):
        dims = []
        for axis, (a, b) in enumerate(zip(array.shape, array2.shape)):
            label = dynamic.get(name, {}).get(axis)
            dims.append(label if label is not None else (a if a == b else f"{name}_dim{axis}"))
        return helper.make_tensor_value_info(
            name, helper.np_dtype_to_tensor_dtype(array.dtype), dims)

    graph_inputs = [info(n, t._data, t2._data) for n, t, t2 in zip(input_names, inputs, inputs2)]
    nodes = list(graph.nodes)
    graph_outputs = []
    for name, value in zip(output_names, graph.outputs):
        source = graph.name_of(value)
        nodes.append(helper.make_node("Identity", [source], [name]))
        graph_outputs.append(info(name, np.asarray(value.array), np.asarray(value.twin.array)))
    onnx_graph = helper.make_graph(nodes, "chainrule", graph_inputs, graph_outputs,
                                   graph.initializers)
    proto = helper.make_model(onnx_graph, producer_name="chainrule",
                              opset_imports=[helper.make_opsetid("", opset)])
    proto.ir_version = IR_VERSION
    onnx.checker.check_model(proto)
    return proto
