"""Functional convolutions (``F.conv2d`` ...); the fused ops live in ``chainrule.ops.conv``."""

from ...ops import conv as _ops
from ...ops.conv import *  # noqa: F403 - the functional names are the fused ops' own
from ...ops.conv import conv1d

__all__ = list(_ops.__all__) + ["conv_tbc"]


def conv_tbc(input, weight, bias, pad=0):
    """1-D convolution of a (time, batch, channels) input with a (kernel, in, out) weight, as
    fairseq's time-first layers use it; the output is (time', batch, out)."""
    if input.dim() != 3 or weight.dim() != 3:
        raise RuntimeError(f"conv_tbc: expected a 3-D input (time, batch, channels) and a 3-D "
                           f"weight (kernel, in, out), got shapes {tuple(input.shape)} and "
                           f"{tuple(weight.shape)}")
    out = conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, padding=pad)
    return out.permute(2, 0, 1)
