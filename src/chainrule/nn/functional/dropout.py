"""Dropout: zero elements at random while training, scaling the rest by 1 / (1 - p)."""

import warnings

import numpy as np

from ...ops.inplace import modify_in_place
from ...ops.registry import register
from ...random import numpy_generator
from ...tensor import Tensor

# SELU's negative saturation value, -scale * alpha: what alpha dropout sets dropped units to
_ALPHA_PRIME = -1.7580993408473766


def _check_p(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` (drawn from the default generator) and scale
    the kept ones by 1 / (1 - p), so the expected value is unchanged; identity when not
    ``training``."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    data = input._data
    if p == 1.0:
        scale = np.zeros(data.shape, dtype=data.dtype)
    else:
        draws = numpy_generator().random(data.shape, dtype=np.float32)
        scale = (draws >= p).astype(data.dtype) * np.asarray(1.0 / (1.0 - p), dtype=data.dtype)
    mask = Tensor._from_array(scale)  # a constant: the gradient is dy * mask
    if inplace:
        return modify_in_place(input, lambda x: x * mask)
    return input * mask


def _keep_mask(shape, p, dtype):
    """1 where a unit is kept (probability 1 - p), 0 where it is dropped."""
    return (numpy_generator().random(shape, dtype=np.float32) >= p).astype(dtype)


def _channel_shape(op, input, batched_ndim):
    """The mask's shape for channel-wise dropout: (N, C, 1, ...) or (C, 1, ...) unbatched."""
    ndim = input.dim()
    if ndim not in (batched_ndim - 1, batched_ndim):
        raise RuntimeError(
            f"{op}: Expected {batched_ndim - 1}D or {batched_ndim}D input, but received a "
            f"{ndim}D input. Feature dropout zeroes whole channels: (N, C, ...) or (C, ...)")
    channels = 2 if ndim == batched_ndim else 1
    return tuple(input.shape[:channels]) + (1,) * (ndim - channels)


def _feature_dropout(input, p, training, inplace, shape):
    _check_p(p)
    if not training or p == 0.0:
        return input
    data = input._data
    scale = _keep_mask(shape, p, data.dtype)
    if p < 1.0:
        scale *= np.asarray(1.0 / (1.0 - p), dtype=data.dtype)
    mask = Tensor._from_array(scale)
    if inplace:
        return modify_in_place(input, lambda x: x * mask)
    return input * mask


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) with probability ``p``; scale the kept ones
    by 1 / (1 - p)."""
    return _feature_dropout(input, p, training, inplace, _channel_shape("dropout1d", input, 3))


def _feature_shape(input):
    """PyTorch's feature dropout: one draw per (N, C) entry, broadcast over the rest."""
    if input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return tuple(input.shape[:2]) + (1,) * (input.dim() - 2)


def _warn_deprecated_dims(op, ndim, expected):
    """PyTorch still accepts other ranks, with this warning (feature dropout of dims 0 and 1)."""
    warnings.warn(
        f"{op}: Received a {ndim}-D input to {op}, which is deprecated and will result in an "
        f"error in a future release. To retain the behavior and silence this warning, please "
        f"use dropout instead. Note that {op} exists to provide channel-wise dropout on inputs "
        f"with {expected - 2} spatial dimensions, a channel dimension, and an optional batch "
        f"dimension (i.e. {expected - 1}D or {expected}D inputs).", stacklevel=3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) or (C, H, W) with probability ``p``. A 3-D input is
    read as (N, C, L), as PyTorch does (with its warning); other ranks drop per (dim 0, dim 1)
    entry, with PyTorch's deprecation warning."""
    ndim = input.dim()
    if ndim not in (3, 4):
        _warn_deprecated_dims("dropout2d", ndim, 4)
    if ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    return _feature_dropout(input, p, training, inplace, _feature_shape(input))


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability ``p``; any
    other rank is read as unbatched (one draw per dim-0 entry), with PyTorch's warning."""
    ndim = input.dim()
    if ndim not in (4, 5):
        _warn_deprecated_dims("dropout3d", ndim, 5)
    if ndim == 5:
        return _feature_dropout(input, p, training, inplace, _feature_shape(input))
    if ndim == 0:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    shape = (input.shape[0],) + (1,) * (ndim - 1)  # as PyTorch: unsqueeze(0), feature dropout
    return _feature_dropout(input, p, training, inplace, shape)


def _alpha_dropout(input, p, training, inplace, shape):
    """Dropped units take SELU's saturation value alpha'; then a * x + b restores the mean
    and variance of a standardised input: a = ((1 - p)(1 + p alpha'^2))^-1/2,
    b = -a alpha' p."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    data = input._data
    if p == 1.0:  # PyTorch multiplies by zero: every unit dropped, no affine correction
        return modify_in_place(input, lambda x: x * 0) if inplace else input * 0
    keep = _keep_mask(shape, p, data.dtype)
    a = ((1 - p) * (1 + p * _ALPHA_PRIME**2)) ** -0.5
    b = -a * _ALPHA_PRIME * p
    scale = Tensor._from_array(keep * np.asarray(a, dtype=data.dtype))
    shift = Tensor._from_array(((1 - keep) * (a * _ALPHA_PRIME) + b).astype(data.dtype))
    if inplace:
        return modify_in_place(input, lambda x: x * scale + shift)
    return input * scale + shift


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: keeps the input's mean and variance (see ``AlphaDropout``)."""
    return _alpha_dropout(input, p, training, inplace, tuple(input.shape))


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels of (N, C, ...)."""
    if input.dim() < 2:
        raise RuntimeError("feature_alpha_dropout: expected an input of at least 2 dims "
                           "(N, C, ...)")
    shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
    return _alpha_dropout(input, p, training, inplace, shape)


register(dropout, top=False, method=False, functional=True)
register(dropout1d, top=False, method=False, functional=True)
register(dropout2d, top=False, method=False, functional=True)
register(dropout3d, top=False, method=False, functional=True)
register(alpha_dropout, top=False, method=False, functional=True)
register(feature_alpha_dropout, top=False, method=False, functional=True)
