"""More pooling, built on ``pooling``'s gather/scatter primitives: adaptive max pooling,
fractional max pooling, max unpooling and power-average (LP) pooling.

Max poolings find each window's argmax on arrays and then gather with ``MaxPool`` (whose
backward scatters with ``MaxPoolGrad``); unpooling scatters with ``MaxPoolGrad`` (whose
backward gathers). Indices are flat positions within each sample's spatial plane, as PyTorch
returns them."""

import numpy as np

from ..random import numpy_generator
from ._operands import wrap
from .conv import ntuple
from .pooling import MaxPool, MaxPoolGrad, _batched, _global, _unbatched, avg_poolnd
from .registry import register


def _gathered(x, plane, values, added, return_indices):
    """The pooled values through MaxPool (so gradients flow), with the indices if asked."""
    out = _unbatched(MaxPool.apply(x, index=_global(plane, x._data.shape), values=values), added)
    if return_indices:
        return out, _unbatched(wrap(plane), added)
    return out


# -- adaptive max pooling ------------------------------------------------------------------------
def _adaptive_max_poolnd(op, nd, input, output_size, return_indices):
    x, added = _batched(op, input, nd)
    spatial = tuple(x.shape[2:])
    sizes = (output_size,) * nd if isinstance(output_size, (int, type(None))) else output_size
    if len(sizes) != nd:
        raise ValueError(f"{op}: output_size must be an int or a tuple of {nd}, got "
                         f"{output_size!r}")
    sizes = tuple(s if o is None else int(o) for s, o in zip(spatial, sizes))
    if any(o <= 0 for o in sizes) or any(s == 0 for s in spatial):
        raise RuntimeError(f"{op}: output_size {sizes} and the input's spatial size {spatial} "
                           "must be positive")
    data = x._data
    values = np.empty(data.shape[:2] + sizes, dtype=data.dtype)
    plane = np.empty(data.shape[:2] + sizes, dtype=np.int64)
    strides = [int(np.prod(spatial[i + 1:])) for i in range(nd)]
    for position in np.ndindex(*sizes):
        # window i along a dim of n: [floor(i n / o), ceil((i + 1) n / o))
        starts = [(i * n) // o for i, n, o in zip(position, spatial, sizes)]
        ends = [-(-((i + 1) * n) // o) for i, n, o in zip(position, spatial, sizes)]
        window = data[(slice(None),) * 2 + tuple(slice(a, b) for a, b in zip(starts, ends))]
        flat = window.reshape(data.shape[:2] + (-1,))
        local = flat.argmax(axis=-1)  # the first maximum; NaN counts as the maximum
        where = np.unravel_index(local, window.shape[2:])
        plane[(slice(None),) * 2 + position] = sum(
            (start + offset) * stride for start, offset, stride in zip(starts, where, strides))
        values[(slice(None),) * 2 + position] = np.take_along_axis(flat, local[..., None],
                                                                   -1)[..., 0]
    return _gathered(x, plane, values, added, return_indices)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling of (N, C, L) to exactly ``output_size`` positions."""
    return _adaptive_max_poolnd("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling of (N, C, H, W) to exactly ``output_size`` (None keeps that dim)."""
    return _adaptive_max_poolnd("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling of (N, C, D, H, W) to exactly ``output_size``."""
    return _adaptive_max_poolnd("adaptive_max_pool3d", 3, input, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return adaptive_max_pool1d(input, output_size, return_indices=True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return adaptive_max_pool2d(input, output_size, return_indices=True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    return adaptive_max_pool3d(input, output_size, return_indices=True)


# -- fractional max pooling ----------------------------------------------------------------------
def _intervals(sample, in_size, out_size, pool):
    """PyTorch's pseudo-random window starts for one plane: (i + u) alpha - u alpha, truncated,
    with alpha = (in - pool) / (out - 1); the last window ends at the input's end."""
    sample = np.asarray(sample)
    starts = np.empty(sample.shape + (out_size,), dtype=np.int64)
    if out_size > 1:
        alpha = (in_size - pool) / (out_size - 1)
        i = np.arange(out_size - 1)
        starts[..., :-1] = (np.trunc((i + sample[..., None]) * alpha).astype(np.int64)
                            - np.trunc(sample * alpha).astype(np.int64)[..., None])
    starts[..., -1] = in_size - pool
    return starts


def _fractional_max_poolnd(op, nd, input, kernel_size, output_size, output_ratio,
                           return_indices, samples):
    x, added = _batched(op, input, nd)
    kernel = ntuple(kernel_size, nd, op, "kernel_size")
    spatial = tuple(x.shape[2:])
    if output_size is None:
        if output_ratio is None:
            raise ValueError("fractional_max_pool requires specifying either an output_size "
                             "or an output_ratio")
        ratio = ((output_ratio,) * nd if isinstance(output_ratio, (int, float))
                 else tuple(output_ratio))
        output_size = tuple(int(n * r) for n, r in zip(spatial, ratio))
    sizes = ntuple(output_size, nd, op, "output_size")
    for n, k, o in zip(spatial, kernel, sizes):
        if o + k - 1 > n:
            raise RuntimeError(f"{op}: output size {sizes} with kernel {kernel} is too large "
                               f"for the input's spatial size {spatial}")
    n_batch, channels = x.shape[:2]
    if samples is None:
        samples = numpy_generator().random((n_batch, channels, nd)).astype(x._data.dtype)
    else:
        samples = samples._data if hasattr(samples, "_data") else np.asarray(samples)
    # PyTorch's kernels read the samples in reverse dim order for 2-D (w, h), in order for 3-D
    order = (1, 0) if nd == 2 else (0, 1, 2)
    data = x._data.reshape(n_batch * channels, -1)
    flat = np.zeros((n_batch * channels,) + sizes + kernel, dtype=np.int64)
    strides = [int(np.prod(spatial[i + 1:])) for i in range(nd)]
    for axis in range(nd):
        starts = _intervals(samples[:, :, order[axis]].reshape(-1), spatial[axis], sizes[axis],
                            kernel[axis])  # (planes, out)
        offsets = starts[..., None] + np.arange(kernel[axis])  # (planes, out, k)
        shape = [n_batch * channels] + [1] * (2 * nd)
        shape[1 + axis], shape[1 + nd + axis] = sizes[axis], kernel[axis]
        flat = flat + (offsets * strides[axis]).reshape(shape)
    windows = np.take_along_axis(data, flat.reshape(n_batch * channels, -1), 1)
    windows = windows.reshape((n_batch * channels,) + sizes + (-1,))
    local = windows.argmax(axis=-1)
    plane = np.take_along_axis(flat.reshape((n_batch * channels,) + sizes + (-1,)),
                               local[..., None], -1)[..., 0]
    values = np.take_along_axis(windows, local[..., None], -1)[..., 0]
    shape = (n_batch, channels) + sizes
    return _gathered(x, plane.reshape(shape), values.reshape(shape), added, return_indices)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Max pooling of (N, C, H, W) over pseudo-randomly placed windows (Graham, 2014)."""
    return _fractional_max_poolnd("fractional_max_pool2d", 2, input, kernel_size, output_size,
                                  output_ratio, return_indices, _random_samples)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Max pooling of (N, C, D, H, W) over pseudo-randomly placed windows."""
    return _fractional_max_poolnd("fractional_max_pool3d", 3, input, kernel_size, output_size,
                                  output_ratio, return_indices, _random_samples)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None,
                                       output_ratio=None, return_indices=False,
                                       _random_samples=None):
    return fractional_max_pool2d(input, kernel_size, output_size, output_ratio, True,
                                 _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None,
                                       output_ratio=None, return_indices=False,
                                       _random_samples=None):
    return fractional_max_pool3d(input, kernel_size, output_size, output_ratio, True,
                                 _random_samples)


# -- max unpooling -------------------------------------------------------------------------------
def _max_unpoolnd(op, nd, input, indices, kernel_size, stride, padding, output_size):
    x, added = _batched(op, input, nd)
    kernel = ntuple(kernel_size, nd, op, "kernel_size")
    stride = kernel if stride is None else ntuple(stride, nd, op, "stride")
    padding = ntuple(padding, nd, op, "padding")
    default = tuple((n - 1) * s - 2 * p + k for n, s, p, k in
                    zip(x.shape[2:], stride, padding, kernel))
    if output_size is None:
        sizes = default
    else:
        sizes = tuple(int(s) for s in tuple(output_size)[-nd:])
        for size, want, s in zip(sizes, default, stride):
            if not want - s < size < want + s:
                raise ValueError(f"{op}: invalid output_size {tuple(output_size)} (dim size "
                                 f"{size} must be between {want - s} and {want + s})")
    index = indices._data if hasattr(indices, "_data") else np.asarray(indices)
    index = index.reshape(x._data.shape).astype(np.int64)
    plane_size = int(np.prod(sizes))
    if index.size and (index.min() < 0 or index.max() >= plane_size):
        raise RuntimeError(f"{op}: Found an invalid max index: {int(index.max())} (output "
                           f"volumes are of size {'x'.join(map(str, sizes))})")
    shape = tuple(x.shape[:2]) + sizes
    out = MaxPoolGrad.apply(x, index=_global(index, shape), input_shape=shape)
    return _unbatched(out, added)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Place each value of (N, C, L) at its index in a zero output: the inverse of
    ``max_pool1d`` with ``return_indices``."""
    return _max_unpoolnd("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                         output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Place each value of (N, C, H, W) at its index in a zero output."""
    return _max_unpoolnd("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                         output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Place each value of (N, C, D, H, W) at its index in a zero output."""
    return _max_unpoolnd("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                         output_size)


# -- power-average pooling -----------------------------------------------------------------------
def _lp_poolnd(op, nd, input, norm_type, kernel_size, stride, ceil_mode):
    kernel = ntuple(kernel_size, nd, op, "kernel_size")
    out = avg_poolnd(op, nd, input.pow(norm_type), kernel, stride, 0, ceil_mode, True, None)
    return (out.sign() * out.abs().relu() * int(np.prod(kernel))).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum of x^p over each window)^(1/p) for (N, C, L)."""
    return _lp_poolnd("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum of x^p over each window)^(1/p) for (N, C, H, W)."""
    return _lp_poolnd("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum of x^p over each window)^(1/p) for (N, C, D, H, W)."""
    return _lp_poolnd("lp_pool3d", 3, input, norm_type, kernel_size, stride, ceil_mode)


register(adaptive_max_pool1d, top=False, method=False, functional=True)
register(adaptive_max_pool2d, top=False, method=False, functional=True)
register(adaptive_max_pool3d, top=False, method=False, functional=True)
register(adaptive_max_pool1d_with_indices, top=False, method=False, functional=True)
register(adaptive_max_pool2d_with_indices, top=False, method=False, functional=True)
register(adaptive_max_pool3d_with_indices, top=False, method=False, functional=True)
register(fractional_max_pool2d, top=False, method=False, functional=True)
register(fractional_max_pool3d, top=False, method=False, functional=True)
register(fractional_max_pool2d_with_indices, top=False, method=False, functional=True)
register(fractional_max_pool3d_with_indices, top=False, method=False, functional=True)
register(max_unpool1d, top=False, method=False, functional=True)
register(max_unpool2d, top=False, method=False, functional=True)
register(max_unpool3d, top=False, method=False, functional=True)
register(lp_pool1d, top=False, method=False, functional=True)
register(lp_pool2d, top=False, method=False, functional=True)
register(lp_pool3d, top=False, method=False, functional=True)
