"""2-D convolutions a few samples at a time: im2col into a small buffer, one GEMM, the result
straight into the output's rows (and its bias added while they are in the cache); the input
gradient as GEMM then col2im (the scatter-add of the column gradients back onto the padded
input); the weight gradient summed over the samples. References: ``ops/conv.py`` (the
whole-batch NumPy path: the columns as a transposed copy of a strided window view, the
scatter-add as one strided add per kernel position).

Why by samples: the columns of a whole batch are 9x its input (42 MB for the second conv of
the MNIST net at batch 64); one sample's columns stay in the core's cache from the copy to
the GEMM, and its output is already in NCHW order (the GEMM's rows are the output channels,
its columns the sample's positions), so no transposed copy follows. Blocks go
to the kernel threads (``parallel_claims``: BLAS on one thread each; one BLAS-threaded call
when only one core is free), so the copies and scatters run on both cores, not only the
GEMMs; each thread claims the next block when done with its last, so a thread that another
process slows takes fewer blocks instead of holding up the call. Measured at one thread,
that conv (64 x 32 x 26 x 26 -> 64 channels): forward 27.5 -> 25.2 ms, input gradient
29.5 -> 24.4, weight gradient 28.3 -> 23.7, against the whole-batch layout in 2 MB chunks."""

import numpy as np

from . import winograd
from ._jit import jit
from .threads import parallel_claims

# Blocks of one sample unless a sample's columns are smaller than this (tiny images): one
# sample's GEMM lands in NCHW order as it is, where a block of several needs a transposed copy
# in and out. Measured, the MNIST net's first conv (1 input channel, 24 KB of columns a
# sample) forward and backward at one thread: 1 sample a block 10.8 ms, 6 13.0, 21 18.1.
_BLOCK_BYTES = 16 << 10


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


class _Geometry:
    """One call's shapes: kernel, stride, dilation (int64 arrays, as the kernels take them),
    output (OH, OW), groups, and the samples per block."""

    def __init__(self, channels, kernel, stride, dilation, out, groups):
        self.kernel = np.asarray(kernel, np.int64)
        self.stride = np.asarray(stride, np.int64)
        self.dilation = np.asarray(dilation, np.int64)
        self.out, self.groups, self.channels = tuple(out), groups, channels
        self.rows = channels * int(np.prod(kernel))  # of the columns, all groups
        self.positions = int(np.prod(out))
        self.block = max(1, _BLOCK_BYTES // (self.rows * self.positions * 4))

    def buffer(self):
        """Room for one block's columns (flat)."""
        return np.empty(self.rows * self.block * self.positions, np.float32)

    def columns(self, buffer, samples):
        """The first part of ``buffer`` as the columns of ``samples`` samples, (C, kh, kw,
        samples, OH, OW), contiguous."""
        shape = (self.channels,) + tuple(self.kernel) + (samples,) + self.out
        return buffer[:self.rows * samples * self.positions].reshape(shape)

    def im2col(self, x, cols):
        _im2col_range(0, self.channels, 0, x, self.kernel, self.stride, self.dilation, cols)

    def blocks(self, samples):
        return [(a, min(a + self.block, samples)) for a in range(0, samples, self.block)]


def _run(task, blocks, macs):
    """``task(claimed, matmul, part)`` on the kernel threads, ``claimed`` iterating over the
    ``blocks`` that thread claims, one at a time (``parallel_claims``: a thread slowed by other
    processes takes fewer)."""
    parallel_claims(lambda claim, matmul, part:
                    task((blocks[i] for i in iter(claim, None)), matmul, part),
                    len(blocks), macs)


def _by_group(matmul, a, b, out):
    """out[g] = a[g] @ b[g], one 2-D product per group (NumPy's stacked matmul leaves BLAS
    when an operand is a transposed view)."""
    for g in range(a.shape[0]):
        matmul(a[g], b[g], out[g])


def conv2d(x, w, bias, stride, dilation, out, groups):
    """y (N, O, OH, OW) = the convolution of the padded float32 input x (N, C, H, W) with
    w (O, C/groups, kh, kw), plus ``bias`` (O,) if given."""
    x = np.ascontiguousarray(x)
    n, channels = x.shape[:2]
    o = w.shape[0]
    if winograd.applies(w.shape[2:], stride, dilation, groups, out, channels):
        return _winograd(x, w, bias, out)
    geo = _Geometry(channels, w.shape[2:], stride, dilation, out, groups)
    g, length = groups, geo.positions
    wg = np.ascontiguousarray(w).reshape(g, o // g, -1)
    y = np.empty((n, o) + geo.out, np.float32)
    column_bias = None if bias is None else np.asarray(bias, np.float32).reshape(o, 1)

    def task(blocks, matmul, part):
        cols = geo.buffer()
        product = np.empty(o * geo.block * length, np.float32) if geo.block > 1 else None
        for a, b in blocks:
            m = b - a
            block_cols = geo.columns(cols, m)
            geo.im2col(x[a:b], block_cols)
            columns = block_cols.reshape(g, -1, m * length)
            if m == 1:  # the product lands in the sample's rows of y
                rows = y[a].reshape(g, o // g, length)
                _by_group(matmul, wg, columns, rows)
                if column_bias is not None:
                    np.add(y[a].reshape(o, length), column_bias, out=y[a].reshape(o, length))
                continue
            # several samples: (O, m, L) -> (m, O, L), the bias added in the same pass
            into = product[:o * m * length].reshape(o, m * length)
            _by_group(matmul, wg, columns, into.reshape(g, o // g, m * length))
            view = into.reshape(o, m, length).transpose(1, 0, 2)
            target = y[a:b].reshape(m, o, length)
            if column_bias is None:
                target[...] = view
            else:
                np.add(view, column_bias, out=target)

    _run(task, geo.blocks(n), n * o * geo.rows // g * length)
    return y


def _winograd(x, w, bias, out):
    """conv2d's result by ``winograd`` (3x3, stride 1), a sample a block on the kernel
    threads."""
    n, channels = x.shape[:2]
    o = w.shape[0]
    tiles = winograd.Tiles(w.shape, out, w)
    y = np.empty((n, o) + tuple(out), np.float32)
    bias = np.zeros(o, np.float32) if bias is None else np.asarray(bias, np.float32)

    def task(samples, matmul, part):
        buffers = tiles.buffers()
        for a in samples:
            tiles.sample(matmul, x, a, bias, y, buffers)

    _run(task, range(n), n * o * channels * 16 * tiles.tiles)
    return y


def _winograd_weight_grad(x, dy, w_shape):
    """conv2d_weight_grad by ``winograd``: each thread sums its samples' products."""
    n, o = dy.shape[:2]
    tiles = winograd.Tiles(w_shape, dy.shape[2:])
    sums = {}

    def task(samples, matmul, thread):
        buffers = tiles.buffers()
        total = np.zeros((16, w_shape[1], o), np.float32)
        for a in samples:
            tiles.sample_weight_gradient(matmul, x, dy, a, total, buffers)
        sums[thread] = total

    _run(task, range(n), n * o * w_shape[1] * 16 * tiles.tiles)
    return winograd.weight_gradient(sum(sums.values()), w_shape)


def _winograd_input_grad(dy, w, padded):
    """conv2d_input_grad by ``winograd``: the forward's adjoint, a sample a block."""
    n, o = dy.shape[:2]
    tiles = winograd.Tiles(w.shape, dy.shape[2:], w)
    dx = np.empty((n, w.shape[1]) + tuple(padded), np.float32)

    def task(samples, matmul, part):
        buffers = tiles.buffers()
        for a in samples:
            tiles.sample_input_gradient(matmul, dy, a, dx, buffers)

    _run(task, range(n), n * o * w.shape[1] * 16 * tiles.tiles)
    return dx


def conv2d_input_grad(dy, w, stride, dilation, padded, groups):
    """The (N, C, *padded) float32 gradient of a padded input from the output gradient dy
    (N, O, OH, OW): w^T dy per sample, scatter-added at the windows (col2im)."""
    dy = np.ascontiguousarray(dy)
    n, o = dy.shape[:2]
    channels = w.shape[1] * groups
    geo = _Geometry(channels, w.shape[2:], stride, dilation, dy.shape[2:], groups)
    g, length = groups, geo.positions
    if winograd.applies(w.shape[2:], stride, dilation, groups, dy.shape[2:], channels):
        return _winograd_input_grad(dy, w, padded)
    wt = np.ascontiguousarray(w).reshape(g, o // g, -1).transpose(0, 2, 1)
    dx = np.empty((n, channels) + tuple(padded), np.float32)

    def task(blocks, matmul, part):
        cols = geo.buffer()
        grads = np.empty(o * geo.block * length, np.float32) if geo.block > 1 else None
        for a, b in blocks:
            m = b - a
            block_cols = geo.columns(cols, m)
            if m == 1:
                rows = dy[a].reshape(g, o // g, length)
            else:  # (m, O, L) -> (O, m L), the GEMM's right operand
                rows = grads[:o * m * length].reshape(o, m * length)
                rows.reshape(o, m, length)[...] = dy[a:b].reshape(m, o, length).transpose(
                    1, 0, 2)
                rows = rows.reshape(g, o // g, m * length)
            _by_group(matmul, wt, rows, block_cols.reshape(g, -1, m * length))
            dx[a:b] = 0.0
            _col2im_range(0, m, 0, block_cols, geo.kernel, geo.stride, geo.dilation, dx[a:b])

    _run(task, geo.blocks(n), n * o * geo.rows // g * length)
    return dx


def conv2d_weight_grad(x, dy, w_shape, stride, dilation, groups):
    """dw (O, C/groups, kh, kw) = the sum over samples of dy (per group) times the columns of
    the padded float32 input x: each thread sums its samples, then the threads' sums add."""
    x, dy = np.ascontiguousarray(x), np.ascontiguousarray(dy)
    n, channels = x.shape[:2]
    o = dy.shape[1]
    if winograd.applies(w_shape[2:], stride, dilation, groups, dy.shape[2:], channels):
        return _winograd_weight_grad(x, dy, w_shape)
    geo = _Geometry(channels, w_shape[2:], stride, dilation, dy.shape[2:], groups)
    g, length = groups, geo.positions
    sums = {}

    def task(blocks, matmul, thread):
        cols = geo.buffer()
        grads = np.empty(o * geo.block * length, np.float32) if geo.block > 1 else None
        # (computed as cols dy^T, (C kh kw, O) per group: OpenBLAS is slower on dy cols^T,
        # whose long inner dimension meets a short left operand)
        total = np.zeros((g, geo.rows // g, o // g), np.float32)
        part = np.empty_like(total)
        for a, b in blocks:
            m = b - a
            block_cols = geo.columns(cols, m)
            geo.im2col(x[a:b], block_cols)
            if m == 1:
                rows = dy[a].reshape(o, length)
            else:  # (m, O, L) -> (O, m L)
                rows = grads[:o * m * length].reshape(o, m * length)
                rows.reshape(o, m, length)[...] = dy[a:b].reshape(m, o, length).transpose(
                    1, 0, 2)
            _by_group(matmul, block_cols.reshape(g, -1, m * length),
                      rows.reshape(g, o // g, m * length).transpose(0, 2, 1), part)
            total += part
        sums[thread] = total

    _run(task, geo.blocks(n), n * o * geo.rows // g * length)
    dw = sum(sums.values())
    return np.ascontiguousarray(dw.transpose(0, 2, 1)).reshape(w_shape)
