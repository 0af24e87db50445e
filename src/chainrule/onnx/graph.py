"""From two traces of the forward pass to ONNX nodes.

The forward runs twice: with the caller's inputs, and with other values and, along each
dynamic axis, another size. Each tensor an op uses is then one of: a model input, a parameter
or buffer (an initializer under its state-dict name), the output of an earlier op that depends
on the inputs (an edge of the graph), or a constant. A constant must be the same in both runs;
one that is not was computed outside the traced ops or from the input's sizes, and the graph
would silently be wrong, so it is refused naming the op and the layer. Ops whose inputs are all
constant are folded into their (checked) outputs; ops no output needs are dropped.
"""

import numpy as np

from ..tensor import Tensor


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

    def __init__(self, onnx, model, first, second, input_tensors, input_tensors2, input_names):
        self.onnx = onnx
        self.helper = onnx.helper
        self.nodes, self.initializers = [], []
        self._count = 0
        self._emitted = {}  # id(Value) -> initializer name
        if len(first.steps) != len(second.steps) or any(
                a.op != b.op or a.layer != b.layer for a, b in zip(first.steps, second.steps)):
            raise UnsupportedOperatorError(
                "the forward pass ran different ops for other input values or sizes "
                "(data-dependent control flow); ONNX export needs one fixed graph")
        self.values = self._resolve(model, first, input_tensors, input_names)
        values2 = self._resolve(model, second, input_tensors2, input_names)
        for step, step2 in zip(first.steps, second.steps):
            step.twin = step2
            for v1, v2 in zip(step.inputs, step2.inputs):
                if v1 is not None:
                    v1.twin = v2
        self.outputs = [self._value_of(t, self.values) for t in _flat(first.result)]
        for v1, t2 in zip(self.outputs, _flat(second.result)):
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
            dependent = any(v is not None and v.dependent for v in step.inputs)
            for k, out in enumerate(step.outputs):
                if isinstance(out, Tensor):
                    values[id(out)] = Value("op", out._data, f"{step.op}_{number}_{k}",
                                            dependent, step, k)
        return values

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
            stack += [v for v in value.step.inputs
                      if v is not None and v.dependent and v.step is not None]
        return needed

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
        raise UnsupportedOperatorError(
            f"cannot export {where}: it is a tensor computed outside the traced ops or from "
            "the input's values or sizes (it differs between two runs), so the ONNX graph "
            "would hold it as a wrong constant. Compute it from the inputs with chainrule ops "
            "(or keep that axis static)")

    def x(self, step, position=0):
        """The ONNX name of the step's positional tensor argument ``position``."""
        return self.name_of(step.inputs[position], step, position)

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


def _flat(value):
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _flat(item)]
    return []
