"""2-D max pooling without padding: each window's maximum and where it is, in one pass; and
its backward, a scatter of the gradient to those places. Reference: ``ops/pooling.py``
(``_max_indices``, ``MaxPoolGrad``)."""

import numpy as np

from ._jit import jit
from .threads import parallel_ranges


@jit
def _max_pool_range(start, stop, part, x, kernel, stride, dilation, values, index):
    """Planes [start, stop) of x (planes, H, W): values and flat in-plane indices (planes,
    OH, OW), for windows one column apart (stride 1 along W). The first maximum wins a tie; a
    NaN counts as the maximum (the first NaN), as np.argmax does.

    One kernel position after another over a whole output row, so that the innermost loop runs
    along the row and vectorises; offsets are unsigned (a signed index costs a wraparound check
    that stops vectorisation). Measured, 3x3 windows over 64x64x24x24: one window at a time
    66 ms, this 8 ms, the NumPy reference 35 ms. With a stride the row loads are gathers and
    rows are short: the reference is as fast there (2x2 windows, stride 2: 4.7 ms), so
    such windows take ``_max_pool_2x2_range`` or the reference."""
    u = np.uint64
    planes, height, width = x.shape
    out_h, out_w = values.shape[1], values.shape[2]
    flat_x, flat_values, flat_index = x.reshape(-1), values.reshape(-1), index.reshape(-1)
    for plane in range(start, stop):
        for oh in range(out_h):
            out0 = u((plane * out_h + oh) * out_w)
            for ki in range(kernel[0]):
                row = oh * stride[0] + ki * dilation[0]
                for kj in range(kernel[1]):
                    base = row * width + kj * dilation[1]
                    in0 = u(plane * height * width + base)
                    if ki == 0 and kj == 0:
                        for ow in range(out_w):
                            flat_values[out0 + u(ow)] = flat_x[in0 + u(ow)]
                            flat_index[out0 + u(ow)] = ow + base
                        continue
                    for ow in range(out_w):
                        v, best = flat_x[in0 + u(ow)], flat_values[out0 + u(ow)]
                        if v > best or (v != v and best == best):
                            flat_values[out0 + u(ow)] = v
                            flat_index[out0 + u(ow)] = ow + base


@jit
def _max_pool_2x2_range(start, stop, part, x, kernel, stride, dilation, values, index):
    """``_max_pool_range`` for 2x2 windows with any stride and dilation: one window at a time,
    its four positions unrolled (a loop bound known only at run time is not unrolled, and
    that loop is then 2x slower), branch-free selects. Measured, 2x2 windows with stride 2
    over 64x64x24x24: 3.1 ms, the NumPy reference 4.7 ms (the row kernel's gathers 9 ms)."""
    planes, height, width = x.shape
    out_h, out_w = values.shape[1], values.shape[2]
    flat_x, flat_values, flat_index = x.reshape(-1), values.reshape(-1), index.reshape(-1)
    for plane in range(start, stop):
        first = plane * height * width
        o = plane * out_h * out_w
        for oh in range(out_h):
            for ow in range(out_w):
                top, left = oh * stride[0], ow * stride[1]
                where = top * width + left
                best = flat_x[first + where]
                for ki in range(2):
                    for kj in range(2):
                        at = (top + ki * dilation[0]) * width + left + kj * dilation[1]
                        v = flat_x[first + at]
                        take = (v > best) | ((v != v) & (best == best))
                        best = v if take else best
                        where = at if take else where
                flat_values[o] = best
                flat_index[o] = where
                o += 1


@jit
def _max_pool_halving_range(start, stop, part, x, values, which):
    """Planes [start, stop) of x (planes, H, W) in 2x2 windows two apart (no overlap): the
    maxima, and which of the window's four places holds it (0, 1 top row, 2, 3 bottom), the
    first on a tie, the first NaN if any, as the reference.

    ``which`` is float32: with a uint8 or int32 code the selects mix integer and float lanes
    and LLVM's vectorised loop is 2-5x slower (measured, 64 x 64 planes of 24 x 24: uint8
    3.1 ms, float32 1.6 ms; ``_max_pool_2x2_range`` 16 ms; PyTorch's max_pool2d_with_indices
    16 ms at one thread). The maximum is found first and its place after, by equality: a
    running index would be a second dependent chain of selects."""
    u = np.uint64
    f = np.float32
    height, width = x.shape[1], x.shape[2]
    out_h, out_w = values.shape[1], values.shape[2]
    flat_x, flat_values, flat_which = x.reshape(-1), values.reshape(-1), which.reshape(-1)
    for plane in range(start, stop):
        for oh in range(out_h):
            top = u(plane * height * width + 2 * oh * width)
            bottom = top + u(width)
            out0 = u((plane * out_h + oh) * out_w)
            for ow in range(out_w):
                j = u(2 * ow)
                a, b = flat_x[top + j], flat_x[top + j + u(1)]
                c, d = flat_x[bottom + j], flat_x[bottom + j + u(1)]
                m = b if (b > a) | (b != b) else a  # (NaN wins, and stays)
                m = c if (c > m) | (c != c) else m
                m = d if (d > m) | (d != d) else m
                # (m NaN: the first NaN; else the first equal to m, no NaN among them)
                k = f(3.0)
                k = f(2.0) if (c == m) | (c != c) else k
                k = f(1.0) if (b == m) | (b != b) else k
                k = f(0.0) if (a == m) | (a != a) else k
                flat_values[out0 + u(ow)] = m
                flat_which[out0 + u(ow)] = k


@jit
def _max_pool_halving_backward_range(start, stop, part, which, dy, dx):
    """Planes [start, stop): every element of dx (planes, H, W) written once, the window's
    gradient at the place ``which`` names and zero elsewhere (no zero fill first, no scatter);
    a last odd row or column, in no window, is zero. Measured, the planes above: 1.5 ms, the
    zero fill and scatter at int32 indices 3-4 ms."""
    u = np.uint64
    f = np.float32
    zero = f(0.0)
    height, width = dx.shape[1], dx.shape[2]
    out_h, out_w = dy.shape[1], dy.shape[2]
    flat_dx, flat_dy, flat_which = dx.reshape(-1), dy.reshape(-1), which.reshape(-1)
    for plane in range(start, stop):
        first = u(plane * height * width)
        for oh in range(out_h):
            top = first + u(2 * oh * width)
            bottom = top + u(width)
            out0 = u((plane * out_h + oh) * out_w)
            for ow in range(out_w):
                k, g = flat_which[out0 + u(ow)], flat_dy[out0 + u(ow)]
                j = u(2 * ow)
                flat_dx[top + j] = g if k == f(0.0) else zero
                flat_dx[top + j + u(1)] = g if k == f(1.0) else zero
                flat_dx[bottom + j] = g if k == f(2.0) else zero
                flat_dx[bottom + j + u(1)] = g if k == f(3.0) else zero
            if width > 2 * out_w:
                flat_dx[top + u(width - 1)] = zero
                flat_dx[bottom + u(width - 1)] = zero
        if height > 2 * out_h:
            for j in range(width):
                flat_dx[first + u((height - 1) * width + j)] = zero


def halving(kernel, stride, dilation):
    """Whether these are the windows of ``max_pool_halving``: 2x2, two apart, no dilation."""
    return tuple(kernel) == (2, 2) and tuple(stride) == (2, 2) and tuple(dilation) == (1, 1)


def max_pool_halving(x):
    """(which, maxima) of the 2x2 windows two apart of a float32 (N, C, H, W) array (no
    padding): ``which`` (float32, (N, C, H // 2, W // 2)) says where in its window each
    maximum is, 0 and 1 along the top row, 2 and 3 along the bottom one."""
    n, c, h, w = x.shape
    planes = np.ascontiguousarray(x).reshape(n * c, h, w)
    values = np.empty((n * c, h // 2, w // 2), np.float32)
    which = np.empty_like(values)
    parallel_ranges(_max_pool_halving_range, n * c, h * w, planes, values, which)
    return which.reshape(n, c, h // 2, w // 2), values.reshape(n, c, h // 2, w // 2)


def max_pool_halving_backward(which, dy, input_shape):
    """The (N, C, H, W) gradient of ``max_pool_halving``'s input from that of its maxima."""
    n, c, h, w = input_shape
    dx = np.empty((n * c, h, w), np.float32)
    out = which.shape[2:]
    parallel_ranges(_max_pool_halving_backward_range, n * c, h * w,
                    which.reshape((n * c,) + out), np.ascontiguousarray(dy).reshape(
                        (n * c,) + out), dx)
    return dx.reshape(input_shape)


def supported(kernel, stride):
    """Whether a kernel here is faster than the reference for these windows (2-D, unpadded):
    2x2 windows, or windows one column apart."""
    return tuple(kernel) == (2, 2) or stride[1] == 1


def max_pool2d(x, kernel, stride, dilation, out):
    """(in-plane argmax indices as int64, maxima) of every window of a float32 (N, C, H, W)
    array, no padding, where ``supported``; ``out`` is the output's (OH, OW)."""
    n, c, h, w = x.shape
    planes = np.ascontiguousarray(x).reshape(n * c, h, w)
    values = np.empty((n * c,) + tuple(out), np.float32)
    index = np.empty((n * c,) + tuple(out), np.int64)
    kernel_range = _max_pool_range if stride[1] == 1 else _max_pool_2x2_range
    parallel_ranges(kernel_range, n * c, h * w, planes, np.asarray(kernel, np.int64),
                    np.asarray(stride, np.int64), np.asarray(dilation, np.int64), values, index)
    return index.reshape((n, c) + tuple(out)), values.reshape((n, c) + tuple(out))


@jit
def _scatter_range(start, stop, part, index, values, out):
    index, values = index[start:stop], values[start:stop]
    for i in range(index.size):
        out[index[i]] = values[i]


@jit
def _scatter_add(index, values, out):
    for i in range(index.size):
        out[index[i]] += values[i]


def scatter(index, values, size, disjoint):
    """A zero float32 vector of ``size`` with ``values`` written (``disjoint``: the indices are
    distinct, so ranges can go in parallel) or added at the flat ``index``."""
    out = np.zeros(size, np.float32)
    flat_index, flat_values = index.reshape(-1), np.ascontiguousarray(values).reshape(-1)
    if disjoint:
        parallel_ranges(_scatter_range, flat_index.size, 1, flat_index, flat_values, out)
    else:
        _scatter_add(flat_index, flat_values, out)
    return out
