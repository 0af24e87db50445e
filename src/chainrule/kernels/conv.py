"""im2col and col2im for 2-D convolutions, the steps around their GEMMs: the copy of every input
window into the column matrix, and the scatter-add of the column gradients back onto the
(padded) input. References: ``ops/conv.py`` (``_columns``: a transposed copy of a strided
window view; ``_conv_transpose_whole``: one strided add over the whole batch per kernel
position). Both split their work over the kernel threads: NumPy's copy runs on one core."""

import numpy as np

from ._jit import jit
from .threads import parallel_ranges


@jit
def _col2im_range(start, stop, part, cols, kernel, stride, dilation, canvas):
    """Samples [start, stop): canvas[n, c] (padded H, W) = the sum over kernel positions of
    cols[c, ki, kj, n] (OH, OW) added at rows i*sh + ki*dh, columns j*sw + kj*dw.

    One (sample, channel) plane at a time, so the plane being added into stays in the first
    cache level while all kernel positions are added; flat unsigned offsets so that the add
    along a row vectorises (a signed index costs a wraparound check). Measured, the second
    conv of the MNIST net (cols 32x3x3x64x24x24): the reference's strided adds 18 ms, this
    3 ms."""
    u = np.uint64
    channels, out_h, out_w = cols.shape[0], cols.shape[4], cols.shape[5]
    batch, height, width = cols.shape[3], canvas.shape[2], canvas.shape[3]
    flat_cols, flat_canvas = cols.reshape(-1), canvas.reshape(-1)
    plane_out = out_h * out_w
    for n in range(start, stop):
        for c in range(channels):
            into = u((n * channels + c) * height * width)
            for ki in range(kernel[0]):
                for kj in range(kernel[1]):
                    source = u((((c * kernel[0] + ki) * kernel[1] + kj) * batch + n) * plane_out)
                    for i in range(out_h):
                        row = into + u((i * stride[0] + ki * dilation[0]) * width
                                       + kj * dilation[1])
                        line = source + u(i * out_w)
                        if stride[1] == 1:
                            for j in range(out_w):
                                flat_canvas[row + u(j)] += flat_cols[line + u(j)]
                        else:
                            for j in range(out_w):
                                flat_canvas[row + u(j * stride[1])] += flat_cols[line + u(j)]


@jit
def _im2col_range(start, stop, part, x, kernel, stride, dilation, cols):
    """Channels [start, stop): cols[c, ki, kj, n] (OH, OW) = x[n, c] at rows i*sh + ki*dh,
    columns j*sw + kj*dw; unsigned offsets, so that a stride-1 row copy vectorises."""
    u = np.uint64
    batch, channels, height, width = x.shape
    out_h, out_w = cols.shape[4], cols.shape[5]
    flat_x, flat_cols = x.reshape(-1), cols.reshape(-1)
    plane_out = out_h * out_w
    for c in range(start, stop):
        for ki in range(kernel[0]):
            for kj in range(kernel[1]):
                for n in range(batch):
                    into = u((((c * kernel[0] + ki) * kernel[1] + kj) * batch + n) * plane_out)
                    source = u((n * channels + c) * height * width + ki * dilation[0] * width
                               + kj * dilation[1])
                    for i in range(out_h):
                        row = source + u(i * stride[0] * width)
                        line = into + u(i * out_w)
                        if stride[1] == 1:
                            for j in range(out_w):
                                flat_cols[line + u(j)] = flat_x[row + u(j)]
                        else:
                            for j in range(out_w):
                                flat_cols[line + u(j)] = flat_x[row + u(j * stride[1])]


def im2col2d(x, kernel, stride, dilation, out):
    """The (C, kh, kw, N, OH, OW) float32 columns of the windows of a padded (N, C, H, W)
    input: every element of every window, in the order the convolution's GEMM reads them."""
    batch, channels = x.shape[:2]
    cols = np.empty((channels,) + tuple(kernel) + (batch,) + tuple(out), np.float32)
    parallel_ranges(_im2col_range, channels, cols.size // channels, np.ascontiguousarray(x),
                    np.asarray(kernel, np.int64), np.asarray(stride, np.int64),
                    np.asarray(dilation, np.int64), cols)
    return cols


def col2im2d(cols, kernel, stride, dilation, padded):
    """The (N, C, *padded) float32 sum of the column gradients ``cols`` (C, kh, kw, N, OH, OW)
    at their windows: the adjoint of taking the windows of a padded (N, C, *padded) input."""
    channels, batch = cols.shape[0], cols.shape[3]
    canvas = np.zeros((batch, channels) + tuple(padded), np.float32)
    parallel_ranges(_col2im_range, batch, channels * int(np.prod(padded)),
                    np.ascontiguousarray(cols), np.asarray(kernel, np.int64),
                    np.asarray(stride, np.int64), np.asarray(dilation, np.int64), canvas)
    return canvas
