"""Helpers the converters share."""

import numpy as np

INT64_MAX, INT64_MIN = 2**63 - 1, -(2**63)


def onnx_type(g, dtype):
    return g.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def out_dtype(step, index=0):
    return step.outputs[index]._data.dtype


def same_dtype(g, step, position):
    """Input ``position`` cast to the output's dtype when they differ (PyTorch's promotion
    already happened; ONNX wants equal operand types)."""
    name = g.x(step, position)
    want = out_dtype(step)
    if g.in_dtype(step, position) != want and want != np.bool_:
        return g.node("Cast", [name], to=onnx_type(g, want))
    return name


def cast(g, name, have, want):
    """``name`` (of dtype ``have``) as dtype ``want``."""
    if np.dtype(have) == np.dtype(want):
        return name
    return g.node("Cast", [name], to=onnx_type(g, want))


def scalar(g, step, value, position=0, dtype=None):
    """A 0-d constant in the dtype of input ``position`` (or ``dtype``)."""
    return g.const(np.asarray(value, dtype=dtype or g.in_dtype(step, position)))


def operand(g, step, value, dtype):
    """A call's tensor-or-number argument as an ONNX name of ``dtype`` (a size that follows a
    dynamic axis, such as ``x < x.shape[1]``, read from the shape)."""
    from ...tensor import Tensor

    if isinstance(value, Tensor):
        return cast(g, g.name_of(g.tensor_value(step, value), step), value._data.dtype, dtype)
    if g.is_dynamic(value):
        return g.node("Cast", [g.scalar_size(value)], to=onnx_type(g, dtype))
    return g.const(np.asarray(value, dtype=dtype))


def ints_of(value, n):
    """A PyTorch size argument (an int or a sequence) as ``n`` ints."""
    if isinstance(value, (tuple, list)):
        return [int(v) for v in value]
    return [int(value)] * n


def trim(inputs):
    """ONNX optional inputs: trailing empty names dropped."""
    inputs = list(inputs)
    while inputs and inputs[-1] == "":
        inputs.pop()
    return inputs


def bias(g, step, position=2):
    """The optional bias input at ``position``, as a list of zero or one ONNX names."""
    present = len(step.inputs) > position and step.inputs[position] is not None
    return [g.x(step, position)] if present else []


def reduce(g, op_type, x, axes, keepdims, outputs=None):
    """An ONNX reduction over ``axes`` (all when None): opset 18 moved the axes of all but
    ReduceSum from an attribute to an input."""
    keep = int(bool(keepdims))
    if axes is None:
        return g.node(op_type, [x], outputs, keepdims=keep)
    axes = [int(a) for a in axes]
    if op_type == "ReduceSum" or g.opset >= 18:
        return g.node(op_type, [x, g.ints(axes)], outputs, keepdims=keep)
    return g.node(op_type, [x], outputs, axes=axes, keepdims=keep)
