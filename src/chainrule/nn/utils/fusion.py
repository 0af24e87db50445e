"""``nn.utils.fuse_conv_bn_eval`` / ``fuse_linear_bn_eval``: fold an eval-mode BatchNorm's
running statistics and affine parameters into the convolution or linear layer before it, so
that one layer computes what the two did (inference and export recipes do this)."""

import copy

from ...autograd.grad_mode import no_grad
from ..parameter import Parameter

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
           "fuse_linear_bn_weights"]


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of ``conv`` whose weight and bias include ``bn`` (both in eval mode);
    ``transpose`` for a transposed convolution (output channels on dim 1)."""
    if conv.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("the BatchNorm must track running statistics to be fused")
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias,
        transpose)
    return fused


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """(weight, bias) Parameters: w * gamma / sqrt(var + eps) per output channel, and
    (b - mean) * gamma / sqrt(var + eps) + beta."""
    weight_dtype = conv_w.dtype
    bias_dtype = conv_b.dtype if conv_b is not None else weight_dtype
    with no_grad():
        conv_b = conv_b if conv_b is not None else bn_rm.new_zeros(bn_rm.shape)
        bn_w = bn_w if bn_w is not None else bn_rm.new_ones(bn_rm.shape)
        bn_b = bn_b if bn_b is not None else bn_rm.new_zeros(bn_rm.shape)
        inverse_std = (bn_rv + bn_eps).rsqrt()
        shape = ([1, -1] if transpose else [-1, 1]) + [1] * (conv_w.dim() - 2)
        weight = (conv_w * (bn_w * inverse_std).reshape(shape)).to(dtype=weight_dtype)
        bias = ((conv_b - bn_rm) * inverse_std * bn_w + bn_b).to(dtype=bias_dtype)
    return (Parameter(weight, requires_grad=conv_w.requires_grad),
            Parameter(bias, requires_grad=conv_b.requires_grad))


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` whose weight and bias include ``bn`` (both in eval mode; the
    BatchNorm has ``out_features`` features, or one)."""
    if linear.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if not (linear.out_features == bn.num_features or bn.num_features == 1):
        raise AssertionError("To fuse, linear.out_features == bn.num_features or "
                             "bn.num_features == 1")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("the BatchNorm must track running statistics to be fused")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """(weight, bias) Parameters: each output row of w times gamma / sqrt(var + eps), and
    (b - mean) * gamma / sqrt(var + eps) + beta."""
    weight_dtype = linear_w.dtype
    bias_dtype = linear_b.dtype if linear_b is not None else weight_dtype
    with no_grad():
        linear_b = linear_b if linear_b is not None else bn_rm.new_zeros(bn_rm.shape)
        scale = bn_w * (bn_rv + bn_eps).rsqrt()
        weight = linear_w * scale.unsqueeze(-1).to(dtype=weight_dtype)
        bias = ((linear_b - bn_rm) * scale + bn_b).to(dtype=bias_dtype)
    return (Parameter(weight, requires_grad=linear_w.requires_grad),
            Parameter(bias, requires_grad=linear_b.requires_grad))
