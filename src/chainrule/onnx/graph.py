"""From two traces of the forward pass to ONNX nodes.

The forward runs twice: with the caller's inputs, and with other values and, along each
dynamic axis, another size. Each tensor a step uses is then one of: a model input, a parameter
or buffer (an initializer under its state-dict name), the output of an earlier step that
depends on the inputs (an edge of the graph), or a constant. A constant must be the same in
both runs; one that is not was computed outside the traced ops or from a size that lost its
record (sizes.py), and the graph would silently be wrong, so it is refused naming the op and
the layer. The same holds for the options of a step (a kernel size, a slice bound), unless its
converter is marked ``dynamic`` and writes them from the sizes' records. A step whose inputs
are all constant and whose sizes do not follow a dynamic axis is folded into its (checked)
outputs; steps no output needs are dropped.
"""

import numpy as np

from ..tensor import Tensor
from .options import arrays_in, differences, pair_sizes, sizes_in
from .sizes import SymInt, emit, is_dynamic, leaves
from .trace import flat_tensors


class UnsupportedOperatorError(RuntimeError):
    """An op or layer that cannot be written as ONNX (the message names both)."""


class Value:
    """A tensor of the trace at one version (a write in place makes the next one): its ONNX
    name once it has one, and what made it. ``array`` is the tensor's data now (its shape and
    dtype are the version's); ``frozen`` the data of this version when a write changed it
    since."""

    def __init__(self, kind, tensor, version, name=None, dependent=False, step=None, index=0,
                 frozen=None):
        self.kind, self.tensor, self.version, self.name = kind, tensor, version, name
        self.array = tensor._data
        self.dependent, self.step, self.index, self.frozen = dependent, step, index, frozen
        self.twin = None  # the same value in the second run

    def constant(self):
        """This version's data, or None when a write the trace did not see replaced it."""
        if self.tensor._version == self.version:
            return self.array
        return self.frozen


class Graph:
    """The ONNX graph under construction; converters call its helpers."""

    def __init__(self, onnx, model, first, second, inputs, inputs2, input_names, dynamic,
                 opset):
        self.onnx, self.opset = onnx, opset
        self.helper = onnx.helper
        self.nodes, self.initializers = [], []
        self.dynamic_axes = dynamic
        self._count = 0
        self._emitted = {}  # id(Value) -> initializer name
        self._dims = {}  # (tensor id, axis) -> ONNX name of that (dynamic) size
        self._dynamic_leaves = {}  # (tensor id, axis) -> whether it changed between runs
        _check_same_ops(first, second)
        self.first_values = {}  # tensor id -> its first value (where its sizes are read)
        self.values = self._resolve(model, first, inputs, input_names, self.first_values)
        values2 = self._resolve(model, second, inputs2, input_names, {})
        for tensor, tensor2 in zip(inputs, inputs2):
            self.first_values[id(tensor)].twin = values2[id(tensor2)]
        for step, step2 in zip(first.steps, second.steps):
            step.twin = step2
            for v1, v2 in zip(step.inputs + step.made, step2.inputs + step2.made):
                if v1 is not None:
                    v1.twin = v2
            pair_sizes(step.options, step2.options, self._dynamic_leaves)
        self._by_array = {id(v.array): v for v in self.values.values()}
        self._mark_dependent(first.steps)
        self.outputs = [self._value_of(t, t._version, self.values, first)
                        for t in flat_tensors(first.result)]
        for v1, t2 in zip(self.outputs, flat_tensors(second.result)):
            v1.twin = self._value_of(t2, t2._version, values2, second)

    # -- resolving tensors to values --------------------------------------------------------
    def _resolve(self, model, trace, input_tensors, input_names, first_values):
        """{tensor id: its latest value}, with each step's ``inputs`` (the values it read, at
        the versions it read them) and ``made`` (the values it made)."""
        values = {}
        start = trace.initial
        for tensor, name in zip(input_tensors, input_names):
            values[id(tensor)] = Value("input", tensor, start[id(tensor)], name, dependent=True,
                                       frozen=trace.snapshots.get((id(tensor),
                                                                   start[id(tensor)])))
        for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
            version = start.get(id(tensor), tensor._version)
            values.setdefault(id(tensor), Value(
                "param", tensor, version, name,
                frozen=trace.snapshots.get((id(tensor), version))))
        first_values.update(values)
        for number, step in enumerate(trace.steps):
            step.inputs = [self._value_of(a, v, values, trace, step, k)
                           if isinstance(a, Tensor) else None
                           for k, (a, v) in enumerate(zip(step.args, step.arg_versions))]
            step.made = []
            for k, (out, version) in enumerate(zip(step.outputs, step.out_versions)):
                value = None
                if isinstance(out, Tensor):
                    value = values[id(out)] = Value(
                        "op", out, version, f"{_clean(step.op)}_{number}_{k}", False, step, k,
                        frozen=trace.snapshots.get((id(out), version)))
                    first_values.setdefault(id(out), value)
                step.made.append(value)
        return values

    def _option_values(self, step):
        """The traced values whose arrays a step received as options (an attention mask)."""
        return [self._by_array[id(a)] for a in arrays_in(step.options)
                if id(a) in self._by_array]

    def _mark_dependent(self, steps):
        for step in steps:
            dependent = any(v is not None and v.dependent
                            for v in step.inputs + self._option_values(step)) or any(
                is_dynamic(s, self._leaf_is_dynamic) for s in sizes_in(step.options))
            for value in step.made:
                if value is not None:
                    value.dependent = dependent

    @staticmethod
    def _value_of(tensor, version, values, trace, step=None, position=None):
        """The value of ``tensor`` at ``version``; a tensor made outside the traced ops is a
        constant (if the checks allow)."""
        value = values.get(id(tensor))
        if value is None:
            value = values[id(tensor)] = Value(
                "const", tensor, version, frozen=trace.snapshots.get((id(tensor), version)))
        elif value.version != version:
            where = (f"input {position} of op {step.op} in layer {step.layer}" if step
                     else "an output of the model")
            raise UnsupportedOperatorError(
                f"cannot export {where}: the tensor was changed in place by a write the "
                "exporter does not follow (a write through a view of it, or into a tensor it "
                "is a view of, or a random fill); write that step out of place")
        return value

    def needed_steps(self):
        """The steps the outputs depend on, in order."""
        needed, stack = set(), [v for v in self.outputs if v.dependent and v.step]
        while stack:
            value = stack.pop()
            if id(value.step) in needed:
                continue
            needed.add(id(value.step))
            stack += [v for v in value.step.inputs + self._option_values(value.step)
                      if v is not None and v.dependent and v.step is not None]
            stack += [self.first_values[t] for s in sizes_in(value.step.options)
                      for _, t, a in leaves(s) if self._leaf_is_dynamic(t, a)
                      and t in self.first_values and self.first_values[t].step is not None]
        return needed

    # -- sizes --------------------------------------------------------------------------------
    def _leaf_is_dynamic(self, tensor_id, axis):
        return self._dynamic_leaves.get((tensor_id, axis), False)

    def _dim(self, tensor_id, axis):
        """The ONNX name of a dynamic size (a 1-D int64 of one element), None if static."""
        if not self._leaf_is_dynamic(tensor_id, axis):
            return None
        key = (tensor_id, axis)
        if key not in self._dims:
            value = self.first_values.get(tensor_id)
            if value is None or not value.dependent:
                raise UnsupportedOperatorError(
                    "a size read from a tensor made outside the traced ops changes with the "
                    "dynamic axes; make that tensor with chainrule ops from the inputs")
            self._dims[key] = self.node("Shape", [value.name], start=axis, end=axis + 1)
        return self._dims[key]

    def size(self, value):
        """A size (int or SymInt) as a 1-D int64 ONNX tensor of one element."""
        return emit(self, value, self._dim)

    def scalar_size(self, value):
        """A size as a 0-d int64 ONNX tensor."""
        return self.node("Squeeze", [self.size(value), self.ints([0])])

    def shape(self, sizes):
        """A shape (ints and SymInts) as a 1-D int64 ONNX tensor."""
        sizes = list(sizes)
        if not any(self.is_dynamic(s) for s in sizes):
            return self.ints([int(s) for s in sizes])
        return self.node("Concat", [self.size(s) for s in sizes], axis=0)

    def is_dynamic(self, size):
        return is_dynamic(size, self._leaf_is_dynamic)

    def value_of_array(self, array):
        """The traced value whose data is ``array`` itself (an op's option computed from
        tensors, such as an attention mask), or None."""
        return self._by_array.get(id(array))

    # -- checks -------------------------------------------------------------------------------
    def check_options(self, step, converter):
        """Refuse a step whose options change between the runs (a size baked in), except sizes
        the converter writes from their records and options it checks itself."""
        for path, a, b in differences(step.options, step.twin.options):
            if path[0] in converter.varying or (
                    converter.sizes and isinstance(a, SymInt) and isinstance(b, SymInt)):
                continue
            where = path[0] + "".join(f"[{p}]" if isinstance(p, int) else f".{p}"
                                      for p in path[1:])
            if isinstance(a, SymInt) and isinstance(b, SymInt):
                raise UnsupportedOperatorError(
                    f"cannot export op {step.op} in layer {step.layer}: its argument {where} "
                    f"follows the dynamic axes {self._axes_text()} ({int(a)} for the traced "
                    f"inputs, {int(b)} in the second run), but the ONNX conversion of "
                    f"{step.op} takes it as a fixed number; keep that axis static")
            a, b = (f"an array of shape {v.shape}" if isinstance(v, np.ndarray) else repr(v)
                    for v in (a, b))
            raise UnsupportedOperatorError(
                f"cannot export op {step.op} in layer {step.layer}: its argument {where} is "
                f"{a} for the traced inputs but {b} when the dynamic axes "
                f"{self._axes_text()} change size, so the ONNX graph would hold it as a "
                "constant. It was computed from a dynamic size in a way the exporter does not "
                "follow (int(), len(), NumPy); pass x.shape[i] / x.size(i) on to the op as it "
                "is, or keep that axis static")

    def _axes_text(self):
        return ", ".join(f"{name}[{axis}] ({label})" for name, axes in self.dynamic_axes.items()
                         for axis, label in axes.items()) or "(none declared)"

    # -- names for converters ----------------------------------------------------------------
    def fresh(self, hint):
        self._count += 1
        return f"{hint}_{self._count}"

    def name_of(self, value, step=None, position=None):
        """The ONNX name of ``value``; a constant becomes an initializer after its check."""
        if value.dependent:
            return value.name
        if id(value) in self._emitted:
            return self._emitted[id(value)]
        where = f"input {position} of {step.op} in layer {step.layer}" if step else "an output"
        data = value.constant()
        if data is None:
            raise UnsupportedOperatorError(
                f"cannot export {where}: a write in place that the exporter does not follow "
                "changed it after it was read; write that step out of place")
        if value.kind == "param" and value.tensor._version == value.version:
            name = value.name
        else:
            self._check_constant(value, data, where)
            name = self.fresh("const")
        self.initializers.append(self.onnx.numpy_helper.from_array(
            np.ascontiguousarray(data), name))
        self._emitted[id(value)] = name
        return name

    def _check_constant(self, value, data, where):
        other = value.twin.constant() if value.twin is not None else None
        if other is None or (other.shape == data.shape
                             and np.array_equal(other, data, equal_nan=True)):
            return
        if other.shape != data.shape:
            why = (f"its shape {data.shape} changes (to {other.shape}) with the "
                   f"dynamic axes {self._axes_text()}: it was made outside the traced ops, "
                   "from a size the exporter does not follow (int(), len()) or from the "
                   "input's values (NumPy, .item(), .tolist())")
        else:
            why = ("its values differ between two runs: it was computed outside the traced "
                   "ops from the input's values (NumPy, .item(), .tolist()) or is random")
        raise UnsupportedOperatorError(
            f"cannot export {where}: {why}, so the ONNX graph would hold it as a wrong "
            "constant. Compute it from the inputs with chainrule ops, passing sizes as "
            "x.shape[i] (or keep that axis static)")

    def x(self, step, position=0):
        """The ONNX name of the step's positional tensor argument ``position``."""
        return self.name_of(step.inputs[position], step, position)

    def arg(self, step, name):
        """The ONNX name of a call's tensor argument ``name``."""
        tensor = step.options[name]
        for position, candidate in enumerate(step.args):
            if candidate is tensor:
                return self.x(step, position)
        raise KeyError(name)

    def tensor_value(self, step, tensor):
        """The value of one of the step's tensors."""
        for position, candidate in enumerate(step.args):
            if candidate is tensor:
                return step.inputs[position]
        raise KeyError(id(tensor))

    def outs(self, step):
        return [v.name if v is not None else self.fresh("unused")
                for v in self.output_values(step)]

    def output_values(self, step):
        return list(step.made)

    def in_shape(self, step, position=0):
        return tuple(step.inputs[position].array.shape)

    def in_dtype(self, step, position=0):
        return step.inputs[position].array.dtype

    def out_shape(self, step, index=0):
        return tuple(np.shape(step.outputs[index]._data))

    def static_axes(self, step, position, axes):
        """Refuse when one of ``axes`` of input ``position`` is dynamic (the converter needs
        its size as a number)."""
        shape, twin = self.in_shape(step, position), step.twin.inputs[position].array.shape
        for axis in axes:
            if shape[axis] != twin[axis]:
                raise self.fail(step, f"it needs the size of dim {axis} as a number, and that "
                                      "dim is dynamic; keep it static")

    def node(self, op_type, inputs, outputs=None, count=1, **attrs):
        outputs = outputs or [self.fresh(op_type) for _ in range(count)]
        self.nodes.append(self.helper.make_node(op_type, list(inputs), list(outputs),
                                                **{k: v for k, v in attrs.items()
                                                   if v is not None}))
        return outputs if len(outputs) > 1 else outputs[0]

    def const(self, array, hint="const"):
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def ints(self, values):
        return self.const(np.asarray(values, dtype=np.int64), "ints")

    def fail(self, step, reason):
        return UnsupportedOperatorError(f"cannot export op {step.op} in layer {step.layer} to "
                                        f"ONNX: {reason}")


def _check_same_ops(first, second):
    if len(first.steps) != len(second.steps) or any(
            a.op != b.op or a.layer != b.layer for a, b in zip(first.steps, second.steps)):
        raise UnsupportedOperatorError(
            "the forward pass ran different ops for other input values or sizes "
            "(data-dependent control flow); ONNX export needs one fixed graph")


def _clean(name):
    return name.strip("_") or "op"
