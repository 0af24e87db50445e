"""Piecewise activations: clamps, shrinks, thresholds and the parametric or randomised leaky
ReLUs, each composed from differentiable tensor operations."""

from ...ops.elementwise import Clamp
from ...ops.inplace import maybe_in_place
from ...ops.registry import register
from ...random import numpy_generator
from ...tensor import Tensor


def _threshold(input, limit, value, inplace):
    return maybe_in_place(input, inplace, lambda x: x.where(x > limit, value))


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else ``value``."""
    return _threshold(input, threshold, value, inplace)


def threshold_(input, threshold, value):
    return _threshold(input, threshold, value, True)


def _hard_clamp(x, low, high):
    # (no gradient at the bounds themselves, as PyTorch's hard activations)
    return Clamp.apply(x, min=low, max=high, exclusive=True)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clamped to [min_val, max_val] (gradient 1 strictly inside, else 0)."""
    if min_val > max_val:
        raise ValueError("hardtanh: min_val cannot be greater than max_val")
    return maybe_in_place(input, inplace, lambda x: _hard_clamp(x, min_val, max_val))


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input, inplace=False):
    """0 for x <= -3, 1 for x >= 3, x / 6 + 1/2 between."""
    return maybe_in_place(input, inplace, lambda x: _hard_clamp(x / 6 + 0.5, 0.0, 1.0))


def hardswish(input, inplace=False):
    """x * clamp(x / 6 + 1/2, 0, 1): PyTorch's gradient, x / 3 + 1/2 on [-3, 3] bounds
    included, 0 below and 1 above."""
    return maybe_in_place(input, inplace, lambda x: x * (x / 6 + 0.5).clamp(0.0, 1.0))


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    return input.where(input.abs() > lambd, 0.0)


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be greater or equal to 0, but found to be "
                           f"{lambd}")
    return (input - lambd).where(input > lambd, (input + lambd).where(input < -lambd, 0.0))


def prelu(input, weight):
    """x for x > 0, weight * x otherwise; ``weight`` has one entry, or one per channel
    (dim 1 of the input)."""
    if not isinstance(weight, Tensor):
        raise TypeError(f"prelu: weight must be a Tensor, got {type(weight).__name__}")
    if weight.numel() != 1:
        channels = input.shape[1] if input.dim() >= 2 else (input.shape[0] if input.dim() else 1)
        if weight.numel() != channels:
            raise RuntimeError(
                f"prelu: mismatch of parameter numbers and input channel size. Found parameter "
                f"numbers = {weight.numel()} and channel size = {channels}.")
        if input.dim() >= 2:
            weight = weight.reshape((channels,) + (1,) * (input.dim() - 2))
    return input.where(input > 0, input * weight)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky ReLU whose negative slope is drawn from U(lower, upper) per element while
    training, and is (lower + upper) / 2 otherwise."""
    if not training:
        slope = (lower + upper) / 2
        return maybe_in_place(input, inplace, lambda x: x.where(x > 0, x * slope))
    draws = numpy_generator().uniform(lower, upper, input.shape).astype(input._data.dtype)
    slopes = Tensor._from_array(draws)
    return maybe_in_place(input, inplace, lambda x: x.where(x > 0, x * slopes))


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


register(threshold, top=False, method=False, functional=True)
register(threshold_, method=False, functional=True)
register(hardtanh, top=False, method=False, functional=True)
register(hardtanh_, top=False, method=False, functional=True)
register(relu6, top=False, method=False, functional=True)
register(hardsigmoid, top=False, method=False, functional=True)
register(hardswish, top=False, method=False, functional=True)
register(hardshrink, functional=True)
register(softshrink, top=False, method=False, functional=True)
register(prelu, functional=True)
register(rrelu, top=False, method=False, functional=True)
register(rrelu_, method=False, functional=True)
