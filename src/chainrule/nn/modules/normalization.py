"""Normalisation layers over features: ``LayerNorm``, ``GroupNorm``, ``RMSNorm``, and across
channels: ``LocalResponseNorm``, ``CrossMapLRN2d``."""

import numbers

import numpy as np

from ...autograd import grad_mode
from ...tensor import Tensor
from .. import functional as F
from ..parameter import optional_parameter
from .module import Module

__all__ = ["LayerNorm", "GroupNorm", "RMSNorm", "LocalResponseNorm", "CrossMapLRN2d"]


def _shape_tuple(shape):
    if isinstance(shape, numbers.Integral):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def _reset_affine(weight, bias):
    with grad_mode.no_grad():
        if weight is not None:
            weight.fill_(1.0)
        if bias is not None:
            bias.zero_()


class LayerNorm(Module):
    """Standardise over the last ``len(normalized_shape)`` dimensions, then scale and shift.

    >>> norm = chainrule.nn.LayerNorm(8)
    >>> norm(chainrule.randn(2, 5, 8)).shape
    chainrule.Size([2, 5, 8])
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        shape = self.normalized_shape
        self.register_parameter("weight", optional_parameter(elementwise_affine, shape, dtype,
                                                             device))
        self.register_parameter("bias", optional_parameter(elementwise_affine and bias, shape,
                                                           dtype, device))
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self.weight, self.bias)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Standardise groups of ``num_channels / num_groups`` channels of an (N, C, *) input, then
    scale and shift per channel."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                f"({num_groups})"
            )
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.affine = eps, affine
        self.register_parameter("weight", optional_parameter(affine, num_channels, dtype, device))
        self.register_parameter("bias", optional_parameter(affine and bias, num_channels, dtype,
                                                           device))
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self.weight, self.bias)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """Divide by the root mean square over the last ``len(normalized_shape)`` dimensions, then
    scale; ``eps=None`` uses the input dtype's machine epsilon."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.register_parameter("weight", optional_parameter(
            elementwise_affine, self.normalized_shape, dtype, device))
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self.weight, None)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class LocalResponseNorm(Module):
    """x / (k + alpha * mean of x^2 over ``size`` neighbouring channels)^beta."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


def _cross_map_window(channels, size):
    """Which channels' squares PyTorch's legacy CrossMapLRN2d sums for each channel: its
    running-sum recurrence (whose windows are not all centred, nor all of ``size``),
    replayed on indicator rows so that the forward matches it exactly."""
    pre_pad = int((size - 1) / 2 + 1)
    window = np.zeros((channels, channels))
    window[0, :min(pre_pad, channels)] = 1
    for c in range(1, channels):
        window[c] = window[c - 1]
        if c < channels - pre_pad + 1:
            window[c, c + pre_pad - 1] += 1
        if c > pre_pad:
            window[c, c - pre_pad] -= 1
    return window


class CrossMapLRN2d(Module):
    """PyTorch's legacy local response norm of (N, C, H, W): x * (k + alpha / size * S)^-beta,
    with S the sum of squares over its channel windows. The gradient is the exact derivative
    of this forward (PyTorch's hand-written backward assumes centred windows)."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        if input.dim() != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D "
                             "instead.")
        window = _cross_map_window(input.shape[1], self.size).astype(input.numpy().dtype
                                                                     if not input.requires_grad
                                                                     else input.detach()
                                                                     .numpy().dtype)
        sums = (input * input).movedim(1, -1) @ Tensor._from_array(window.T)
        scale = sums.movedim(-1, 1) * (self.alpha / self.size) + self.k
        return input * scale ** -self.beta

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
