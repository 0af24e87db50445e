"""Regression losses as fused ops: squared, absolute, smooth-L1 and Huber errors between an input
and a target of its shape. Reductions and dtype rules are the shared ones of ``loss``.

``dl`` is the incoming gradient. With ``reduction='mean'`` it is divided by the number of loss
elements; with ``'none'`` it has one entry per loss element."""

import numpy as np

from ..autograd import grad_mode
from ..autograd.function import Function
from ._operands import as_tensor_arg, wrap, wrap_each
from .loss import _float_pair, _grad_scale, _reduce, _reduction
from .registry import register


class MseLoss(Function):
    """l = (x - y)^2;  dx = dl * 2 (x - y),  dy = -dx."""

    _array_forward = True

    @staticmethod
    def forward(ctx, input, target, *, reduction):
        x, y = _float_pair("mse_loss", input, target)
        ctx.save_for_backward(input, target)
        diff = x - y
        ctx.reduction, ctx.count = reduction, diff.size
        return _reduce(diff * diff, reduction, diff.size)

    @staticmethod
    def backward(ctx, grad_out):
        if not grad_mode.is_grad_enabled():
            return wrap_each(MseLoss._array_backward(ctx, grad_out._data))
        input, target = ctx.saved_tensors
        return _regression_grads(ctx, _norm(ctx) * (input - target) * grad_out)

    @staticmethod
    def _array_backward(ctx, grad):
        input, target = ctx.saved_tensors
        x, y = input._data, target._data
        if x.dtype == y.dtype == grad.dtype and x.size:
            # NOTE: not recorded (no create_graph): the same products on arrays, in the same
            # order, instead of three small ops (their overhead dominates a small network's step)
            return _regression_grads(ctx, _norm(ctx) * (x - y) * grad)
        grad = _norm(ctx) * (input - target) * wrap(grad)  # (grad mode is off here)
        return _regression_grads(ctx, grad._data)


def _norm(ctx):
    """PyTorch's factor of a squared error's gradient, 2 (divided by the count for the mean),
    applied first and in the loss's dtype, as there: (2 / n) (x - y) dl."""
    return 2 / ctx.count if ctx.reduction == "mean" else 2.0


def _regression_grads(ctx, grad):
    grad_input = grad if ctx.needs_input_grad[0] else None
    grad_target = -grad if ctx.needs_input_grad[1] else None
    return grad_input, grad_target


class L1Loss(Function):
    """l = |x - y|;  dx = dl * sign(x - y),  dy = -dx."""

    @staticmethod
    def forward(ctx, input, target, *, reduction):
        x, y = _float_pair("l1_loss", input, target)
        ctx.save_for_backward(input, target)
        diff = x - y
        ctx.reduction, ctx.count = reduction, diff.size
        return _reduce(np.abs(diff), reduction, diff.size)

    @staticmethod
    def backward(ctx, grad_out):
        input, target = ctx.saved_tensors
        grad = _grad_scale(grad_out, ctx.reduction, ctx.count) * (input - target).sign()
        return _regression_grads(ctx, grad)


class SmoothL1Loss(Function):
    """d = x - y;  l = d^2 / (2 beta) where |d| < beta, else |d| - beta / 2;
    dx = dl * clamp(d / beta, -1, 1),  dy = -dx.  beta = 0 is the L1 loss."""

    @staticmethod
    def forward(ctx, input, target, *, reduction, beta):
        x, y = _float_pair("smooth_l1_loss", input, target)
        ctx.save_for_backward(input, target)
        ctx.reduction, ctx.beta = reduction, beta
        diff = np.abs(x - y)
        ctx.count = diff.size
        if beta == 0:
            return _reduce(diff, reduction, diff.size)
        loss = np.where(diff < beta, 0.5 * diff * diff / beta, diff - 0.5 * beta)
        return _reduce(loss.astype(diff.dtype, copy=False), reduction, diff.size)

    @staticmethod
    def backward(ctx, grad_out):
        input, target = ctx.saved_tensors
        diff = input - target
        slope = diff.sign() if ctx.beta == 0 else (diff / ctx.beta).clamp(-1.0, 1.0)
        grad = _grad_scale(grad_out, ctx.reduction, ctx.count) * slope
        return _regression_grads(ctx, grad)


class HuberLoss(Function):
    """d = x - y;  l = d^2 / 2 where |d| < delta, else delta (|d| - delta / 2);
    dx = dl * clamp(d, -delta, delta),  dy = -dx."""

    @staticmethod
    def forward(ctx, input, target, *, reduction, delta):
        x, y = _float_pair("huber_loss", input, target)
        ctx.save_for_backward(input, target)
        ctx.reduction, ctx.delta = reduction, delta
        diff = np.abs(x - y)
        ctx.count = diff.size
        loss = np.where(diff < delta, 0.5 * diff * diff, delta * (diff - 0.5 * delta))
        return _reduce(loss.astype(diff.dtype, copy=False), reduction, diff.size)

    @staticmethod
    def backward(ctx, grad_out):
        input, target = ctx.saved_tensors
        slope = (input - target).clamp(-ctx.delta, ctx.delta)
        grad = _grad_scale(grad_out, ctx.reduction, ctx.count) * slope
        return _regression_grads(ctx, grad)


# -- public functions (torch.nn.functional signatures) ------------------------------------------
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error between ``input`` and ``target``."""
    reduction = _reduction("mse_loss", size_average, reduce, reduction)
    if weight is None:
        return MseLoss.apply(input, as_tensor_arg(target), reduction=reduction)
    loss = MseLoss.apply(input, as_tensor_arg(target), reduction="none")
    return _weighted("mse_loss", input, loss, weight, reduction, mean_over_weights=True)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error between ``input`` and ``target``."""
    reduction = _reduction("l1_loss", size_average, reduce, reduction)
    if weight is None:
        return L1Loss.apply(input, as_tensor_arg(target), reduction=reduction)
    loss = L1Loss.apply(input, as_tensor_arg(target), reduction="none")
    return _weighted("l1_loss", input, loss, weight, reduction, mean_over_weights=True)


def _weighted(op, input, loss, weight, reduction, mean_over_weights):
    """A regression loss weighted per element (PyTorch's optional ``weight``, of the input's
    shape). PyTorch's weighted mean divides by the summed weights for mse and l1 losses, and
    by the number of elements for the huber loss."""
    weight = as_tensor_arg(weight)
    if weight.shape != input.shape:
        raise ValueError(
            f"{op}: weight of shape {tuple(weight.shape)} must have the input's shape "
            f"{tuple(input.shape)}"
        )
    loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / weight.sum() if mean_over_weights else loss.mean()


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Squared error below ``beta``, absolute error above it."""
    reduction = _reduction("smooth_l1_loss", size_average, reduce, reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    return SmoothL1Loss.apply(input, as_tensor_arg(target), reduction=reduction,
                              beta=float(beta))


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Squared error below ``delta``, ``delta``-scaled absolute error above it."""
    reduction = _reduction("huber_loss", None, None, reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    if weight is None:
        return HuberLoss.apply(input, as_tensor_arg(target), delta=float(delta),
                               reduction=reduction)
    loss = HuberLoss.apply(input, as_tensor_arg(target), delta=float(delta), reduction="none")
    return _weighted("huber_loss", input, loss, weight, reduction, mean_over_weights=False)


# -- registration: nn.functional.X ------------------------------------------------------------
register(mse_loss, MseLoss, top=False, method=False, functional=True)
register(l1_loss, L1Loss, top=False, method=False, functional=True)
register(smooth_l1_loss, SmoothL1Loss, top=False, method=False, functional=True)
register(huber_loss, HuberLoss, top=False, method=False, functional=True)
