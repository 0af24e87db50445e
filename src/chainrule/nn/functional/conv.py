"""``conv_tbc``, a time-first 1-D convolution built on the fused ``conv1d``
(``chainrule.ops.conv``, which registers the other convolutions)."""

from ...ops.conv import conv1d
from ...ops.registry import register


def conv_tbc(input, weight, bias, pad=0):
    """1-D convolution of a (time, batch, channels) input with a (kernel, in, out) weight, as
    fairseq's time-first layers use it; the output is (time', batch, out)."""
    if input.dim() != 3 or weight.dim() != 3:
        raise RuntimeError(f"conv_tbc: expected a 3-D input (time, batch, channels) and a 3-D "
                           f"weight (kernel, in, out), got shapes {tuple(input.shape)} and "
                           f"{tuple(weight.shape)}")
    out = conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, padding=pad)
    return out.permute(2, 0, 1)


register(conv_tbc, method=False, functional=True)
