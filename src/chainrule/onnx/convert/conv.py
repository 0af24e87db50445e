"""Convolutions."""



import numpy as np

from . import op
from .common import bias


def _conv_attrs(step):
    options = step.options
    padding = options["padding"]
    pads = [int(lo) for lo, _ in padding] + [int(hi) for _, hi in padding]
    return dict(strides=[int(s) for s in options["stride"]], pads=pads,
                dilations=[int(d) for d in options["dilation"]], group=int(options["groups"]))


@op("Conv")
def conv(g, step):
    g.node("Conv", [g.x(step, 0), g.x(step, 1)] + bias(g, step), g.outs(step),
           **_conv_attrs(step))


def _output_padding(attrs, kernel, spatial_in, spatial_out):
    natural = [(n - 1) * s + d * (k - 1) + 1 - lo - hi for n, s, d, k, lo, hi in zip(
        spatial_in, attrs["strides"], attrs["dilations"], kernel,
        attrs["pads"][:len(kernel)], attrs["pads"][len(kernel):])]
    return [o - n for o, n in zip(spatial_out, natural)]


@op("ConvTranspose", varying=("x_shape",))
def conv_transpose(g, step):
    """The output padding is what the output's size needs beyond the natural one; it must be
    the same in both runs (the input's shape itself may change)."""
    attrs = _conv_attrs(step)
    kernel = g.in_shape(step, 1)[2:]
    padding = [_output_padding(attrs, kernel, np.shape(s.args[0]._data)[2:],
                               np.shape(s.outputs[0]._data)[2:]) for s in (step, step.twin)]
    if padding[0] != padding[1]:
        raise g.fail(step, "its output size does not follow the dynamic sizes as the output "
                           "padding does")
    attrs["output_padding"] = padding[0]
    g.node("ConvTranspose", [g.x(step, 0), g.x(step, 1)] + bias(g, step), g.outs(step),
           **attrs)


