"""Arithmetic, comparisons, logic, rounding and casts."""

import numpy as np

from . import call, op
from .common import cast, onnx_type, operand, out_dtype, same_dtype, scalar

_BINARY = {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Pow": "Pow",
           "Maximum": "Max", "Minimum": "Min"}
_UNARY = {"Neg": "Neg", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Abs": "Abs",
          "Sign": "Sign", "Sin": "Sin", "Cos": "Cos", "Tanh": "Tanh", "Sigmoid": "Sigmoid",
          "Relu": "Relu", "Clone": "Identity", "Asin": "Asin", "Acos": "Acos", "Atan": "Atan",
          "Sinh": "Sinh", "Cosh": "Cosh", "Tan": "Tan", "Asinh": "Asinh", "Acosh": "Acosh",
          "Atanh": "Atanh", "Erf": "Erf", "Det": "Det"}


@op(*_BINARY)
def binary(g, step):
    a, b = same_dtype(g, step, 0), same_dtype(g, step, 1)
    if step.op == "Pow" and g.in_dtype(step, 1) != out_dtype(step):
        b = g.x(step, 1)
    g.node(_BINARY[step.op], [a, b], g.outs(step))


@op(*_UNARY)
def unary(g, step):
    g.node(_UNARY[step.op], [g.x(step)], g.outs(step))


@op("_Alias", "_BackwardHookIdentity")
def identities(g, step):
    for position, out in enumerate(g.outs(step)):
        g.node("Identity", [g.x(step, position)], [out])


@call("detach", "positive", "contiguous")
def identity_call(g, step):
    g.node("Identity", [g.x(step)], g.outs(step))


_DROPOUTS = ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
             "feature_alpha_dropout")


@call(*_DROPOUTS)
def dropout(g, step):
    """Identity when not training (as in eval mode); random otherwise, which no graph repeats."""
    if step.options.get("training") and step.options.get("p", 0.5) > 0:
        raise g.fail(step, "dropout with training=True draws random numbers, which an exported "
                           "graph cannot repeat; pass training=self.training (the model is "
                           "exported in eval mode)")
    g.node("Identity", [g.arg(step, "input")], g.outs(step))


@op("Rsqrt")
def rsqrt(g, step):
    g.node("Reciprocal", [g.node("Sqrt", [g.x(step)])], g.outs(step))


@op("Expm1")
def expm1(g, step):
    g.node("Sub", [g.node("Exp", [g.x(step)]), scalar(g, step, 1.0)], g.outs(step))


@op("Log1p")
def log1p(g, step):
    g.node("Log", [g.node("Add", [g.x(step), scalar(g, step, 1.0)])], g.outs(step))


@op("Xlogy")
def xlogy(g, step):
    """x * log(y), 0 where x == 0 unless y is NaN."""
    x, y = same_dtype(g, step, 0), same_dtype(g, step, 1)
    zero = scalar(g, step, 0.0, dtype=out_dtype(step))
    at_zero = g.node("And", [g.node("Equal", [x, zero]), g.node("Not", [g.node("IsNaN", [y])])])
    product = g.node("Mul", [x, g.node("Log", [y])])
    g.node("Where", [at_zero, zero, product], g.outs(step))


@op("Where")
def where(g, step):
    g.node("Where", [g.x(step, 0), same_dtype(g, step, 1), same_dtype(g, step, 2)],
           g.outs(step))


@op("Clamp")
def clamp(g, step):
    low, high = step.options.get("min"), step.options.get("max")
    dtype = out_dtype(step)
    inputs = [cast(g, g.x(step), g.in_dtype(step), dtype),
              "" if low is None else g.const(np.asarray(low, dtype)),
              "" if high is None else g.const(np.asarray(high, dtype))]
    g.node("Clip", inputs, g.outs(step))


@op("Cast")
def cast_op(g, step):
    g.node("Cast", [g.x(step)], g.outs(step), to=onnx_type(g, out_dtype(step)))


# -- calls computed on arrays: division with rounding, comparisons, logic, rounding ----------
def _operands(g, step, dtype):
    return [operand(g, step, step.options[name], dtype) for name in ("input", "other")]


def _common_dtype(step):
    from ...ops._operands import promoted_dtype

    return promoted_dtype(step.options["input"], step.options["other"])


@call("div", sizes=True)
def div(g, step):
    mode, dtype = step.options.get("rounding_mode"), out_dtype(step)
    a, b = _operands(g, step, dtype)
    if mode is None:
        g.node("Div", [a, b], g.outs(step))
    elif dtype.kind == "f":
        quotient = g.node("Div", [a, b])
        if mode == "floor":
            g.node("Floor", [quotient], g.outs(step))
        else:
            g.node("Where", [g.node("Less", [quotient, g.const(np.asarray(0, dtype))]),
                             g.node("Ceil", [quotient]), g.node("Floor", [quotient])],
                   g.outs(step))
    elif mode == "trunc":
        g.node("Div", [a, b], g.outs(step))  # ONNX's integer Div truncates
    else:
        remainder = g.node("Mod", [a, b], fmod=0)
        g.node("Div", [g.node("Sub", [a, remainder]), b], g.outs(step))


@call("floor_divide", sizes=True)
def floor_divide(g, step):
    dtype = out_dtype(step)
    a, b = _operands(g, step, dtype)
    if dtype.kind == "f":
        g.node("Floor", [g.node("Div", [a, b])], g.outs(step))
    else:
        remainder = g.node("Mod", [a, b], fmod=0)
        g.node("Div", [g.node("Sub", [a, remainder]), b], g.outs(step))


_COMPARE = {"eq": "Equal", "lt": "Less", "le": "LessOrEqual", "gt": "Greater",
            "ge": "GreaterOrEqual", "logical_and": "And", "logical_or": "Or",
            "logical_xor": "Xor"}


@call(*_COMPARE, "ne", sizes=True)
def compare(g, step):
    logical = step.op.startswith("logical")
    dtype = np.dtype(bool) if logical else _common_dtype(step)
    a, b = _operands(g, step, dtype)
    if step.op == "ne":
        g.node("Not", [g.node("Equal", [a, b])], g.outs(step))
    else:
        g.node(_COMPARE[step.op], [a, b], g.outs(step))


@call("bitwise_and", "bitwise_or", "bitwise_xor")
def bitwise(g, step):
    dtype = out_dtype(step)
    a, b = _operands(g, step, dtype)
    kind = step.op.split("_")[1]
    if dtype == np.bool_:
        g.node(kind.capitalize(), [a, b], g.outs(step))
    else:
        g.node("Bitwise" + kind.capitalize(), [a, b], g.outs(step), **_opset_18(g, step))


@call("logical_not")
def logical_not(g, step):
    g.node("Not", [cast(g, g.x(step), g.in_dtype(step), bool)], g.outs(step))


@call("bitwise_not")
def bitwise_not(g, step):
    if g.in_dtype(step) == np.bool_:
        g.node("Not", [g.x(step)], g.outs(step))
    else:
        g.node("BitwiseNot", [g.x(step)], g.outs(step), **_opset_18(g, step))


def _opset_18(g, step):
    """No attributes; refuses an older opset (ONNX's bitwise operators came with 18)."""
    if g.opset < 18:
        raise g.fail(step, "bitwise operations on integers need ONNX opset 18: pass "
                           "opset_version=18")
    return {}


@call("isnan", "isinf", "isfinite")
def finite_checks(g, step):
    x = g.x(step)
    if g.in_dtype(step).kind != "f":  # integers are never NaN or infinite
        same = g.node("Equal", [x, x])
        g.node("Identity" if step.op == "isfinite" else "Not", [same], g.outs(step))
        return
    if step.op == "isnan":
        g.node("IsNaN", [x], g.outs(step))
    elif step.op == "isinf":
        g.node("IsInf", [x], g.outs(step))
    else:
        g.node("Not", [g.node("Or", [g.node("IsNaN", [x]), g.node("IsInf", [x])])],
               g.outs(step))


@call("floor", "ceil", "round", "trunc")
def rounding(g, step):
    _rounding(g, step, step.op, step.options.get("decimals", 0))


@op("Rounding")
def rounding_op(g, step):
    _rounding(g, step, step.options["mode"], step.options["decimals"])


def _rounding(g, step, mode, decimals):
    x = g.x(step)
    if g.in_dtype(step).kind != "f":
        g.node("Identity", [x], g.outs(step))
    elif mode == "trunc":
        g.node("Where", [g.node("Less", [x, scalar(g, step, 0)]), g.node("Ceil", [x]),
                         g.node("Floor", [x])], g.outs(step))
    elif mode == "round" and decimals:
        factor = scalar(g, step, 10.0 ** decimals)
        g.node("Div", [g.node("Round", [g.node("Mul", [x, factor])]), factor], g.outs(step))
    else:  # ONNX's Round rounds half to even, as PyTorch does
        g.node(mode.capitalize(), [x], g.outs(step))
