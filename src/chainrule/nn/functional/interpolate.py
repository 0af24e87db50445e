"""Resizing: ``interpolate`` (nearest, nearest-exact, linear, bilinear, bicubic, trilinear,
area) and its deprecated ``upsample*`` forms.

Every mode except 'area' is separable: each output coordinate along a spatial dim reads a few
input coordinates with fixed weights. Nearest modes gather (``index_select``); the others
multiply by an (out, in) weight matrix along each dim (a differentiable matmul, so gradients
and gradients of gradients come from the existing ops). Coordinates follow PyTorch's kernels,
including their float32 scale in the nearest modes."""

import math
import warnings

import numpy as np

from ..._dtypes import is_float
from ...ops import pooling
from ...ops.registry import register
from ...tensor import Tensor

_LINEAR_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_CUBIC_A = -0.75  # PyTorch's (and OpenCV's) bicubic convolution constant


def _output_sizes(input, size, scale_factor, dims):
    """The output spatial sizes and the per-dim scales to pass to the kernels (None: in/out)."""
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    spatial = tuple(input.shape[2:])
    if size is not None:
        sizes = (size,) * dims if isinstance(size, int) else tuple(size)
        if len(sizes) != dims:
            raise ValueError(f"Input and output must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(spatial)} and output size of {list(sizes)}. Please provide "
                             f"input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                             f"(o1, o2, ...,oK) format.")
        return tuple(int(s) for s in sizes), (None,) * dims
    factors = ((scale_factor,) * dims if isinstance(scale_factor, (int, float))
               else tuple(scale_factor))
    if len(factors) != dims:
        raise ValueError(f"Input and scale_factor must have the same number of spatial "
                         f"dimensions, but got input with spatial dimensions of {list(spatial)} "
                         f"and scale_factor of shape {list(factors)}.")
    sizes = tuple(math.floor(float(n) * float(f)) for n, f in zip(spatial, factors))
    return sizes, tuple(float(f) for f in factors)


def _nearest_index(in_size, out_size, scale, exact):
    """PyTorch's nearest source index, computed in float32 as its kernel does."""
    dst = np.arange(out_size)
    if out_size == in_size:
        return dst
    if out_size == 2 * in_size and not exact:
        return dst >> 1
    step = np.float32(1.0 / scale if scale else in_size / out_size)
    position = (dst.astype(np.float32) + np.float32(0.5)) if exact else dst.astype(np.float32)
    return np.minimum(np.floor(position * step).astype(np.int64), in_size - 1)


def _source(in_size, out_size, scale, align_corners, cubic):
    """The real-valued source coordinate of each output coordinate (float64)."""
    dst = np.arange(out_size, dtype=np.float64)
    if align_corners:
        step = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
        return dst * step
    step = 1.0 / scale if scale else in_size / out_size
    src = (dst + 0.5) * step - 0.5
    return src if cubic else np.maximum(src, 0.0)


def _linear_matrix(in_size, out_size, scale, align_corners):
    src = _source(in_size, out_size, scale, align_corners, cubic=False)
    low = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    high = np.minimum(low + 1, in_size - 1)
    weight_high = src - low
    matrix = np.zeros((out_size, in_size))
    rows = np.arange(out_size)
    np.add.at(matrix, (rows, low), 1.0 - weight_high)
    np.add.at(matrix, (rows, high), weight_high)
    return matrix


def _cubic_weights(t):
    """The four cubic-convolution weights for taps at -1, 0, 1, 2 around fraction t."""
    a = _CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)


def _cubic_matrix(in_size, out_size, scale, align_corners):
    src = _source(in_size, out_size, scale, align_corners, cubic=True)
    base = np.floor(src).astype(np.int64)
    weights = _cubic_weights(src - base)
    matrix = np.zeros((out_size, in_size))
    rows = np.arange(out_size)
    for tap, weight in zip(range(-1, 3), weights):
        np.add.at(matrix, (rows, np.clip(base + tap, 0, in_size - 1)), weight)  # edge clamp
    return matrix


def _antialias_matrix(in_size, out_size, scale, align_corners, cubic):
    """PyTorch's (and PIL's) antialiased weights: a triangle (bilinear) or a = -0.5 cubic
    (bicubic) filter around each output pixel's centre, stretched by the step when
    downsampling, each row normalised to sum to 1 (so the edges renormalise instead of
    clamping)."""
    if align_corners:
        step = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    else:
        step = 1.0 / scale if scale else in_size / out_size
    # the filter's half-width in input pixels, widened by the step when downsampling
    half = (2.0 if cubic else 1.0) * max(step, 1.0)
    stretch = step if step >= 1.0 else 1.0
    matrix = np.zeros((out_size, in_size))
    for i in range(out_size):
        center = step * (i + 0.5)
        low = max(int(center - half + 0.5), 0)
        high = min(int(center + half + 0.5), in_size)
        x = (np.arange(low, high) - center + 0.5) / stretch
        weights = _aa_cubic(x) if cubic else np.maximum(0.0, 1.0 - np.abs(x))
        total = weights.sum()
        matrix[i, low:high] = weights / total if total else weights
    return matrix


def _aa_cubic(x):
    """The cubic convolution kernel with a = -0.5 (PyTorch's antialiased bicubic)."""
    a, x = -0.5, np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x < 1, near, np.where(x < 2, far, 0.0))


def _along(x, dim, matrix):
    """Contract spatial dim ``dim`` of ``x`` with ``matrix`` (out, in)."""
    weights = Tensor._from_array(matrix.T.astype(x._data.dtype))
    return (x.movedim(dim, -1) @ weights).movedim(-1, dim)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of (N, C, d1, ...) to ``size`` or by ``scale_factor``.

    >>> F.interpolate(chainrule.randn(1, 3, 8, 8), scale_factor=2, mode="bilinear").shape
    chainrule.Size([1, 3, 16, 16])
    """
    modes = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
    if mode not in modes:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.dim()}D) for the modes: nearest | linear | "
                                  f"bilinear | bicubic | trilinear | area | nearest-exact "
                                  f"(got {mode})")
    dims = input.dim() - 2
    if dims not in (1, 2, 3):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.dim()}D) for the modes: nearest | linear | "
                                  f"bilinear | bicubic | trilinear | area | nearest-exact "
                                  f"(got {mode})")
    if mode in _LINEAR_DIMS and _LINEAR_DIMS[mode] != dims:
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs "
                                  f"{_LINEAR_DIMS[mode] + 2}D input")
    if align_corners is not None and mode not in _LINEAR_DIMS:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias and mode not in ("bilinear", "bicubic"):
        raise ValueError(f"Anti-alias option is restricted to bilinear and bicubic modes and "
                         f"requires a 4-D tensor as input, got mode={mode!r}")
    align_corners = bool(align_corners)
    sizes, scales = _output_sizes(input, size, scale_factor, dims)
    if any(s <= 0 for s in sizes):
        raise ValueError(f"interpolate: the output size {sizes} must be positive")
    if recompute_scale_factor:
        scales = (None,) * dims  # the kernels then use in/out, as PyTorch does
    if not is_float(input._data.dtype) and mode != "nearest" and mode != "nearest-exact":
        raise RuntimeError(f"interpolate: mode {mode!r} needs a floating point input, got "
                           f"{input.dtype}")
    if mode == "area":
        return pooling.adaptive_avg_poolnd("interpolate", dims, input, sizes)
    out = input
    for axis, (in_size, out_size, scale) in enumerate(zip(input.shape[2:], sizes, scales),
                                                      start=2):
        if mode in ("nearest", "nearest-exact"):
            index = _nearest_index(in_size, out_size, scale, mode == "nearest-exact")
            out = out.index_select(axis, Tensor._from_array(index))
        elif antialias:
            out = _along(out, axis, _antialias_matrix(in_size, out_size, scale, align_corners,
                                                      mode == "bicubic"))
        elif mode == "bicubic":
            out = _along(out, axis, _cubic_matrix(in_size, out_size, scale, align_corners))
        else:
            out = _along(out, axis, _linear_matrix(in_size, out_size, scale, align_corners))
    return out


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated: ``interpolate`` (with PyTorch's warning)."""
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    warnings.warn("nn.functional.upsample_nearest is deprecated. Use "
                  "nn.functional.interpolate instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    warnings.warn("nn.functional.upsample_bilinear is deprecated. Use "
                  "nn.functional.interpolate instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


register(interpolate, top=False, method=False, functional=True)
register(upsample, top=False, method=False, functional=True)
register(upsample_nearest, top=False, method=False, functional=True)
register(upsample_bilinear, top=False, method=False, functional=True)
