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
    """A tensor of the trace: its ONNX name once it has one, and what made it."""

    def __init__(self, kind, array, name=None, dependent=False, step=None, index=0):
        self.kind, self.array, self.name = kind, array, name
        self.dependent, self.step, self.index = dependent, step, index
        self.twin = None  # the same value in the second run


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
        self.values = self._resolve(model, first, inputs, input_names)
        values2 = self._resolve(model, second, inputs2, input_names)
        for tensor, tensor2 in zip(inputs, inputs2):
            self.values[id(tensor)].twin = values2[id(tensor2)]
        for step, step2 in zip(first.steps, second.steps):
            step.twin = step2
            for v1, v2 in zip(step.inputs, step2.inputs):
                if v1 is not None:
                    v1.twin = v2
            for out1, out2 in zip(step.outputs, step2.outputs):
                if isinstance(out1, Tensor):
                    self.values[id(out1)].twin = values2.get(id(out2))
            pair_sizes(step.options, step2.options, self._dynamic_leaves)
        self._by_array = {id(v.array): v for v in self.values.values()}
        self._mark_dependent(first.steps)
        self.outputs = [self._value_of(t, self.values) for t in flat_tensors(first.result)]
        for v1, t2 in zip(self.outputs, flat_tensors(second.result)):
            v1.twin = self._value_of(t2, values2)

    # -- resolving tensors to values --------------------------------------------------------
    def _resolve(self, model, trace, input_tensors, input_names):
        values = {}
        for tensor, name in zip(input_tensors, input_names):
            values[id(tensor)] = Value("input", tensor._data, name, dependent=True)
        for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
            values.setdefault(id(tensor), Value("param", tensor._data, name))
        for number, step in enumerate(trace.steps):
            step.inputs = [self._value_of(a, values) if isinstance(a, Tensor) else None
                           for a in step.args]
            for k, out in enumerate(step.outputs):
                if isinstance(out, Tensor) and id(out) not in values:
                    values[id(out)] = Value("op", out._data, f"{_clean(step.op)}_{number}_{k}",
                                            False, step, k)
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
            for out in step.outputs:
                value = self.values.get(id(out)) if isinstance(out, Tensor) else None
                if value is not None and value.step is step:
                    value.dependent = dependent

    @staticmethod
    def _value_of(tensor, values):
        value = values.get(id(tensor))
        if value is None:  # made outside the traced ops: a constant, if the check allows
            value = values[id(tensor)] = Value("const", np.array(tensor._data))
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
            stack += [self.values[t] for s in sizes_in(value.step.options)
                      for _, t, a in leaves(s) if self._leaf_is_dynamic(t, a)
                      and t in self.values and self.values[t].step is not None]
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
            value = self.values.get(tensor_id)
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
        if value.kind == "param":
            name = value.name
        else:
            self._check_constant(value, step, position)
            name = self.fresh("const")
        self.initializers.append(self.onnx.numpy_helper.from_array(
            np.ascontiguousarray(value.array), name))
        self._emitted[id(value)] = name
        return name

    def _check_constant(self, value, step, position):
        other = value.twin
        if other is None or (other.array.shape == value.array.shape
                             and np.array_equal(other.array, value.array, equal_nan=True)):
            return
        where = f"input {position} of {step.op} in layer {step.layer}" if step else "an output"
        if other.array.shape != value.array.shape:
            why = (f"its shape {value.array.shape} changes (to {other.array.shape}) with the "
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
        return [self.values.get(id(t)) if isinstance(t, Tensor) else None for t in step.outputs]

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
