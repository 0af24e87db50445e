"""Convolution as im2col (a strided view of the padded input) plus one batched GEMM.

Three primitives close under differentiation, so gradients of gradients work for free:
``Conv`` (y = x * w), its adjoint in x ``ConvTranspose`` (col2im of w^T dy), and its adjoint in
w ``ConvWeight`` (dy times the columns of x). Each one's backward is written with the others.
All work for any number of spatial dims; the weight always has the convolution layout
(out_channels, in_channels / groups, *kernel), which is also conv_transpose's layout with the
roles of the two channel counts swapped.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import kernels
from ..autograd import grad_mode
from ..autograd.function import Function
from ..kernels.threads import blas_matmul
from ._operands import wrap
from .registry import register


# -- array kernels -----------------------------------------------------------------------------
def windows(padded, kernel, stride, dilation, out):
    """A read-only view (N, C, *kernel, *out) of every window of ``padded`` (no copy)."""
    s = padded.strides
    nd = len(kernel)
    shape = padded.shape[:2] + tuple(kernel) + tuple(out)
    strides = (s[:2] + tuple(s[2 + i] * dilation[i] for i in range(nd))
               + tuple(s[2 + i] * stride[i] for i in range(nd)))
    return as_strided(padded, shape, strides, writeable=False)


def pad_array(array, padding, value=0.0):
    """``array`` with (lo, hi) zeros (or ``value``) around each spatial dim."""
    if not any(lo or hi for lo, hi in padding):
        return array
    return np.pad(array, [(0, 0), (0, 0)] + [tuple(p) for p in padding], constant_values=value)


def _columns(x, kernel, stride, padding, dilation, groups, out):
    """im2col: the (groups, C/groups * prod(kernel), N * prod(out)) matrix of input windows."""
    n, c = x.shape[:2]
    nd = len(kernel)
    win = windows(pad_array(x, padding), kernel, stride, dilation, out)
    win = win.reshape((n, groups, c // groups) + win.shape[2:])
    # (N, G, Cg, *k, *o) -> (G, Cg, *k, N, *o): the one copy of the forward pass
    order = (1, 2) + tuple(range(3, 3 + nd)) + (0,) + tuple(range(3 + nd, 3 + 2 * nd))
    cols = np.ascontiguousarray(win.transpose(order))
    return cols.reshape(groups, -1, n * int(np.prod(out)))


def _group_matmul(a, b):
    """a[g] @ b[g] for every group g. A loop of 2-D products: NumPy's stacked matmul leaves
    BLAS when an operand is a transposed view, and is then several times slower."""
    if a.shape[0] == 1:
        return blas_matmul(a[0], b[0])[None]  # no np.stack copy in the common ungrouped case
    return np.stack([blas_matmul(a[g], b[g]) for g in range(a.shape[0])])


def _grouped(y, groups):
    """(N, O, *o) -> (G, O/G, N * prod(o)), the layout the GEMMs work in."""
    n, o = y.shape[:2]
    grouped = y.reshape(n, groups, o // groups, -1).transpose(1, 2, 0, 3)
    return grouped.reshape(groups, o // groups, -1)


def _conv_whole(x, w, stride, padding, dilation, groups):
    """y[n, o] = sum over the group's channels and the kernel of w * (window of x)."""
    kernel = w.shape[2:]
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], padding))
    out = tuple((p - d * (k - 1) - 1) // st + 1
                for p, k, st, d in zip(padded, kernel, stride, dilation))
    cols = _columns(x, kernel, stride, padding, dilation, groups, out)
    y = _group_matmul(w.reshape(groups, w.shape[0] // groups, -1), cols)
    return y.reshape((w.shape[0], x.shape[0]) + out).swapaxes(0, 1)  # (N, O, *out), a view


def _conv_transpose_whole(y, w, stride, padding, dilation, groups, x_shape):
    """The adjoint of ``conv_array`` in x: scatter-add (col2im) of w^T y into x's shape."""
    n = y.shape[0]
    kernel, out = w.shape[2:], y.shape[2:]
    nd = len(kernel)
    cg = w.shape[1]
    wg = w.reshape(groups, w.shape[0] // groups, -1).transpose(0, 2, 1)
    dcols = _group_matmul(wg, _grouped(y, groups)).reshape((groups, cg) + kernel + (n,) + out)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(x_shape[2:], padding))
    canvas = np.zeros((n, groups, cg) + padded, dtype=dcols.dtype)
    for k in np.ndindex(*kernel):
        target = tuple(slice(k[i] * dilation[i],
                             k[i] * dilation[i] + stride[i] * (out[i] - 1) + 1, stride[i])
                       for i in range(nd))
        canvas[(slice(None),) * 3 + target] += np.moveaxis(dcols[(slice(None),) * 2 + k], 2, 0)
    canvas = canvas.reshape((n, groups * cg) + padded)
    crop = tuple(slice(lo, p - hi) for p, (lo, hi) in zip(padded, padding))
    return np.ascontiguousarray(canvas[(slice(None),) * 2 + crop])


def _conv_weight_whole(x, y, stride, padding, dilation, groups, w_shape):
    """The adjoint of ``conv_array`` in w: dw = dy (grouped) times the im2col columns of x."""
    cols = _columns(x, w_shape[2:], stride, padding, dilation, groups, y.shape[2:])
    # computed as (cols dy^T)^T: OpenBLAS is ~15x slower on dy cols^T, whose long inner
    # dimension (N * L) meets a short left operand
    dw = _group_matmul(cols, _grouped(y, groups).transpose(0, 2, 1)).transpose(0, 2, 1)
    return np.ascontiguousarray(dw).reshape(w_shape)


# -- batches in chunks --------------------------------------------------------------------------
# im2col copies every input element once per kernel position, so a whole batch's column matrix
# can be many times the input (42 MB for the second conv of the MNIST net at batch 64, where
# PyTorch needs none). Every sample is independent (and dw a sum over samples), so batches go
# through in chunks whose columns stay under _CHUNK_BYTES; the GEMMs keep thousands of columns.
# 2 MB rather than more: the columns a chunk writes are read again while still in the cache
# (measured, that conv at one thread: forward 20.8 -> 19.4 ms, input gradient 22.5 -> 18.2,
# weight gradient 23.2 -> 19.2 from 8 MB to 2 MB; 1 MB is no faster). This is the reference
# path; 2-D float32 convolutions take ``kernels/conv.py`` (blocks of samples, on both cores).
_CHUNK_BYTES = 2 << 20


def _chunks(n, w_shape, out, itemsize, groups):
    """(start, stop) sample ranges whose im2col columns fit in _CHUNK_BYTES."""
    per_sample = int(np.prod(w_shape[1:])) * groups * int(np.prod(out)) * itemsize
    size = max(1, _CHUNK_BYTES // max(per_sample, 1))
    return [(start, min(start + size, n)) for start in range(0, n, size)]


def _out_shape(spatial, kernel, stride, padding, dilation):
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(spatial, padding))
    return tuple((p - d * (k - 1) - 1) // st + 1
                 for p, k, st, d in zip(padded, kernel, stride, dilation))


def _fast(a, b, w_shape, groups, out):
    """The kernel module for a 2-D float32 convolution worth it (the work: the size of its
    im2col columns), else None."""
    if len(out) != 2:
        return None
    size = a.shape[0] * int(np.prod(w_shape[1:])) * groups * int(np.prod(out))
    return kernels.load("conv", a, b, size=size)


def conv_array(x, w, stride, padding, dilation, groups, bias=None):
    """y[n, o] = sum over the group's channels and the kernel of w * (window of x) (+ bias)."""
    out = _out_shape(x.shape[2:], w.shape[2:], stride, padding, dilation)
    fast = _fast(x, w, w.shape, groups, out)
    if fast is not None:  # NOTE: by blocks of samples on the kernel threads; below, the reference
        return fast.conv2d(pad_array(x, padding), w, bias, stride, dilation, out, groups)
    y = _conv_chunked(x, w, stride, padding, dilation, groups, out)
    if bias is not None:
        y += bias.reshape(_bias_shape(y.shape[1], y.ndim - 2))
    return y


def _conv_chunked(x, w, stride, padding, dilation, groups, out):
    chunks = _chunks(x.shape[0], w.shape, out, x.itemsize, groups)
    # each chunk's product goes straight into its rows: no list of chunks to concatenate (a
    # second output-sized array at the forward's peak)
    y = np.empty((x.shape[0], w.shape[0]) + out, dtype=np.result_type(x, w))
    for a, b in chunks:
        y[a:b] = _conv_whole(x[a:b], w, stride, padding, dilation, groups)
    return y


def conv_transpose_array(y, w, stride, padding, dilation, groups, x_shape):
    """The adjoint of ``conv_array`` in x: scatter-add (col2im) of w^T y into x's shape."""
    fast = _fast(y, w, w.shape, groups, y.shape[2:])
    if fast is not None:  # NOTE: by blocks of samples on the kernel threads; below, the reference
        padded = tuple(s + lo + hi for s, (lo, hi) in zip(x_shape[2:], padding))
        canvas = fast.conv2d_input_grad(y, w, stride, dilation, padded, groups)
        if not any(lo or hi for lo, hi in padding):
            return canvas
        crop = tuple(slice(lo, p - hi) for p, (lo, hi) in zip(padded, padding))
        return np.ascontiguousarray(canvas[(slice(None),) * 2 + crop])
    chunks = _chunks(y.shape[0], w.shape, y.shape[2:], y.itemsize, groups)
    if len(chunks) == 1:
        return _conv_transpose_whole(y, w, stride, padding, dilation, groups, x_shape)
    x = np.empty(tuple(x_shape), dtype=np.result_type(y, w))
    for a, b in chunks:  # (into its rows, as conv_array)
        x[a:b] = _conv_transpose_whole(y[a:b], w, stride, padding, dilation, groups,
                                       (b - a,) + tuple(x_shape[1:]))
    return x


def conv_weight_array(x, y, stride, padding, dilation, groups, w_shape):
    """The adjoint of ``conv_array`` in w: dw = dy (grouped) times the im2col columns of x."""
    fast = _fast(x, y, w_shape, groups, y.shape[2:])
    if fast is not None:  # NOTE: by blocks of samples on the kernel threads; below, the reference
        return fast.conv2d_weight_grad(pad_array(x, padding), y, w_shape, stride, dilation,
                                       groups)
    chunks = _chunks(x.shape[0], w_shape, y.shape[2:], x.itemsize, groups)
    dw = None
    for a, b in chunks:
        part = _conv_weight_whole(x[a:b], y[a:b], stride, padding, dilation, groups, w_shape)
        dw = part if dw is None else np.add(dw, part, out=dw)
    return dw


def _check_dtypes(op, *tensors):
    dtypes = {t._data.dtype for t in tensors if t is not None}
    if len(dtypes) > 1:
        names = ", ".join(str(t.dtype) for t in tensors if t is not None)
        raise RuntimeError(
            f"{op}: input, weight and bias must have the same dtype, got {names}; convert them "
            "with .to(dtype) (e.g. model.double() or x.float())"
        )


def _bias_shape(channels, nd):
    return (1, channels) + (1,) * nd


def _channel_sum_dims(nd):
    return (0,) + tuple(range(2, 2 + nd))


def _bias_grad(grad_out):
    """A conv's bias gradient: grad_out summed over the batch and space. Unrecorded, on a
    contiguous float array: each (sample, channel) plane summed as one matrix-vector product
    with ones, then the samples. NOTE: NumPy's sum over axes (0, 2, 3) walks the planes
    slowly: measured, 64 x 64 x 24 x 24 float32, 0.60 ms against 0.19."""
    g = grad_out._data
    if grad_mode.is_grad_enabled() or g.dtype.kind != "f" or g.dtype.itemsize < 4 \
            or not g.flags.c_contiguous or g.ndim < 3:
        return grad_out.sum(_channel_sum_dims(grad_out.ndim - 2))
    planes = g.reshape(g.shape[0] * g.shape[1], -1)
    per_sample = np.matmul(planes, np.ones(planes.shape[1], g.dtype))
    return wrap(per_sample.reshape(g.shape[:2]).sum(0))


# -- the three primitives ----------------------------------------------------------------------
class Conv(Function):
    """y = conv(x, w) + b (cross-correlation, as in PyTorch);
    dx = conv_transpose(dy, w),  dw = conv_weight(x, dy),  db = dy summed over batch and space."""

    @staticmethod
    def forward(ctx, input, weight, bias, *, stride, padding, dilation, groups):
        _check_dtypes("conv", input, weight, bias)
        ctx.options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        ctx.save_for_backward(input, weight)
        return wrap(conv_array(input._data, weight._data, stride, padding, dilation, groups,
                               None if bias is None else bias._data))

    @staticmethod
    def backward(ctx, grad_out):
        x, w = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = ConvTranspose.apply(grad_out, w, None, x_shape=x.shape, **ctx.options)
        if ctx.needs_input_grad[1]:
            grad_weight = ConvWeight.apply(x, grad_out, w_shape=w.shape, **ctx.options)
        if ctx.needs_input_grad[2]:
            grad_bias = _bias_grad(grad_out)
        return grad_input, grad_weight, grad_bias


class ConvTranspose(Function):
    """x = conv_transpose(y, w) + b, the adjoint of conv in its input;
    dy = conv(dx, w),  dw = conv_weight(dx, y),  db = dx summed over batch and space."""

    @staticmethod
    def forward(ctx, input, weight, bias, *, stride, padding, dilation, groups, x_shape):
        _check_dtypes("conv_transpose", input, weight, bias)
        ctx.options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        ctx.save_for_backward(input, weight)
        x = conv_transpose_array(input._data, weight._data, stride, padding, dilation, groups,
                                 tuple(x_shape))
        if bias is not None:
            x += bias._data.reshape(_bias_shape(x.shape[1], x.ndim - 2))
        return wrap(x)

    @staticmethod
    def backward(ctx, grad_out):
        y, w = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = Conv.apply(grad_out, w, None, **ctx.options)
        if ctx.needs_input_grad[1]:
            grad_weight = ConvWeight.apply(grad_out, y, w_shape=w.shape, **ctx.options)
        if ctx.needs_input_grad[2]:
            grad_bias = _bias_grad(grad_out)
        return grad_input, grad_weight, grad_bias


class ConvWeight(Function):
    """dw = conv_weight(x, dy), the adjoint of conv in its weight (bilinear in x and dy);
    for an incoming gradient G:  dx = conv_transpose(dy, G),  d(dy) = conv(x, G)."""

    @staticmethod
    def forward(ctx, input, grad_output, *, stride, padding, dilation, groups, w_shape):
        ctx.options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        ctx.save_for_backward(input, grad_output)
        return wrap(conv_weight_array(input._data, grad_output._data, stride, padding, dilation,
                                      groups, tuple(w_shape)))

    @staticmethod
    def backward(ctx, grad_out):
        x, dy = ctx.saved_tensors
        grad_input = grad_grad_output = None
        if ctx.needs_input_grad[0]:
            grad_input = ConvTranspose.apply(dy, grad_out, None, x_shape=x.shape, **ctx.options)
        if ctx.needs_input_grad[1]:
            grad_grad_output = Conv.apply(x, grad_out, None, **ctx.options)
        return grad_input, grad_grad_output


# -- argument handling -------------------------------------------------------------------------
def ntuple(value, n, op, name):
    """An int or a sequence of n ints as a tuple of n ints, or a clear error."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    values = tuple(int(v) for v in value)
    if len(values) == 1:
        return values * n
    if len(values) != n:
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    return values


def _batched(op, input, nd):
    """The input with a batch dim, and whether one was added (PyTorch accepts unbatched)."""
    if input.ndim == nd + 1:
        return input.reshape((1,) + tuple(input.shape)), True
    if input.ndim != nd + 2:
        raise RuntimeError(
            f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input, but got "
            f"input of shape {tuple(input.shape)}"
        )
    return input, False


def _unbatched(output, added):
    return output.reshape(tuple(output.shape)[1:]) if added else output


def conv_padding(op, padding, kernel, stride, dilation):
    """(lo, hi) per spatial dim for an int/tuple/'valid'/'same' padding."""
    nd = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding != "same":
            raise ValueError(f"{op}: padding must be 'valid', 'same', an int or a tuple, got "
                             f"{padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions; "
                             "use stride=1 or give the padding as numbers")
        # PyTorch puts the odd element of an even total padding on the high side
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((p, p) for p in ntuple(padding, nd, op, "padding"))


def _convnd(op, nd, input, weight, bias, stride, padding, dilation, groups):
    x, added = _batched(op, input, nd)
    if weight.ndim != nd + 2:
        raise RuntimeError(f"{op}: weight must be {nd + 2}-D (out_channels, in_channels/groups, "
                           f"*kernel), got shape {tuple(weight.shape)}")
    stride = ntuple(stride, nd, op, "stride")
    dilation = ntuple(dilation, nd, op, "dilation")
    kernel = tuple(weight.shape[2:])
    if x.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(
            f"{op}: expected input of shape {tuple(input.shape)} to have "
            f"{weight.shape[1] * groups} channels (weight {tuple(weight.shape)} with groups="
            f"{groups}), but it has {x.shape[1]}"
        )
    if weight.shape[0] % groups:
        raise RuntimeError(f"{op}: out_channels ({weight.shape[0]}) must be divisible by "
                           f"groups ({groups})")
    pads = conv_padding(op, padding, kernel, stride, dilation)
    for size, (lo, hi), k, d in zip(x.shape[2:], pads, kernel, dilation):
        if size + lo + hi < d * (k - 1) + 1:
            raise RuntimeError(
                f"{op}: input of shape {tuple(input.shape)} (padded by {pads}) is smaller than "
                f"the kernel {kernel} with dilation {dilation}; pad it or use a smaller kernel"
            )
    y = Conv.apply(x, weight, bias, stride=stride, padding=pads, dilation=dilation,
                   groups=groups)
    return _unbatched(y, added)


def _conv_transposend(op, nd, input, weight, bias, stride, padding, output_padding, groups,
                      dilation):
    x, added = _batched(op, input, nd)
    if weight.ndim != nd + 2:
        raise RuntimeError(f"{op}: weight must be {nd + 2}-D (in_channels, out_channels/groups, "
                           f"*kernel), got shape {tuple(weight.shape)}")
    if x.shape[1] != weight.shape[0]:
        raise RuntimeError(
            f"{op}: expected input of shape {tuple(input.shape)} to have {weight.shape[0]} "
            f"channels (weight {tuple(weight.shape)}), but it has {x.shape[1]}"
        )
    stride = ntuple(stride, nd, op, "stride")
    dilation = ntuple(dilation, nd, op, "dilation")
    padding = ntuple(padding, nd, op, "padding")
    output_padding = ntuple(output_padding, nd, op, "output_padding")
    kernel = tuple(weight.shape[2:])
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ >= s and op_ >= d:
            raise ValueError(f"{op}: output padding must be smaller than either stride or "
                             f"dilation, got output_padding={output_padding}, stride={stride}, "
                             f"dilation={dilation}")
    spatial = tuple((i - 1) * s - 2 * p + d * (k - 1) + o + 1 for i, s, p, d, k, o in
                    zip(x.shape[2:], stride, padding, dilation, kernel, output_padding))
    if any(s <= 0 for s in spatial):
        raise RuntimeError(f"{op}: the output size {spatial} would not be positive; reduce the "
                           "padding")
    x_shape = (x.shape[0], weight.shape[1] * groups) + spatial
    y = ConvTranspose.apply(x, weight, bias, stride=stride, padding=tuple((p, p) for p in padding),
                            dilation=dilation, groups=groups, x_shape=x_shape)
    return _unbatched(y, added)


# -- public functions --------------------------------------------------------------------------
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) over (N, C, L) with weight (O, C/groups, k)."""
    return _convnd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) over (N, C, H, W) with weight (O, C/groups, kh, kw)."""
    return _convnd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution (cross-correlation) over (N, C, D, H, W)."""
    return _convnd("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-D transposed convolution over (N, C_in, L) with weight (C_in, C_out/groups, k)."""
    return _conv_transposend("conv_transpose1d", 1, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution over (N, C_in, H, W) with weight (C_in, C_out/groups, kh, kw)."""
    return _conv_transposend("conv_transpose2d", 2, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """3-D transposed convolution over (N, C_in, D, H, W)."""
    return _conv_transposend("conv_transpose3d", 3, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


# -- registration: chainrule.X and nn.functional.X --------------------------------------------
register(conv1d, Conv, ConvWeight, method=False, functional=True)
register(conv2d, Conv, ConvWeight, method=False, functional=True)
register(conv3d, Conv, ConvWeight, method=False, functional=True)
register(conv_transpose1d, ConvTranspose, ConvWeight, method=False, functional=True)
register(conv_transpose2d, ConvTranspose, ConvWeight, method=False, functional=True)
register(conv_transpose3d, ConvTranspose, ConvWeight, method=False, functional=True)
